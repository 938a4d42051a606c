"""The function-calling agent (the paper's "GPT-4+ agent"): native tool calls plus a python tool."""

from __future__ import annotations

from typing import Any

from fnreg.agents.base import PYTHON_TOOL, Budget, Conversation, LLMAgent, ToolRunner, run_tool
from fnreg.llm import MalformedCompletion


class ToolsAgent(LLMAgent):
    """Loops model turn → tool calls → tool results until the model answers without a tool call."""

    name = "tools"

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
                return self.finish(messages, completion.content, "answer", budget, calls, errors)
            for call in completion.tool_calls:
                calls += 1
                try:
                    output, ok = run_tool(runner, names, call.name, call.parsed_arguments())
                except MalformedCompletion as exc:
                    output, ok = f"error: {exc}", False
                errors += not ok
                messages.append({"role": "tool", "tool_call_id": call.id, "content": output})
        return self.finish(messages, _last_text(messages), reason, budget, calls, errors)


def _last_text(messages: list[dict[str, Any]]) -> str | None:
    """The last thing the assistant said, for a task stopped by a limit (it may still be right)."""
    for message in reversed(messages):
        if message.get("role") == "assistant" and message.get("content"):
            return message["content"]
    return None
