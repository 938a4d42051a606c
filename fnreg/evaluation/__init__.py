"""Turning a toolset and a task set into a score and conversation histories.

Knows agents only through :class:`~fnreg.evaluation.adapter.Adapter`; knows nothing of the trainer.
"""

from fnreg.evaluation.adapter import Adapter, TaskSetAdapter, toolset_checkout
from fnreg.evaluation.evaluators import Evaluator, extract_final_answer, get_evaluator
from fnreg.evaluation.runner import EvalResult, TaskResult, merge_results, run_tasks, shard
from fnreg.evaluation.tasks import Task, TaskSet, list_task_sets, load_task_set

__all__ = [
    "Adapter",
    "EvalResult",
    "Evaluator",
    "Task",
    "TaskResult",
    "TaskSet",
    "TaskSetAdapter",
    "extract_final_answer",
    "get_evaluator",
    "list_task_sets",
    "load_task_set",
    "merge_results",
    "run_tasks",
    "shard",
    "toolset_checkout",
]
