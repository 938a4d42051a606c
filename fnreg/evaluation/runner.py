"""Running an agent over many tasks at once, and the records that come back.

``run_tasks`` yields each task's result as it finishes (so a caller can show progress
without handing a callback down), ``concurrency`` tasks at a time on threads: the work is
waiting for the LLM and for sandbox workers, never Python computation.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fnreg import safe_json
from fnreg.agents.base import Agent, Conversation, ToolResult
from fnreg.errors import FnregError, InputError
from fnreg.evaluation.evaluators import Evaluator
from fnreg.evaluation.tasks import Task
from fnreg.llm import Usage
from fnreg.sandbox import Sandbox


@dataclass
class TaskResult:
    """One task's outcome: the conversation, the answer and the evaluator's verdict."""

    task_id: str
    prompt: str
    gold: str
    answer: str | None
    correct: bool
    #: None when correct; else "wrong_answer", "no_answer" or the agent's stop reason ("turn_limit"...).
    failure: str | None
    conversation: Conversation
    #: The task's question alone (``prompt`` is it rendered into the task set's template).
    question: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "question": self.question,
            "prompt": self.prompt,
            "gold": self.gold,
            "answer": self.answer,
            "correct": self.correct,
            "failure": self.failure,
            "conversation": self.conversation.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskResult:
        return cls(
            task_id=data["task_id"],
            prompt=data.get("prompt", ""),
            gold=data["gold"],
            answer=data.get("answer"),
            correct=bool(data["correct"]),
            failure=data.get("failure"),
            conversation=Conversation.from_json(data["conversation"]),
            question=data.get("question", ""),
        )


@dataclass
class EvalResult:
    """The results of one evaluation, in task order."""

    results: list[TaskResult]
    wall_time: float = 0.0
    #: True when stopped early (Ctrl-C): ``results`` holds only the tasks that finished.
    interrupted: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def correct(self) -> int:
        return sum(r.correct for r in self.results)

    @property
    def score(self) -> float:
        """Share of tasks answered correctly (0 for no tasks, never a division by zero)."""
        return self.correct / self.total if self.total else 0.0

    @property
    def usage(self) -> Usage:
        return sum((r.conversation.usage for r in self.results), Usage())

    def failures(self) -> Counter[str]:
        return Counter(r.failure for r in self.results if r.failure)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.meta,
            "score": self.score,
            "correct": self.correct,
            "total": self.total,
            "interrupted": self.interrupted,
            "wall_time": round(self.wall_time, 3),
            "usage": self.usage.to_json(),
            "results": [r.to_json() for r in self.results],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvalResult:
        meta = {k: v for k, v in data.items() if k not in _COMPUTED}
        return cls(
            results=[TaskResult.from_json(r) for r in data["results"]],
            wall_time=data.get("wall_time", 0.0),
            interrupted=data.get("interrupted", False),
            meta=meta,
        )

    @classmethod
    def read(cls, path: str | Path) -> EvalResult:
        """The results file ``fnreg eval -o`` wrote; anything else is one :class:`InputError` line."""
        not_results = f"{path} is not a results file of `fnreg eval -o`"
        try:
            data = safe_json.loads(Path(path).read_bytes())
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:  # not JSON, not UTF-8, nested too deeply
            raise InputError(f"{not_results}: {' '.join(str(exc).split())[:120]}") from None
        try:
            return cls.from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputError(f"{not_results}: it lacks the fields that command writes") from None


_COMPUTED = {"score", "correct", "total", "interrupted", "wall_time", "usage", "results"}


def merge_results(parts: Iterable[EvalResult]) -> EvalResult:
    """One result from shards; a task evaluated twice is an error, not a double count."""
    parts = list(parts)
    seen: dict[str, TaskResult] = {}
    for part in parts:
        for result in part.results:
            if result.task_id in seen:
                raise FnregError(f"task {result.task_id!r} appears in more than one shard; merge each shard once")
            seen[result.task_id] = result
    meta = dict(parts[0].meta) if parts else {}
    meta.pop("shard", None)
    return EvalResult(
        results=sorted(seen.values(), key=lambda r: r.task_id),
        wall_time=max((p.wall_time for p in parts), default=0.0),
        interrupted=any(p.interrupted for p in parts),
        meta=meta,
    )


def shard(tasks: Sequence[Task], spec: str | None) -> list[Task]:
    """The ``i/n`` slice of ``tasks`` (every n-th task from the i-th, 1-based), deterministic."""
    if not spec:
        return list(tasks)
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise FnregError(f"--shard {spec!r} must look like 2/4 (the 2nd of 4 shards)") from None
    if not 1 <= index <= count:
        raise FnregError(f"--shard {spec!r}: the shard number must be between 1 and {count}")
    return list(tasks)[index - 1 :: count]


class _LazySession:
    """A sandbox session taken on the first tool call: tasks that call no tool hold no worker."""

    def __init__(self, sandbox: Sandbox | None) -> None:
        self._sandbox = sandbox
        self._context: Any = None
        self._session: Any = None

    def _get(self) -> Any:
        if self._sandbox is None:
            raise FnregError("this evaluation has no sandbox, so tools cannot run")
        if self._session is None:
            self._context = self._sandbox.session()
            self._session = self._context.__enter__()
        return self._session

    def call_function(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        return self._get().call_function(name, arguments)

    def run_python(self, code: str) -> ToolResult:
        return self._get().run_python(code)

    def close(self) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)


def run_one(
    task: Task,
    *,
    agent: Agent,
    check: Evaluator,
    prompt_template: str,
    tools: list[dict[str, Any]],
    sandbox: Sandbox | None,
) -> TaskResult:
    """Solve one task and judge the answer."""
    prompt = task.render(prompt_template)
    runner = _LazySession(sandbox)
    try:
        conversation = agent.solve(prompt, tools, runner)
    finally:
        runner.close()
    answer = conversation.final_answer
    if conversation.stop_reason != "answer":
        correct, failure = False, conversation.stop_reason
    elif not answer or not answer.strip():
        correct, failure = False, "no_answer"
    else:
        correct = check(answer, task.answer)
        failure = None if correct else "wrong_answer"
    return TaskResult(task.id, prompt, task.answer, answer, correct, failure, conversation, question=task.question)


Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


def run_tasks(
    tasks: Sequence[Item],
    solve: Callable[[Item], Outcome],
    *,
    concurrency: int = 1,
) -> Iterator[Outcome]:
    """Yield ``solve(task)`` for every task as each finishes, ``concurrency`` at a time.

    Closing the iterator (or Ctrl-C while iterating) drops the tasks not yet started; an
    exception from one task (an LLM outage, a sandbox failure) stops the rest and propagates.
    The threads are daemons: a task still waiting for the LLM when the caller gives up never
    holds the process open (an executor's threads are joined at exit, so Ctrl-C during a slow
    request would wait for it).
    """
    if concurrency < 1:
        raise FnregError(f"concurrency must be at least 1, got {concurrency}")
    pending: deque[Item] = deque(tasks)
    total = len(pending)
    finished: queue.SimpleQueue[tuple[Outcome | None, BaseException | None]] = queue.SimpleQueue()

    def work() -> None:
        while True:
            try:
                task = pending.popleft()  # atomic: each task is taken once
            except IndexError:
                return
            try:
                finished.put((solve(task), None))
            except BaseException as exc:  # handed to the caller's thread, which raises it
                finished.put((None, exc))

    for index in range(min(concurrency, max(1, total))):
        threading.Thread(target=work, name=f"fnreg-task-{index}", daemon=True).start()
    try:
        for _ in range(total):
            result, error = finished.get()
            if error is not None:
                raise error
            assert result is not None
            yield result
    finally:
        pending.clear()  # the threads stop after the task each one is running
