"""The text ReAct agent, for endpoints without native tool calling.

The model writes ``Thought`` / ``Action`` / ``Action Input`` lines (plain, or numbered as in the
paper's template: ``Action 1:`` / ``Action 1 Input:``); the agent runs the action and answers
with an ``Observation``; ``Final Answer`` ends the task. Models are sloppy about
this format, so parsing forgives: any case, markdown bold, code fences, a call written as
``name(...)``, a bare string for a one-parameter function, raw code for the python tool, and
observations the model invented itself (cut off, never trusted).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fnreg import safe_json
from fnreg.agents.base import PYTHON_TOOL, PYTHON_TOOL_NAME, Budget, Conversation, LLMAgent, ToolRunner, run_tool

_LABEL = r"^[ \t>*_`#]*{}[ \t*_`]*[:：][ \t*_]*"
_STEP = r"(?:[ \t]*\d+)?"  # the paper's template numbers its steps: "Action 1:", "Action 1 Input:"
_OBSERVATION = re.compile(_LABEL.format(r"observation" + _STEP), re.I | re.M)
_FINAL = re.compile(_LABEL.format(r"final[ \t_]*answer" + _STEP), re.I | re.M)
_ACTION = re.compile(_LABEL.format(r"action" + _STEP) + r"[ \t]*(.*)$", re.I | re.M)
_INPUT = re.compile(_LABEL.format(r"action" + _STEP + r"[ \t_]*input" + _STEP), re.I | re.M)
_FENCE = re.compile(r"^```[\w-]*\n?|\n?```\s*$")
_BOXED = re.compile(r"\\boxed\s*\{")

FORMAT = """Use exactly this format:

Thought: what to do next
Action: one tool name from [{names}]
Action Input: the arguments as a JSON object, e.g. {example}
Observation: (written by the system: the tool's result; never write it yourself)
... (Thought/Action/Action Input/Observation may repeat)
Thought: I now know the final answer
Final Answer: the answer"""


@dataclass(frozen=True)
class Step:
    """What one model reply asks for: an action with its input, a final answer, or neither."""

    action: str | None = None
    action_input: str = ""
    final_answer: str | None = None


def parse_reply(text: str) -> Step:
    """Read a ReAct reply; whatever follows an invented ``Observation:`` is ignored."""
    observed = _OBSERVATION.search(text)
    text = text[: observed.start()] if observed else text
    action = _ACTION.search(text)
    final = _FINAL.search(text)
    if action and action.group(1).strip() and (final is None or action.start() < final.start()):
        region = text[action.end() : final.start() if final else len(text)]
        name, inline = _action_name(action.group(1))
        given = _INPUT.search(region)
        return Step(action=name, action_input=_strip_fences(region[given.end() :] if given else inline))
    if final is not None:
        return Step(final_answer=text[final.end() :].strip())
    return Step()


def _action_name(raw: str) -> tuple[str, str]:
    """``evaluate_expression`` from ``**evaluate_expression**`` or ``evaluate_expression({...})``."""
    raw = raw.strip().strip("`*'\" ")
    call = re.match(r"([A-Za-z_][\w.]*)\s*\((.*)\)\s*$", raw, re.S)
    if call:
        return call.group(1), call.group(2)
    return (raw.split()[0] if raw.split() else raw).rstrip(".,;:"), ""


def _strip_fences(text: str) -> str:
    return _FENCE.sub("", text.strip()).strip()


def arguments_for(tool: dict[str, Any] | None, name: str, action_input: str) -> dict[str, Any] | str:
    """The arguments dict for a tool, or an error message saying what the model should write."""
    try:
        value = safe_json.loads(action_input) if action_input else {}
    except safe_json.JSONTooDeep as exc:
        return f"error: Action Input is {exc}; write a flat JSON object with the arguments of {name}"
    except ValueError:
        value = _first_json_object(action_input)
    if isinstance(value, dict):
        return value
    if name == PYTHON_TOOL_NAME:
        return {"code": action_input}
    params = list((tool or {}).get("function", {}).get("parameters", {}).get("properties", {}))
    if len(params) == 1:  # a bare value for a one-parameter function
        return {params[0]: value if value is not None else action_input.strip().strip("'\"")}
    example = json.dumps({p: "..." for p in params}) if params else "{}"
    return f"error: Action Input must be a JSON object with the arguments of {name}, e.g. {example}"


def _first_json_object(text: str) -> Any:
    start = text.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
        except (ValueError, RecursionError):
            start = text.find("{", start + 1)
            continue
        # raw_decode has no depth limit of its own: refuse what parsed but nests too deeply.
        return value if safe_json.nesting_depth(value, stop_after=safe_json.MAX_DEPTH) <= safe_json.MAX_DEPTH else None
    return None


class ReactAgent(LLMAgent):
    """A ReAct loop over the toolset's functions and a python tool, in plain text."""

    name = "react"

    def solve(self, prompt: str, tools: list[dict[str, Any]], runner: ToolRunner) -> Conversation:
        budget = Budget(self.limits)
        by_name = {t["function"]["name"]: t for t in [*tools, PYTHON_TOOL]}
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self._system_prompt(by_name)},
            {"role": "user", "content": prompt},
        ]
        calls = errors = 0
        last_text: str | None = None
        while (reason := budget.exceeded()) is None:
            completion = self.client.complete(messages, model=self.model, role="agent")
            budget.record(completion.usage)
            text = completion.content or ""
            step = parse_reply(text)
            kept = _OBSERVATION.split(text, maxsplit=1)[0].rstrip()
            messages.append({"role": "assistant", "content": kept})
            last_text = kept or last_text
            if step.final_answer is not None:
                return self.finish(messages, step.final_answer, "answer", budget, calls, errors)
            if step.action is None:
                if _BOXED.search(text):  # a plain answer without the format is still an answer
                    return self.finish(messages, text.strip(), "answer", budget, calls, errors)
                observation = "Invalid format: write an Action with its Action Input, or the Final Answer."
            else:
                calls += 1
                observation, ok = self._act(runner, by_name, step)
                errors += not ok
            messages.append({"role": "user", "content": f"Observation: {observation}"})
        return self.finish(messages, last_text, reason, budget, calls, errors)

    def _act(self, runner: ToolRunner, by_name: dict[str, dict[str, Any]], step: Step) -> tuple[str, bool]:
        name = step.action or ""
        arguments = arguments_for(by_name.get(name), name, step.action_input)
        if isinstance(arguments, str):
            return arguments, False
        functions = set(by_name) - {PYTHON_TOOL_NAME}
        return run_tool(runner, functions, name, arguments)

    def _system_prompt(self, by_name: dict[str, dict[str, Any]]) -> str:
        lines = [self.system, "", "Tools:"]
        for name, tool in by_name.items():
            function = tool["function"]
            params = json.dumps(function.get("parameters", {}).get("properties", {}), ensure_ascii=False)
            lines.append(f"- {name}: {function.get('description', '').strip()} Arguments: {params}")
        example = '{"code": "print(2 + 2)"}'
        lines += ["", FORMAT.format(names=", ".join(by_name), example=example)]
        return "\n".join(lines)
