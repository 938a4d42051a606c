"""The scripted optimizer of the offline demo: a deterministic policy, not a language model.

It reads an optimizer request the way a model would: which functions List A holds (their
source is in the prompt), what List B already changed, and which changes already failed
(the failed sets are unified diffs). From that it follows a fixed storyline that exercises
every part of training: a proposal with invalid JSON that the validator sends back, add,
revise, remove, an epoch that gets worse and is rolled back, one that ties and is rolled
back, and the early stop. It keys on the functions' code (revision markers in comments),
never on the prompt's wording, and is a pure function of the request, so a resumed run
gets the same answers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fnreg.testing.server import Message, Reply, text, tool_call

CONVERT_ARGUMENTS = {
    "value": {"type": "number", "description": "The quantity to convert."},
    "from_unit": {"type": "string", "description": "Unit of the value, e.g. mile, km, pound, kg."},
    "to_unit": {"type": "string", "description": "Unit to convert to."},
}
CONVERT_DESCRIPTION = "Convert a quantity between units of length or mass (miles, km, pounds, kg)."

CONVERT_V1 = """# revision 1: miles only
factors = {("mile", "km"): 1.609344}
key = (from_unit.lower().rstrip("s"), to_unit.lower())
if key not in factors:
    raise ValueError(f"cannot convert {from_unit} to {to_unit}")
return value * factors[key]
"""
CONVERT_V2 = """# revision 2: length and mass, both directions
mile, pound = 1.609344, 0.45359237
factors = {("mile", "km"): mile, ("km", "mile"): 1 / mile, ("pound", "kg"): pound, ("kg", "pound"): 1 / pound}
key = (from_unit.lower().rstrip("s"), to_unit.lower().rstrip("s"))
if key not in factors:
    raise ValueError(f"cannot convert {from_unit} to {to_unit}")
return value * factors[key]
"""
CONVERT_V3 = """# revision 3: one table of base units
to_base = {"mile": 1.609344, "km": 1.0, "pound": 1 / 0.45359237, "kg": 1.0}
source, target = from_unit.lower().rstrip("s"), to_unit.lower().rstrip("s")
return value * to_base[source] / to_base[target]
"""
MEAN_CODE = "return sum(values) / len(values)\n"
PERCENT_CODE = "return percent / 100 * whole\n"


@dataclass(frozen=True, eq=False)
class Proposal:
    tool: str
    arguments: dict[str, Any]
    #: Text that shows in List B once this proposal was applied (default: its ``def`` line).
    marker: str | None = None

    def reply(self, *, broken: bool = False) -> Message:
        """The tool call; ``broken`` sends the schema with a trailing comma, as the reference's example had."""
        arguments = dict(self.arguments)
        if broken and isinstance(arguments.get("arguments"), str):
            arguments["arguments"] = arguments["arguments"][:-1] + ",}"
        return tool_call(self.tool, json.dumps(arguments))


def _function(tool: str, name: str, description: str, schema: dict[str, Any], code: str, reason: str) -> Proposal:
    marker = code.splitlines()[0].lstrip("# ").split(":")[0] + ":" if code.startswith("# revision") else None
    arguments = {
        "name": name,
        "description": description,
        "arguments": json.dumps(schema),
        "packages": "",
        "code": code,
    }
    return Proposal(tool, arguments | {"reason": reason}, marker)


ADD_V1 = _function(
    "add_function",
    "convert_units",
    CONVERT_DESCRIPTION,
    CONVERT_ARGUMENTS,
    CONVERT_V1,
    "The failed conversions guessed their factors (1.6 km per mile); an exact conversion function fixes them.",
)
ADD_MEAN = _function(
    "add_function",
    "mean_of",
    "Average of a list of numbers.",
    {"values": {"type": "array", "items": {"type": "number"}, "description": "The numbers."}},
    MEAN_CODE,
    "Averages may come up in future tasks.",
)
REVISE_V2 = _function(
    "revise_function",
    "convert_units",
    CONVERT_DESCRIPTION,
    CONVERT_ARGUMENTS,
    CONVERT_V2,
    "Pound conversions still fail with 'cannot convert pound to kg': add mass units and both directions.",
)
REMOVE_MEAN = Proposal("remove_function", {"name": "mean_of", "reason": "No conversation used mean_of."})
REVISE_V3 = _function(
    "revise_function",
    "convert_units",
    CONVERT_DESCRIPTION,
    CONVERT_ARGUMENTS,
    CONVERT_V3,
    "Generalise: convert through base units instead of listing every pair.",
)
ADD_PERCENT = _function(
    "add_function",
    "percent_of",
    "The given percentage of a whole.",
    {
        "percent": {"type": "number", "description": "Percentage, e.g. 15 for 15%."},
        "whole": {"type": "number", "description": "The whole amount."},
    },
    PERCENT_CODE,
    "The assistant computes percentages with ad-hoc Python each time; a function makes that reliable.",
)


def optimizer_policy(request: dict[str, Any]) -> Reply:
    """The next optimizer move for a chat-completions request carrying add/revise/remove tools."""
    messages = request.get("messages", [])
    prompt = next((m["content"] for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str)), "")
    if messages and messages[-1].get("role") == "tool":  # a re-ask after a rejected proposal
        return _corrected(messages)
    list_a, list_b = _split(prompt)
    for number, proposal in enumerate(_plan(list_a, list_b)):
        if not _done(proposal, list_b):
            return proposal.reply(broken=(proposal is ADD_V1 and number == 0))
    return text("TERMINATE")


def _plan(list_a: str, list_b: str) -> list[Proposal]:
    """This epoch's actions, chosen from the best functions (List A) and the failed attempts."""
    if "def convert_units" not in list_a:
        return [ADD_V1, ADD_MEAN]
    if "revision 1:" in list_a:
        return [REVISE_V2, REMOVE_MEAN]
    if _failed("revision 3:", list_b) and not _failed("def percent_of", list_b):
        return [ADD_PERCENT]
    if "revision 2:" in list_a and not _failed("revision 3:", list_b):
        return [REVISE_V3]
    return []


def _done(proposal: Proposal, list_b: str) -> bool:
    """Whether List B already shows this proposal's effect (it was accepted earlier in the step)."""
    name = proposal.arguments["name"]
    if proposal.tool == "remove_function":
        return re.search(rf"remov\w*[^\n]*\b{name}\b", list_b, re.I) is not None
    marker = proposal.marker or f"def {name}("
    return any(marker in line and not line.startswith(("+", "-")) for line in list_b.splitlines())


def _failed(marker: str, list_b: str) -> bool:
    """Whether a failed set (a unified diff after List B) added this code."""
    return any(line.startswith("+") and marker in line for line in list_b.splitlines())


def _split(prompt: str) -> tuple[str, str]:
    """(List A part, everything from List B on): the paper's names for the best and current sets."""
    b = re.search(r"^\W*list\s*b\b", prompt, re.I | re.M)
    return (prompt[: b.start()], prompt[b.start() :]) if b else (prompt, "")


def _corrected(messages: list[dict[str, Any]]) -> Reply:
    """Send again, valid this time, the proposal that was sent back with an error."""
    for message in reversed(messages):
        for call in message.get("tool_calls") or []:
            name = call["function"]["name"]
            raw = call["function"]["arguments"]
            repaired = raw.replace(',}"', '}"')
            return tool_call(name, repaired)
    return text("TERMINATE")
