"""The optimizer's request (paper §3.2): what it is told, and how it is kept inside a token budget.

Two messages: a fixed system message (role, the four choices and their principles, the
worked example) and a user message with the data: List A with its success rate, List B,
the failed sets (ascending score, as diffs against List A), the best epoch's conversations
and the per-task statistics. Everything is plain string formatting over the inputs in a
fixed order, so the same inputs give a byte-identical request (the response cache answers
a resumed run), and a roll-back, a new failure record, a rejected proposal or the next step
number changes it (so the cache never replays a failed proposal, nor a step that changed
nothing). With ``clip="always"`` (fnreg's default, cheaper) long messages, conversations and
old failed sets are cut; with ``"over_budget"`` (the paper preset) the request goes whole when
it fits the budget and is cut only when it does not.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fnreg.llm import count_message_tokens, count_tokens
from fnreg.optimizer.errors import OptimizerError
from fnreg.optimizer.histories import HistoryRenderer, clip, priority_order, shared_system_prompt, statistics
from fnreg.optimizer.inputs import FailedSet, OptimizerInputs
from fnreg.optimizer.results import Rejection
from fnreg.optimizer.tools import example_json

MAX_FAILED_SETS = 5
FAILED_DIFF_CHARS = 6_000
REJECTION_CHARS = 600
# No tokenizer packs more characters than this into one token of ordinary text or code.
_MOST_CHARS_PER_TOKEN = 8
# Stop looking for a conversation that still fits after this many in a row did not.
MAX_CONSECUTIVE_MISSES = 32

SYSTEM_PROMPT = f"""You improve the functions (tools) of an AI assistant. The assistant solves tasks by calling the functions in its list; from its recorded conversations you learn which functions help, which fail and which are missing, and you change the list one action at a time.

In each reply, do exactly one of these four things:
1. Revise one function of List B (call revise_function).
2. Remove one function of List B (call remove_function).
3. Add one new function to List B (call add_function).
4. Reply with the single word TERMINATE, without a tool call, when List B needs no further change. TERMINATE ends the current step at once, also after an invalid proposal: List B is then evaluated as it is.

Principles for revising:
- Start from the failed tasks and the errors their conversations show; improve the functions those conversations used, or should have used.
- A call can fail because of the arguments the assistant passed or because of the implementation. Prefer fixing the implementation so that natural calls succeed: accept reasonable input forms and return clear error messages.
- Leave a function alone if it works and matters for the solved tasks; revise only where the conversations show a need.
- A NameError often means the name in the code and the name the assistant called differ: make them agree.
Principles for removing:
- Remove only a function that future tasks will not need (never used, misleading, or superseded).
Principles for adding:
- Add a function general enough for future tasks of this kind, not only the ones shown: one that answers a whole class of questions, or a step that recurs in them.
- Generalise: every task-specific value, string or name becomes a parameter.
- A tested function that replaces Python code the assistant keeps writing from scratch also helps.
Principles for TERMINATE:
- Only when you are confident that List B is as good as you can make it; needless changes can hurt future tasks.

A function has five parts: its name, a description, its arguments (the JSON schema of its parameters, encoded as a string), the packages it imports, and its code. Packages are recorded, never installed: prefer the standard library and packages the existing functions already use. The assistant may also have built-in tools (such as a Python interpreter) that are not in the lists and cannot be changed.

