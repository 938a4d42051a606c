"""What every agent shares: the conversation record, the limits, the tool runner it is given.

Agents know nothing of the trainer, of git or of the sandbox's implementation: they get a
prompt, the tools' OpenAI schemas and a :class:`ToolRunner` (in practice a sandbox session),
and return a :class:`Conversation`. The task's evaluator, not the agent, decides whether the
answer is right.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from fnreg.agents.config import AgentConfig
from fnreg.config import default
from fnreg.llm import Usage

if TYPE_CHECKING:
    from fnreg.llm import LLMClient

StopReason = Literal["answer", "turn_limit", "timeout", "token_limit"]

PYTHON_TOOL_NAME = "python"
PYTHON_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": PYTHON_TOOL_NAME,
        "description": (
            "Run Python code in a persistent notebook (variables survive between calls of this task) "
            "and return what it prints and the value of its last expression. "
            "The toolset's functions can be imported from the package named in the system message."
        ),
        "parameters": {
            "type": "object",
            "properties": {"code": {"type": "string", "description": "Python source to run."}},
            "required": ["code"],
        },
    },
}


class ToolResult(Protocol):
    """What running a tool returns (the sandbox's ``ExecResult`` is one)."""

    ok: bool

    def as_tool_output(self) -> str: ...


class ToolRunner(Protocol):
    """Runs the toolset's functions and Python code for one task (a sandbox session)."""

    def call_function(self, name: str, arguments: dict[str, Any]) -> ToolResult: ...

    def run_python(self, code: str) -> ToolResult: ...


@dataclass(frozen=True)
class AgentLimits:
    """When an agent gives up on a task; hitting one is a failed task, never a hang."""

    #: Model replies per task.
    max_turns: int = default(AgentConfig, "max_turns")
    #: Wall-clock seconds per task (checked between turns; each LLM and tool call has its own timeout).
    task_timeout: float = default(AgentConfig, "task_timeout")
    #: Prompt + completion tokens per task.
    max_tokens: int = 100_000


@dataclass
class Conversation:
    """Everything that happened on one task: messages in OpenAI chat format, the answer, why it stopped."""

    messages: list[dict[str, Any]]
    final_answer: str | None
    stop_reason: StopReason
    usage: Usage = field(default_factory=Usage)
    #: Tool calls made, and how many of them failed (raised, timed out, unknown tool...).
    tool_calls: int = 0
    tool_errors: int = 0
    duration: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "final_answer": self.final_answer,
            "stop_reason": self.stop_reason,
            "usage": self.usage.to_json(),
            "tool_calls": self.tool_calls,
            "tool_errors": self.tool_errors,
            "duration": round(self.duration, 3),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conversation:
        return cls(
            messages=data["messages"],
            final_answer=data.get("final_answer"),
            stop_reason=data.get("stop_reason", "answer"),
            usage=Usage.from_json(data.get("usage", {})),
            tool_calls=data.get("tool_calls", 0),
            tool_errors=data.get("tool_errors", 0),
            duration=data.get("duration", 0.0),
        )


class Agent(Protocol):
    """Solves one task with a toolset; the trainer knows agents only through this."""

    name: str

    def solve(self, prompt: str, tools: list[dict[str, Any]], runner: ToolRunner) -> Conversation: ...


class LLMAgent:
    """What both agents share: the client, their limits and model, the system message."""

    name = "agent"

    def __init__(
        self,
        client: LLMClient,
        *,
        limits: AgentLimits = AgentLimits(),
        model: str | None = None,
        package: str | None = None,
        toolset: str | None = None,
        system: str | None = None,
    ) -> None:
        self.client = client
        self.limits = limits
        self.model = model
        #: The system message: ``system`` (a task set's ``system_prompt``) or fnreg's own.
        self.system = system if system is not None else system_message(package, toolset)

    @staticmethod
    def finish(
        messages: list[dict[str, Any]], answer: str | None, reason: StopReason, budget: Budget, calls: int, errors: int
    ) -> Conversation:
        return Conversation(
            messages=messages,
            final_answer=answer,
            stop_reason=reason,
            usage=budget.usage,
            tool_calls=calls,
            tool_errors=errors,
            duration=budget.elapsed,
        )


class Budget:
    """Turn, time and token limits of one task, checked between turns."""

    def __init__(self, limits: AgentLimits) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self.usage = Usage()
        self.turns = 0

    def exceeded(self) -> StopReason | None:
        if self.turns >= self.limits.max_turns:
            return "turn_limit"
        if time.monotonic() - self.started > self.limits.task_timeout:
            return "timeout"
        if self.usage.prompt_tokens + self.usage.completion_tokens > self.limits.max_tokens:
            return "token_limit"
        return None

    def record(self, usage: Usage) -> None:
        self.turns += 1
        self.usage = self.usage + usage

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def run_tool(runner: ToolRunner, function_names: set[str], name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
    """Run one tool call; (text the model sees, ok). Tool errors are results, as a user would see them."""
    if name == PYTHON_TOOL_NAME:
        code = arguments.get("code")
        if not isinstance(code, str):
            return "error: the python tool needs a string argument `code`", False
        result = runner.run_python(code)
    elif name in function_names:
        result = runner.call_function(name, arguments)
    else:
        available = ", ".join(sorted(function_names | {PYTHON_TOOL_NAME}))
        return f"error: there is no tool named {name!r}; available tools: {available}", False
    return result.as_tool_output(), result.ok


def system_message(package: str | None, toolset: str | None) -> str:
    where = (
        f" They are also importable in the python tool: `from {package}.{toolset} import <name>`."
        if package and toolset
        else ""
    )
    return (
        "You are a careful problem solver. Use the available functions and the python tool when they help; "
        "check their results." + where + " When you are done, reply with the final answer and no tool call."
    )
