"""The AgentOptimizer: learns an agent's functions as versioned source (paper Algorithm 1).

    optimizer = AgentOptimizer(client, max_actions=3, prompt_budget=96_000)
    result = optimizer.step(registry, "math", OptimizerInputs(best_sources, 0.55, histories, failures))
    result.applied    # one commit per accepted action

AG2's ``AgentOptimizer`` API lives above training, in :mod:`fnreg.compat.ag2`: it keeps or rolls
back sets the trainer's way, which this package knows nothing of.
"""

from fnreg.optimizer.errors import MissingVerdict, NothingRecorded, OptimizerError
from fnreg.optimizer.inputs import Experience, FailedSet, OptimizerInputs
from fnreg.optimizer.optimizer import AgentOptimizer
from fnreg.optimizer.results import Rejection, StepResult
from fnreg.optimizer.tools import ACTION_TOOLS, EXAMPLE_ACTION

__all__ = [
    "ACTION_TOOLS",
    "AgentOptimizer",
    "EXAMPLE_ACTION",
    "Experience",
    "FailedSet",
    "MissingVerdict",
    "NothingRecorded",
    "OptimizerError",
    "OptimizerInputs",
    "Rejection",
    "StepResult",
]