Example arguments of an add_function call that could help an assistant solving MATH problems:
{example_json()}"""


def render_sources(sources: Mapping[str, str]) -> str:
    """Function modules in name order, each as a fenced block of its source."""
    if not sources:
        return "(no functions)"
    return "\n\n".join(f"### {name}\n```python\n{sources[name].rstrip()}\n```" for name in sorted(sources))


def render_list_b(best: Mapping[str, str], current: Mapping[str, str], actions_taken: int) -> str:
    """List B: "identical to List A", or only what differs from it (in full, so it can be revised)."""
    header = f"## List B: the functions after {actions_taken} action{'s' if actions_taken != 1 else ''} on List A"
    if dict(best) == dict(current):
        return f"{header}\nList B is identical to List A."
    changed = {n: s for n, s in current.items() if best.get(n) != s}
    removed = sorted(set(best) - set(current))
    lines = [f"{header}\nFunctions not mentioned here are identical to List A."]
    for name in sorted(changed):
        status = "revised" if name in best else "added"
        lines.append(f"### {name} ({status})\n```python\n{changed[name].rstrip()}\n```")
    if removed:
        lines.append("Removed from List A: " + ", ".join(removed) + ".")
    return "\n\n".join(lines)


def diff_against(best: Mapping[str, str], other: Mapping[str, str]) -> str:
    """Unified diff of a function set against List A, one file per function module."""
    chunks = []
    for name in sorted(set(best) | set(other)):
        before, after = best.get(name, ""), other.get(name, "")
        if before != after:
            chunks.extend(
                difflib.unified_diff(
                    before.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    f"a/{name}.py" if before else "/dev/null",
                    f"b/{name}.py" if after else "/dev/null",
                )
            )
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)


def render_failures(
    best: Mapping[str, str],
    failures: Sequence[FailedSet],
    *,
    most: int | None = MAX_FAILED_SETS,
    diff_chars: int | None = FAILED_DIFF_CHARS,
) -> str:
    """The ``most`` recent failed sets (None: all), worst first, as diffs against List A."""
    if not failures:
        return ""
    # The newest must stay: it is what makes the request new.
    recent = list(failures) if most is None else list(failures)[-most:]
    ordered = sorted(recent, key=lambda f: f.score)  # stable: equal scores keep their age order
    omitted = len(failures) - len(recent)
    lines = [
        "## Function sets that did not improve on List A\n"
        "Each was tried after List A and was rolled back. They are in ascending order of success rate on the "
        "training tasks and shown as unified diffs against List A; avoid repeating their changes."
        + (f" ({omitted} older failed set{'s' if omitted != 1 else ''} not shown.)" if omitted else "")
    ]
    for number, failed in enumerate(ordered, 1):
        diff = diff_against(best, failed.sources)
        body = f"```diff\n{clip(diff, diff_chars).rstrip()}\n```" if diff else "(identical to List A)"
        lines.append(f"### Failed set {number}: success rate {failed.score:.1%}\n{body}")
    return "\n\n".join(lines)


def render_rejected(rejected: Sequence[Rejection]) -> str:
    """Proposals rejected earlier in the step: informs the model, and makes the next request new."""
    if not rejected:
        return ""
    lines = ["## Proposals rejected earlier in this step (do not repeat them)"]
    lines += [f"- {r.tool}: {clip(r.errors[-1] if r.errors else 'invalid', REJECTION_CHARS)}" for r in rejected]
    return "\n".join(lines)


def render_progress(inputs: OptimizerInputs) -> str:
    """Where training is and what the previous step did: a step that changed nothing must not leave
    the next request identical (the response cache would replay it until patience ran out)."""
    if inputs.step is None:
        return ""
    of = f" of {inputs.steps}" if inputs.steps else ""
    lines = [f"## Training progress\nThis is step {inputs.step}{of}."]
    if inputs.previous_step:
        lines.append(f"Previous step: {inputs.previous_step}")
    return "\n".join(lines)


def one_shot_instructions(max_actions: int) -> str:
    """The request of a step that takes all its actions in one reply (the paper's ablation)."""
    return (
        "## Your actions\n"
        f"Based on all of the above, take up to {max_actions} actions on List B now, all in this one reply: "
        "call add_function, revise_function or remove_function once per action (several tool calls in one "
        "message). You will not be asked again in this step. Reply TERMINATE, without a tool call, only if you "
        "are sure List B is already the best you can make it."
    )


def instructions(actions_taken: int) -> str:
    done = (
        f" You have already taken {actions_taken} action{'s' if actions_taken != 1 else ''} in this step."
        if actions_taken
        else ""
    )
    return (
        "## Your action\n"
        f"Based on all of the above, take one action on List B now.{done} Call add_function, revise_function "
        "or remove_function, or reply TERMINATE. Try hard to improve the list: reply TERMINATE only if you are "
        "sure List B is already the best you can make it. Even adding a general function that replaces the "
        "Python code the assistant keeps writing can help."
    )


class PromptBuilder:
    """Builds the optimizer request for one action, within ``budget`` tokens including ``tools``."""

    def __init__(
        self,
        *,
        budget: int,
        model: str | None,
        tools: Sequence[Mapping[str, Any]],
        clip: str = "always",
        show_answers: bool = False,
        one_shot_actions: int | None = None,
    ) -> None:
        self.budget = budget
        self.model = model
        self.tools = list(tools)
        #: "always": cut long messages, conversations and old failed sets; "over_budget": only when needed.
        self.clip = clip
        self.show_answers = show_answers
        #: A one-shot step asks for this many actions in one reply; None: one action per request.
        self.one_shot_actions = one_shot_actions

    def build(
        self,
        inputs: OptimizerInputs,
        current: Mapping[str, str],
        actions_taken: int,
        rejected: Sequence[Rejection] = (),
        *,
        budget: int | None = None,
    ) -> list[dict[str, Any]]:
        budget = self.budget if budget is None else budget
        shared = shared_system_prompt(inputs.histories)
        asked = (
            instructions(actions_taken)
            if self.one_shot_actions is None
            else one_shot_instructions(self.one_shot_actions)
        )
        after = [statistics(inputs.histories), render_rejected(rejected), render_progress(inputs), asked]
        if self.clip == "over_budget":
            whole = self._whole(inputs, current, actions_taken, after, shared, budget)
            if whole is not None:
                return whole
        before = self._before(inputs, current, actions_taken)
        compose = _Composer(before, after, shared, len(inputs.histories))
        fixed = self._tokens(compose([], omitted=_Omitted.all(inputs.histories)))
        if fixed > budget:
            raise OptimizerError(
                f"the optimizer prompt needs {fixed:,} tokens before any conversation history (function lists, "
                f"failed sets, statistics), more than the prompt budget of {budget:,}; raise --prompt-budget"
            )
        renderer = HistoryRenderer(shared_system=shared, show_answers=self.show_answers)
        chosen = self._choose(inputs, renderer, budget - fixed)
        while True:  # the per-part counts are close but not exact: check the whole, trim the last ones
            messages = compose(
                [(i, text) for i, text, _ in chosen], omitted=_Omitted.excluding(inputs.histories, chosen)
            )
            excess = self._tokens(messages) - budget
            if excess <= 0 or not chosen:
                return messages
            while chosen and excess > 0:
                excess -= chosen.pop()[2]

    def _before(
        self, inputs: OptimizerInputs, current: Mapping[str, str], actions_taken: int, *, whole: bool = False
    ) -> list[str]:
        failures = (
            render_failures(inputs.best_sources, inputs.failures, most=None, diff_chars=None)
            if whole
            else render_failures(inputs.best_sources, inputs.failures)
        )
        return [
            f"## List A: the best function set so far (success rate {inputs.best_score:.1%} on the training tasks)\n"
            + render_sources(inputs.best_sources),
            render_list_b(inputs.best_sources, current, actions_taken),
            failures,
        ]

    def _whole(
        self,
        inputs: OptimizerInputs,
        current: Mapping[str, str],
        actions_taken: int,
        after: list[str],
        shared: str | None,
        budget: int,
    ) -> list[dict[str, Any]] | None:
        """Everything uncut (every message, conversation and failed set), if it fits ``budget``; else None."""
        renderer = HistoryRenderer(
            shared_system=shared, message_chars=None, history_chars=None, show_answers=self.show_answers
        )
        compose = _Composer(
            self._before(inputs, current, actions_taken, whole=True), after, shared, len(inputs.histories)
        )
        texts = [(i, renderer.render(i, inputs.histories[i])) for i in priority_order(inputs.histories)]
        if sum(len(text) for _, text in texts) > budget * _MOST_CHARS_PER_TOKEN:
            return None  # far over budget: do not count the tokens of a prompt that cannot fit
        messages = compose(texts, omitted=_Omitted(0, 0), whole=True)
        return messages if self._tokens(messages) <= budget else None

    def _choose(self, inputs: OptimizerInputs, renderer: HistoryRenderer, available: int) -> list[tuple[int, str, int]]:
        """(index, text, tokens) of conversations in priority order, added while they fit (failed first)."""
        chosen: list[tuple[int, str, int]] = []
        misses = 0
        for index in priority_order(inputs.histories):
            text = renderer.render(index, inputs.histories[index])
            cost = count_tokens(text + "\n\n", self.model)
            if cost <= available:
                chosen.append((index, text, cost))
                available -= cost
                misses = 0
            else:
                misses += 1
                if misses >= MAX_CONSECUTIVE_MISSES:
                    break
        return chosen

    def _tokens(self, messages: list[dict[str, Any]]) -> int:
        return count_message_tokens(messages, self.tools, self.model)


@dataclass(frozen=True)
class _Omitted:
    failed: int
    solved: int

    @staticmethod
    def all(histories: Sequence[Any]) -> _Omitted:
        return _Omitted.excluding(histories, [])

    @staticmethod
    def excluding(histories: Sequence[Any], shown: Sequence[tuple[int, Any, Any]]) -> _Omitted:
        shown_set = {item[0] for item in shown}
        failed = sum(1 for i, h in enumerate(histories) if not h.satisfied and i not in shown_set)
        solved = sum(1 for i, h in enumerate(histories) if h.satisfied and i not in shown_set)
        return _Omitted(failed, solved)


@dataclass(frozen=True)
class _Composer:
    """Assembles the two messages around a chosen set of rendered conversations."""

    before: list[str]
    after: list[str]
    shared_system: str | None
    total: int

    def __call__(
        self, chosen: Sequence[tuple[int, str]], *, omitted: _Omitted, whole: bool = False
    ) -> list[dict[str, Any]]:
        sections = [*self.before, self._histories(chosen, omitted, whole), *self.after]
        user = "\n\n".join(s for s in sections if s)
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]

    def _histories(self, chosen: Sequence[tuple[int, str]], omitted: _Omitted, whole: bool = False) -> str:
        if not self.total:
            return "## Conversations with List A\n(none recorded)"
        lines = [
            f"## Conversations with List A: {len(chosen)} of the {self.total} recorded are shown, failed ones first"
        ]
        if omitted.failed or omitted.solved:
            lines.append(
                f"Omitted to fit the prompt: {omitted.failed} failed and {omitted.solved} solved conversation"
                f"{'s' if omitted.failed + omitted.solved != 1 else ''}. Long messages are truncated where marked."
            )
        if self.shared_system is not None:
            system = self.shared_system if whole else clip(self.shared_system, 2_000)
            lines.append(f"The assistant's system prompt (the same in these conversations):\n{system}")
        lines += [text for _, text in chosen]  # priority order: failed ones first
        return "\n\n".join(lines)
