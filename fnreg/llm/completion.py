"""The result of a chat completion, parsed from the raw response JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fnreg import safe_json

from .errors import MalformedCompletion
from .usage import Usage

__all__ = ["Completion", "ToolCall", "parse_completion"]


@dataclass
class ToolCall:
    """One function call the model asked for; ``arguments`` is the raw JSON text it sent."""

    id: str
    name: str
    arguments: str

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; :class:`MalformedCompletion` if they are not a JSON object."""
        if not self.arguments.strip():
            return {}  # some servers send "" for a call without parameters
        try:
            value = safe_json.loads(self.arguments)
        except json.JSONDecodeError as exc:
            raise MalformedCompletion(
                f"arguments of tool call {self.name!r} are not valid JSON ({exc.msg} at position {exc.pos}): "
                f"{_clip(self.arguments)}"
            ) from None
        except ValueError as exc:  # nested too deeply, or a number too long to convert
            raise MalformedCompletion(
                f"arguments of tool call {self.name!r} are not usable JSON ({_clip(str(exc))}): {_clip(self.arguments)}"
            ) from None
        if not isinstance(value, dict):
            raise MalformedCompletion(
                f"arguments of tool call {self.name!r} must be a JSON object, got {type(value).__name__}: "
                f"{_clip(self.arguments)}"
            )
        return value

    def message(self) -> dict[str, Any]:
        """The OpenAI-format ``tool_calls`` entry."""
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass
class Completion:
    """An assistant turn: text and/or tool calls, with its usage and where it came from."""

    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    cached: bool = False

    def message(self) -> dict[str, Any]:
        """The assistant message as an OpenAI-format dict, ready to append to the conversation."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            # Endpoints reject an empty tool_calls list, so the key is only present when used.
            message["tool_calls"] = [call.message() for call in self.tool_calls]
        elif self.content is None:
            message["content"] = ""
        return message


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tool_calls(message: dict[str, Any], fallback_id: str) -> list[ToolCall]:
    raw_calls = message.get("tool_calls") or []
    if not raw_calls and isinstance(message.get("function_call"), dict):
        raw_calls = [{"function": message["function_call"]}]  # the legacy single-function format
    if not isinstance(raw_calls, list):
        raise MalformedCompletion(f"tool_calls must be a list, got {type(raw_calls).__name__}")
    calls = []
    for i, raw in enumerate(raw_calls):
        function = raw.get("function") if isinstance(raw, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise MalformedCompletion(f"tool call {i} has no function name: {_clip(json.dumps(raw))}")
        arguments = function.get("arguments")
        if arguments is None:
            arguments = "{}"
        elif not isinstance(arguments, str):
            arguments = json.dumps(arguments)  # some local servers send an object, not its JSON text
        # Local servers may omit ids; the follow-up tool message needs one that matches.
        call_id = raw.get("id") or f"call_{fallback_id}_{i}"
        calls.append(ToolCall(id=str(call_id), name=function["name"], arguments=arguments))
    return calls


def parse_completion(response: Any, *, fallback_id: str = "0") -> tuple[Completion, dict[str, int] | None]:
    """The first choice of a chat-completion response, and its ``usage`` block if present.

    Raises :class:`MalformedCompletion` when ``response`` is not a completion with a message.
    Usage and cost are filled in by the client.
    """
    if not isinstance(response, dict):
        raise MalformedCompletion(f"the response is not a JSON object: {_clip(json.dumps(response))}")
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices:
        detail = response.get("error") or _clip(json.dumps(response))
        raise MalformedCompletion(f"the response has no choices: {detail}")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise MalformedCompletion(f"the first choice has no message: {_clip(json.dumps(choice))}")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        content = json.dumps(content)
    completion = Completion(
        content=content,
        tool_calls=_tool_calls(message, fallback_id),
        finish_reason=choice.get("finish_reason"),
        model=str(response.get("model") or ""),
    )
    usage = response.get("usage")
    return completion, usage if isinstance(usage, dict) else None
