"""Finding the final answer in a model's response: the last ``\\boxed{...}``, a stated answer, a number."""

from __future__ import annotations

import re

__all__ = ["extract_final_answer", "last_boxed"]

_BOX_COMMANDS = ("\\boxed", "\\fbox")
_NUMBER = r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+"
_LAST_NUMBER = re.compile(rf"(?:{_NUMBER})(?:\s*/\s*(?:{_NUMBER}))?")
_FINAL_ANSWER = re.compile(r"final\s+answer\s*(?:is\s*)?\**\s*[:：]\s*\**\s*(?P<ans>[^\n]*\S)", re.I)
_ANSWER_IS = re.compile(r"answer\s+is\s*[:：]?\s*\**\s*(?P<ans>[^\n]*\S)", re.I)
_SENTENCE_END = re.compile(r"\.(?:\s|$)")


def extract_final_answer(text: str) -> str:
    """The final answer in a response.

    The last ``\\boxed{...}`` (or ``\\fbox``), else the rest of a ``Final Answer: ...`` line,
    else what follows the last "answer is", else the last number, else the stripped text.
    """
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed
    for pattern in (_FINAL_ANSWER, _ANSWER_IS):
        matches = list(pattern.finditer(text))
        if matches:
            answer = _clean_stated_answer(matches[-1].group("ans"))
            if answer:
                return answer
    numbers = _LAST_NUMBER.findall(text)
    if numbers:
        return numbers[-1]
    return text.strip()


def last_boxed(text: str) -> str | None:
    """Content of the last complete ``\\boxed``/``\\fbox`` (balanced braces), if any."""
    end = len(text)
    while True:
        start = max(text.rfind(cmd, 0, end) for cmd in _BOX_COMMANDS)
        if start < 0:
            return None
        command = next(c for c in _BOX_COMMANDS if text.startswith(c, start))
        content = _box_argument(text, start + len(command))
        if content is not None:
            return content.strip()
        end = start  # unbalanced (a truncated reply): try an earlier box


def _box_argument(text: str, pos: int) -> str | None:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    if pos >= len(text):
        return None
    if text[pos] != "{":
        # ``\boxed 5``: TeX takes the next token.
        token = re.match(r"[^\s$]+", text[pos:])
        return token.group(0) if token else None
    depth = 0
    for i in range(pos, len(text)):
        if text[i] == "{" and text[i - 1] != "\\":
            depth += 1
        elif text[i] == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[pos + 1 : i]
    return None


def _clean_stated_answer(answer: str) -> str:
    # "The final answer is $5$. I hope it is correct." -> "$5$"
    inner = list(_ANSWER_IS.finditer(answer))
    if inner:
        answer = inner[-1].group("ans")
    cut = _SENTENCE_END.search(answer)
    if cut:
        answer = answer[: cut.start()]
    return answer.strip().strip("*").strip()
