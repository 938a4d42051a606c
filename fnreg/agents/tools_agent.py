"""The function-calling agent (the paper's "GPT-4+ agent"): native tool calls plus a python tool."""

from __future__ import annotations

from typing import Any

from fnreg.agents.base import (
    PYTHON_TOOL,
    AgentLimits,
    Budget,
    Conversation,
    ToolRunner,
    run_tool,
    system_message,
)
from fnreg.llm import LLMClient, MalformedCompletion


class ToolsAgent:
    """Loops model turn → tool calls → tool results until the model answers without a tool call."""

    name = "tools"

    def __init__(
        self,
        client: LLMClient,
        *,
        limits: AgentLimits = AgentLimits(),
        model: str | None = None,
        package: str | None = None,
        toolset: str | None = None,
    ) -> None:
        self.client = client
        self.limits = limits
        self.model = model
        self.system = system_message(package, toolset)

    def solve(self, prompt: str, tools: list[dict[str, Any]], runner: ToolRunner) -> Conversation:
        """Run one task to a final answer or a limit."""
        budget = Budget(self.limits)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self.system},
            {"role": "user", "content": prompt},
        ]
        all_tools = [*tools, PYTHON_TOOL]
        names = {t["function"]["name"] for t in tools}
        calls = errors = 0
        while (reason := budget.exceeded()) is None:
            completion = self.client.complete(messages, tools=all_tools, model=self.model, role="agent")
            budget.record(completion.usage)
            messages.append(completion.message())
            if not completion.tool_calls:
                return self._finish(messages, completion.content, "answer", budget, calls, errors)
            for call in completion.tool_calls:
                calls += 1
                try:
                    output, ok = run_tool(runner, names, call.name, call.parsed_arguments())
                except MalformedCompletion as exc:
                    output, ok = f"error: {exc}", False
                errors += not ok
                messages.append({"role": "tool", "tool_call_id": call.id, "content": output})
        return self._finish(messages, _last_text(messages), reason, budget, calls, errors)

    @staticmethod
    def _finish(messages, answer, reason, budget: Budget, calls: int, errors: int) -> Conversation:
        return Conversation(
            messages=messages,
            final_answer=answer,
            stop_reason=reason,
            usage=budget.usage,
            tool_calls=calls,
            tool_errors=errors,
            duration=budget.elapsed,
        )


def _last_text(messages: list[dict[str, Any]]) -> str | None:
    """The last thing the assistant said, for a task stopped by a limit (it may still be right)."""
    for message in reversed(messages):
        if message.get("role") == "assistant" and message.get("content"):
            return message["content"]
    return None
