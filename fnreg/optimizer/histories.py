"""Conversation histories as the optimizer reads them: compact, clipped, and in priority order.

The reference pastes ``str(list_of_dicts)`` of every conversation. Here each one is a short
transcript: messages longer than ``message_chars`` keep their head and tail around a visible
``[... N characters truncated ...]`` marker (a traceback's last line is usually the useful
part of a tool output), and a conversation longer than ``history_chars`` keeps its first
message and its last ones; unless the optimizer cuts only when over budget (``clip =
"over_budget"``), which renders them whole first. The agent's system prompt, identical in
nearly every conversation, is shown once instead of once per conversation.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fnreg import safe_json
from fnreg.optimizer.inputs import Experience

MESSAGE_CHARS = 1_500
HISTORY_CHARS = 6_000
FAILED_IDS_SHOWN = 100


def clip(text: str, limit: int | None) -> str:
    """``text`` cut to about ``limit`` characters, keeping head and tail around a marker (None: whole)."""
    if limit is None or len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    omitted = len(text) - head - tail
    return f"{text[:head]}\n[... {omitted} characters truncated ...]\n{text[len(text) - tail:]}"


def label(index: int, experience: Experience) -> str:
    """How the prompt names a conversation: ``#12`` or ``#12 (task alg-7)``, 1-based."""
    return f"#{index + 1}" + (f" (task {experience.task_id})" if experience.task_id else "")


def short_id(index: int, experience: Experience) -> str:
    """The id the statistics list: the task id, else the conversation number."""
    return experience.task_id or f"#{index + 1}"


def priority_order(histories: Sequence[Experience]) -> list[int]:
    """Indices of failed conversations first, then successful ones, each in input order."""
    failed = [i for i, h in enumerate(histories) if not h.satisfied]
    solved = [i for i, h in enumerate(histories) if h.satisfied]
    return failed + solved


def shared_system_prompt(histories: Sequence[Experience]) -> str | None:
    """The system prompt most conversations open with, if at least two share it."""
    openings = Counter(
        _text(h.messages[0].get("content")) for h in histories if h.messages and h.messages[0].get("role") == "system"
    )
    if not openings:
        return None
    prompt, count = openings.most_common(1)[0]  # ties: the first seen, so the choice is deterministic
    return prompt if count >= 2 else None


@dataclass(frozen=True)
class HistoryRenderer:
    """Renders one conversation as a clipped transcript."""

    shared_system: str | None = None
    #: Limits in characters; None: nothing is cut (the request is under its budget whole).
    message_chars: int | None = MESSAGE_CHARS
    history_chars: int | None = HISTORY_CHARS
    #: Add the agent's final answer and the ground truth after each conversation.
    show_answers: bool = False

    def render(self, index: int, experience: Experience) -> str:
        verdict = "SOLVED" if experience.satisfied else "FAILED"
        blocks = list(self._blocks(experience.messages))
        body = "\n".join(_fit_blocks(blocks, self.history_chars)) or "(no messages)"
        if self.show_answers:
            body += "\n" + self._answers(experience)
        return f"### Conversation {label(index, experience)}: {verdict}\n{body}"

    def _answers(self, experience: Experience) -> str:
        answer = self._clip(experience.answer) if experience.answer and experience.answer.strip() else "(none)"
        gold = self._clip(experience.gold) if experience.gold is not None else "(unknown)"
        return f"[final answer] {answer}\n[correct answer] {gold}"

    def _blocks(self, messages: Sequence[Mapping[str, Any]]) -> Iterator[str]:
        call_names: dict[str, str] = {}  # tool messages carry only the call id
        for position, message in enumerate(messages):
            role = str(message.get("role", "?"))
            content = _text(message.get("content"))
            if role == "system":
                if position == 0 and content == self.shared_system:
                    continue  # shown once above the conversations
                yield f"[system] {self._clip(content)}"
            elif role == "assistant":
                if content.strip():
                    yield f"[assistant] {self._clip(content)}"
                for call in message.get("tool_calls") or ():
                    function = call.get("function", {}) if isinstance(call, Mapping) else {}
                    name = str(function.get("name", "?"))
                    call_names[str(call.get("id", ""))] = name
                    yield f"[assistant calls {name}] {self._arguments(function.get('arguments'))}"
                if isinstance(message.get("function_call"), Mapping):  # the legacy single-call format
                    function = message["function_call"]
                    yield f"[assistant calls {function.get('name', '?')}] {self._arguments(function.get('arguments'))}"
            elif role in ("tool", "function"):
                name = call_names.get(str(message.get("tool_call_id", ""))) or message.get("name") or "tool"
                yield f"[{name} returned] {self._clip(content)}"
            else:
                yield f"[{role}] {self._clip(content)}"

    def _clip(self, text: str) -> str:
        return clip(text.strip(), self.message_chars)

    def _arguments(self, raw: Any) -> str:
        """Arguments readable as code: multi-line strings as blocks, the rest as JSON."""
        try:
            value = safe_json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            return self._clip(str(raw))
        if not isinstance(value, Mapping):
            return self._clip(json.dumps(value, ensure_ascii=False))
        parts = []
        for key, item in value.items():
            if isinstance(item, str) and "\n" in item:
                parts.append(f"\n{key}:\n{item.strip()}")
            else:
                parts.append(f"{key}={json.dumps(item, ensure_ascii=False)}")
        return self._clip(" ".join(parts).strip())


def _fit_blocks(blocks: list[str], limit: int | None) -> list[str]:
    """The first block (the task) and as many of the last blocks as fit in ``limit`` characters."""
    if limit is None or sum(len(b) + 1 for b in blocks) <= limit:
        return blocks
    used = len(blocks[0]) + 1
    tail: list[str] = []
    for block in reversed(blocks[1:]):
        if used + len(block) + 1 > limit:
            break
        tail.append(block)
        used += len(block) + 1
    omitted = len(blocks) - 1 - len(tail)
    return [blocks[0], f"[... {omitted} messages omitted ...]", *reversed(tail)]


def _text(content: Any) -> str:
    """Message content as text (content parts joined, images named)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, Mapping) and part.get("type") == "image_url":
                parts.append("[image]")
            else:
                parts.append(json.dumps(part, ensure_ascii=False, default=str))
        return "\n".join(parts)
    return json.dumps(content, ensure_ascii=False, default=str)


def statistics(histories: Sequence[Experience]) -> str:
    """Per-task outcomes, compressed: counts and the ids of the failed tasks (truncated)."""
    total = len(histories)
    if total == 0:
        return "No conversations were recorded with List A."
    failed = [short_id(i, h) for i, h in enumerate(histories) if not h.satisfied]
    solved = total - len(failed)
    lines = [
        f"Per-task results with List A (1 = the user was satisfied, 0 = not): {solved} of {total} tasks "
        f"scored 1 ({solved / total:.1%}), {len(failed)} scored 0."
    ]
    if failed:
        shown = ", ".join(failed[:FAILED_IDS_SHOWN])
        more = f" and {len(failed) - FAILED_IDS_SHOWN} more" if len(failed) > FAILED_IDS_SHOWN else ""
        lines.append(f"Tasks that scored 0: {shown}{more}.")
    return "\n".join(lines)
