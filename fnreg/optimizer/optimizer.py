"""The AgentOptimizer: paper Algorithm 1's progressive function update, one commit per action.

Each round asks the optimizer LLM for one action on List B (the toolset as it is now). A
tool call is parsed and applied through the registry, which validates it (JSON, Python
syntax, names, schema round trip, target exists) and commits it, so the next round's List B
already holds it. An invalid proposal is sent back with the exact error text as the tool
result, up to ``max_trials`` trials; one that never becomes valid is skipped and reported.
A reply without a tool call is TERMINATE, and it ends the step, also when it answers a re-ask
(the error message offers it): the optimizer may give up on a proposal it cannot fix, and the
step's accepted actions are then evaluated. LLM errors propagate; every commit made before one
is a complete action.

``update="one_shot"`` (the paper's "without progressive update" ablation) asks once for all of
a step's actions as several tool calls in one reply; invalid ones are still re-asked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from fnreg.config import default
from fnreg.errors import ActionError, ConfigError
from fnreg.llm import Completion, LLMClient, ToolCall, count_message_tokens
from fnreg.optimizer.config import OptimizerConfig
from fnreg.optimizer.histories import clip
from fnreg.optimizer.inputs import OptimizerInputs
from fnreg.optimizer.prompt import PromptBuilder
from fnreg.optimizer.results import Rejection, StepResult
from fnreg.optimizer.tools import ACTION_TOOLS
from fnreg.registry import AppliedAction, Registry, parse_action
from fnreg.registry.actions import clean_reason
from fnreg.registry.toolset import check_toolset_name

# An invalid proposal is echoed back in the re-ask; a huge one is clipped so the request stays bounded.
ECHO_CHARS = 20_000
REASON_CHARS = 1_000
# count_message_tokens adds the reply priming once per request; counted alone, the exchange has it too.
_PRIMING = 3


class AgentOptimizer:
    """Proposes and commits add/revise/remove actions on a toolset from the agent's experience.

    >>> optimizer = AgentOptimizer(client, max_actions=3)            # doctest: +SKIP
    >>> optimizer.step(registry, "math", inputs, run="r1", epoch=2)  # doctest: +SKIP
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        max_actions: int = default(OptimizerConfig, "max_actions"),
        max_trials: int = 3,
        prompt_budget: int = default(OptimizerConfig, "prompt_budget"),
        model: str | None = None,
        clip: str = default(OptimizerConfig, "clip"),
        show_answers: bool = default(OptimizerConfig, "show_answers"),
        update: str = default(OptimizerConfig, "update"),
    ) -> None:
        for name, value, least in (
            ("max_actions", max_actions, 1),
            ("max_trials", max_trials, 1),
            ("prompt_budget", prompt_budget, 1_000),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigError(f"{name} must be an integer of at least {least}, got {value!r}")
        for name, value, allowed in (
            ("clip", clip, ("always", "over_budget")),
            ("update", update, ("progressive", "one_shot")),
        ):
            if value not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        self.client = client
        self.max_actions = max_actions
        self.max_trials = max_trials
        self.prompt_budget = prompt_budget
        self.model = model or client.settings.model_for("optimizer")
        self.update = update
        self.clip = clip
        self.show_answers = show_answers
        self._prompts = PromptBuilder(
            budget=prompt_budget,
            model=self.model,
            tools=ACTION_TOOLS,
            clip=clip,
            show_answers=show_answers,
            one_shot_actions=max_actions if update == "one_shot" else None,
        )

    def build_messages(
        self,
        inputs: OptimizerInputs,
        current_sources: Mapping[str, str],
        actions_taken: int,
        *,
        rejected: Sequence[Rejection] = (),
        budget: int | None = None,
    ) -> list[dict[str, Any]]:
        """The request for the next action: within ``budget`` (default ``prompt_budget``) tokens with the tools.

        ``rejected``: proposals rejected earlier in the step, named so the request differs.
        """
        return self._prompts.build(inputs, current_sources, actions_taken, rejected, budget=budget)

    def step(
        self,
        registry: Registry,
        toolset: str,
        inputs: OptimizerInputs,
        *,
        run: str | None = None,
        epoch: int | None = None,
    ) -> StepResult:
        """Up to ``max_actions`` rounds, each one accepted action (a commit), a skipped one, or TERMINATE."""
        check_toolset_name(toolset)
        result = StepResult()
        rounds = 1 if self.update == "one_shot" else self.max_actions
        for _ in range(rounds):
            if result.terminated or len(result.applied) >= self.max_actions:
                break
            _Round(self, registry, toolset, inputs, result, run=run, epoch=epoch).run()
        result.sources = current_sources(registry, toolset)
        return result


class _Round:
    """One action: a request, then re-asks with the error text until valid or out of trials."""

    def __init__(
        self,
        optimizer: AgentOptimizer,
        registry: Registry,
        toolset: str,
        inputs: OptimizerInputs,
        result: StepResult,
        *,
        run: str | None,
        epoch: int | None,
    ) -> None:
        self.optimizer = optimizer
        self.registry = registry
        self.toolset = toolset
        self.inputs = inputs
        self.result = result
        self.run_id = run
        self.epoch = epoch
        self.errors: list[str] = []  # every error of this round, in order

    def run(self) -> None:
        current = current_sources(self.registry, self.toolset)
        base = self.optimizer.build_messages(
            self.inputs, current, len(self.result.applied), rejected=self.result.rejected
        )
        exchange: list[dict[str, Any]] = []
        failed: list[ToolCall] = []
        for trial in range(1, self.optimizer.max_trials + 1):
            completion = self._ask(base, exchange, current)
            if not completion.tool_calls:
                self.result.terminated = True
                self._reject(failed)  # proposals abandoned before they became valid
                return
            failed, replies = self._apply_calls(completion)
            if not failed:
                return
            if trial == self.optimizer.max_trials or len(self.result.applied) >= self.optimizer.max_actions:
                self._reject(failed)
                return
            exchange += [_echo(completion), *replies]

    def _ask(
        self, base: list[dict[str, Any]], exchange: list[dict[str, Any]], current: Mapping[str, str]
    ) -> Completion:
        messages = base + exchange
        if exchange and self._tokens(messages) > self.optimizer.prompt_budget:
            # The echoed proposal pushed the request over budget: fewer conversations make room.
            room = self.optimizer.prompt_budget - (
                count_message_tokens(exchange, None, self.optimizer.model) - _PRIMING
            )
            base = self.optimizer.build_messages(
                self.inputs, current, len(self.result.applied), rejected=self.result.rejected, budget=room
            )
            messages = base + exchange
        completion = self.optimizer.client.complete(
            messages, tools=ACTION_TOOLS, tool_choice="auto", model=self.optimizer.model, role="optimizer"
        )
        self.result.requests += 1
        self.result.usage = self.result.usage + completion.usage
        return completion

    def _apply_calls(self, completion: Completion) -> tuple[list[ToolCall], list[dict[str, Any]]]:
        """Apply the response's tool calls in order; (the invalid ones, one tool message per call)."""
        failed: list[ToolCall] = []
        replies = []
        for call in completion.tool_calls:
            if len(self.result.applied) >= self.optimizer.max_actions:
                outcome = f"not applied: this step already took its {self.optimizer.max_actions} actions"
            else:
                try:
                    applied = self._apply(call, completion.content)
                    # No commit id: it differs on every run, and would keep the re-ask from the cache.
                    outcome = f"applied: {applied.action.summary()}"
                except ActionError as exc:
                    failed.append(call)
                    self.errors.append(str(exc))
                    outcome = (
                        f"error: {exc}\nCorrect this {call.name} call and send it again, or reply TERMINATE to end "
                        "this step without it."
                    )
            replies.append({"role": "tool", "tool_call_id": call.id, "content": outcome})
        return failed, replies

    def _apply(self, call: ToolCall, content: str | None) -> AppliedAction:
        action = parse_action(call.arguments, kind=call.name)
        if action.reason is None and content and content.strip():
            # The model often explains itself beside the call; that is the commit's "why".
            action = dataclasses.replace(action, reason=clean_reason(clip(content.strip(), REASON_CHARS)))
        applied = self.registry.apply(action, toolset=self.toolset, run=self.run_id, epoch=self.epoch)
        if applied.module is not None:
            self.registry.keep_derived(applied.module)  # reports and `fnreg list` read it without parsing
        self.result.applied.append(applied)
        return applied

    def _reject(self, calls: list[ToolCall]) -> None:
        for call in calls:
            self.result.rejected.append(Rejection(tool=call.name, arguments=call.arguments, errors=list(self.errors)))

    def _tokens(self, messages: list[dict[str, Any]]) -> int:
        return count_message_tokens(messages, ACTION_TOOLS, self.optimizer.model)


def _echo(completion: Completion) -> dict[str, Any]:
    """The assistant turn as sent back in a re-ask, with huge arguments clipped."""
    message = completion.message()
    for call in message.get("tool_calls", ()):
        call["function"]["arguments"] = clip(call["function"]["arguments"], ECHO_CHARS)
    return message


def current_sources(registry: Registry, toolset: str) -> dict[str, str]:
    """List B: the toolset's modules at HEAD (empty in a repository without commits)."""
    if registry.git.head() is None:
        return {}
    return registry.toolset(toolset, ref="HEAD").sources()


__all__ = ["AgentOptimizer", "Rejection", "StepResult", "current_sources"]
