"""AG2's ``AgentOptimizer`` API on fnreg, for code migrating from ``autogen.agentchat.contrib``.

The calls and the bookkeeping are the reference's (record conversations with a verdict,
``step()`` keeps or rolls back the last set, returns what to register with the assistant and
the executor; ``reset_optimizer()``), with these deliberate differences:

- The function list is a real git repository (``registry_path``; by default a private
  temporary one, deleted by ``close()`` or garbage collection): one commit per action, a
  roll-back is a ``git revert``, and learned functions outlive the process if you pass a path.
- Keep or roll back is the trainer's own rule and commit (:mod:`fnreg.training.decision`):
  improvement is strict, as in the paper (the reference keeps a set whose score ties the best).
  This layer sits above training for that reason; the optimizer knows nothing of either.
- Executors run each function in fnreg's sandbox, never in this process: no Docker image, no
  ``pip install`` of whatever the LLM named. Each executor calls its own function (the
  reference's loop-built lambdas all call the last one). A failed call raises
  :class:`FunctionCallFailed` (the reference raised too), which AG2 reports to the assistant.
- Removed functions are really removed: the reference compared dict keys, not names, so its
  ``is_remove`` entries never appeared. Schemas carry ``required``.
- ``is_satisfied=None`` raises :class:`~fnreg.optimizer.errors.MissingVerdict` instead of
  waiting on ``input()``; ``step()`` without recorded conversations raises
  :class:`~fnreg.optimizer.errors.NothingRecorded` instead of dividing by zero.
- ``reset_optimizer()`` forgets scores and conversations but keeps the functions: the current
  registry content becomes the next starting set (the reference restarted from an empty list
  while the assistant kept the functions it had registered).
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fnreg.errors import ConfigError
from fnreg.llm import LLMClient, LLMSettings
from fnreg.optimizer.errors import MissingVerdict, NothingRecorded, OptimizerError
from fnreg.optimizer.inputs import Experience, FailedSet, OptimizerInputs
from fnreg.optimizer.optimizer import AgentOptimizer, current_sources
from fnreg.optimizer.results import StepResult
from fnreg.registry import Git, Registry
from fnreg.registry.history import ACTION, TOOLSET, format_message
from fnreg.registry.init_module import PACKAGE_INIT
from fnreg.registry.toolset import check_toolset_name
from fnreg.training.decision import decide, roll_back

MAX_TRIALS = 3  # the reference's fixed number of trials per action


class FunctionCallFailed(RuntimeError):
    """A learned function raised, timed out or hit a sandbox limit; the message is what it reported."""

    def __init__(self, name: str, report: str) -> None:
        super().__init__(f"function {name} failed:\n{report}")
        self.name = name
        self.report = report


class AG2AgentOptimizer:
    """Drop-in for AG2's ``AgentOptimizer`` whose functions are versioned source in git.

    >>> optimizer = AG2AgentOptimizer(3, {"config_list": [{"model": "gpt-4-1106-preview", "api_key": "..."}]})  # doctest: +SKIP
    >>> optimizer.record_one_conversation(assistant.chat_messages_for_summary(user), is_satisfied=True)  # doctest: +SKIP
    >>> register_for_llm, register_for_executor = optimizer.step()  # doctest: +SKIP
    >>> for item in register_for_llm:                                # doctest: +SKIP
    ...     assistant.update_function_signature(**item)
    >>> user.register_function(function_map=register_for_executor)  # doctest: +SKIP
    """

    def __init__(
        self,
        max_actions_per_step: int,
        llm_config: dict[str, Any],
        optimizer_model: str = "gpt-4-1106-preview",
        *,
        registry_path: str | os.PathLike[str] | None = None,
        toolset: str = "agent",
        sandbox: Any = None,
    ) -> None:
        """``sandbox``: a ``fnreg.sandbox.Sandbox`` on the registry's checkout, or ``Limits`` for the
        one created on the first function call, or None for default limits."""
        if not isinstance(llm_config, dict):
            raise ConfigError(f"llm_config must be a dict like AG2's, not {type(llm_config).__name__}")
        check_toolset_name(toolset)
        self.max_actions_per_step = max_actions_per_step
        self.optimizer_model = optimizer_model
        self.llm_config = copy.deepcopy(llm_config)
        self.toolset = toolset
        self._client = LLMClient(settings_from_llm_config(self.llm_config, optimizer_model))
        self._optimizer = AgentOptimizer(
            self._client, max_actions=max_actions_per_step, max_trials=MAX_TRIALS, model=optimizer_model
        )
        self._registry_path = Path(registry_path) if registry_path is not None else None
        self._registry: Registry | None = None
        self._cleanup: weakref.finalize | None = None
        self._sandbox_option = sandbox
        self._sandbox: Any = None
        self._sandbox_lock = threading.Lock()
        #: The last step's outcome (applied and rejected actions, usage), for inspection.
        self.last_result: StepResult | None = None
        self.reset_optimizer()

    # -- the reference's API ---------------------------------------------------------------

    def record_one_conversation(
        self, conversation_history: list[dict[str, Any]], is_satisfied: bool | None = None
    ) -> None:
        """Record one conversation solved with the functions of the last step, with its verdict."""
        if is_satisfied is None:
            raise MissingVerdict(
                "record_one_conversation needs is_satisfied=True or False: evaluate the conversation first "
                "(fnreg never asks on stdin)"
            )
        if not isinstance(is_satisfied, bool) and is_satisfied not in (0, 1):
            raise OptimizerError(f"is_satisfied must be True or False (or 1/0), not {is_satisfied!r}")
        if not isinstance(conversation_history, list) or not all(isinstance(m, Mapping) for m in conversation_history):
            raise OptimizerError(
                "conversation_history must be a list of chat messages (dicts with 'role' and 'content')"
            )
        messages = [dict(m) for m in conversation_history]
        self._trial_histories.append(Experience(messages=messages, satisfied=bool(is_satisfied)))

    def step(self) -> tuple[list[dict[str, Any]], dict[str, Callable[..., str] | None]]:
        """Keep or roll back the last set by its recorded score, then let the optimizer edit the best set.

        Returns ``(register_for_llm, register_for_executor)`` as the reference does:
        ``{"func_sig": <OpenAI function schema>, "is_remove": bool}`` items for
        ``assistant.update_function_signature(**item)``, and name -> callable (None for a
        removed function) for ``user_proxy.register_function(function_map=...)``.
        """
        if not self._trial_histories and self._pending is None:
            raise NothingRecorded(
                "step() needs the conversations solved with the current functions: call "
                "record_one_conversation(history, is_satisfied=...) for each task first"
            )
        registry = self.registry
        registered = set(current_sources(registry, self.toolset)) if self._registered is None else self._registered
        if self._trial_histories:
            self._pending = self._score_trial_set(registry)
        if self._step_base is None:
            self._step_base = registry.git.head()
        # An LLMError leaves _pending set: calling step() again retries with the same inputs.
        self.last_result = self._optimizer.step(registry, self.toolset, self._pending, epoch=self._steps)
        self._pending = None
        return self._registrations(registry, registered)

    def reset_optimizer(self) -> None:
        """Forget scores, conversations and failures; the functions now in the registry are the new start."""
        self._trial_histories: list[Experience] = []
        self._best_histories: list[Experience] = []
        self._best_sources: dict[str, str] = {}
        self._best_performance = -1.0
        self._failures: list[FailedSet] = []
        self._step_base: str | None = None  # HEAD when the optimizer's last step began
        self._registered: set[str] | None = None
        self._pending: OptimizerInputs | None = None
        self._steps = 0

    # -- fnreg's additions -----------------------------------------------------------------

    @property
    def registry(self) -> Registry:
        """The git-backed function list (a private temporary repository unless ``registry_path`` was given)."""
        if self._registry is None:
            path = self._registry_path or self._create_private_repo()
            self._registry = Registry(path, hooks=False)  # a training run's commits (fnreg.training.workspace)
        return self._registry

    @property
    def best_performance(self) -> float:
        """The best recorded success rate so far (-1 before the first step)."""
        return self._best_performance

    def close(self) -> None:
        """Stop the sandbox workers, the HTTP client, and delete a private repository."""
        with self._sandbox_lock:
            own = self._sandbox is not None and self._sandbox is not self._sandbox_option
            if own:
                self._sandbox.close()
            self._sandbox = None
        self._client.close()
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> AG2AgentOptimizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _create_private_repo(self) -> Path:
        path = Path(tempfile.mkdtemp(prefix="fnreg-ag2-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, path, True)
        path.chmod(0o755)  # the sandbox's unprivileged user must be able to read the learned code
        git = Git.init(path)
        package = path / "registry"
        package.mkdir()
        (package / "__init__.py").write_text(PACKAGE_INIT, encoding="utf-8")
        git.commit_paths(["registry/__init__.py"], format_message("Start the function registry"))
        return path

    def _score_trial_set(self, registry: Registry) -> OptimizerInputs:
        """The reference's bookkeeping: a better set becomes the best, a worse one is recorded and reverted."""
        trial_sources = current_sources(registry, self.toolset)
        performance = sum(h.satisfied for h in self._trial_histories) / len(self._trial_histories)
        self._steps += 1
        if decide(performance, self._best_performance) == "improved":  # strict, as in the paper
            self._step_base = None  # the last step's commits are kept
            self._best_performance = performance
            self._best_sources = trial_sources
            self._best_histories = self._trial_histories
            self._failures = []
        else:
            self._failures.append(FailedSet(sources=trial_sources, score=performance))
            self._roll_back(registry, performance)
        self._trial_histories = []
        return OptimizerInputs(self._best_sources, self._best_performance, self._best_histories, list(self._failures))

    def _roll_back(self, registry: Registry, performance: float) -> None:
        """Revert the last step's action commits (also those of a step an LLM error cut short)."""
        commits = self._trial_commits(registry)
        if not commits:
            return
        registry.git.ensure_writable()
        roll_back(
            registry.git,
            list(reversed(commits)),
            toolset=self.toolset,
            run=None,
            epoch=self._steps - 1,
            score=performance,
            best_score=self._best_performance,
            unit="step",
            split="",
            relation="<=",
        )

    def _trial_commits(self, registry: Registry) -> list[str]:
        """This toolset's action commits since the last step began, newest first (never the user's own)."""
        base, self._step_base = self._step_base, None
        if base is None or registry.git.head() == base:
            return []
        since = registry.git.log([f"{base}..HEAD"])
        return [c.sha for c in since if c.trailer(ACTION) and c.trailer(TOOLSET) == self.toolset]

    def _registrations(
        self, registry: Registry, registered: set[str]
    ) -> tuple[list[dict[str, Any]], dict[str, Callable[..., str] | None]]:
        functions = registry.toolset(self.toolset, ref="HEAD")
        register_for_llm: list[dict[str, Any]] = []
        register_for_executor: dict[str, Callable[..., str] | None] = {}
        for name in sorted(registered - set(functions.names)):
            register_for_llm.append({"func_sig": {"name": name}, "is_remove": True})
            register_for_executor[name] = None
        for function in functions:
            register_for_llm.append({"func_sig": function.openai_tool()["function"], "is_remove": False})
            register_for_executor[function.name] = self._executor(function.name)
        self._registered = set(functions.names)
        return register_for_llm, register_for_executor

    def _executor(self, name: str) -> Callable[..., str]:
        # A factory, not a lambda in the caller's loop: each executor keeps its own ``name``.
        def run_learned_function(**arguments: Any) -> str:
            return self._call(name, arguments)

        run_learned_function.__name__ = name
        run_learned_function.__qualname__ = f"learned.{name}"
        return run_learned_function

    def _call(self, name: str, arguments: dict[str, Any]) -> str:
        with self._sandbox_for_calls().session() as session:
            result = session.call_function(name, arguments)
        if not result.ok:
            raise FunctionCallFailed(name, result.as_tool_output())
        return result.as_tool_output()

    def _sandbox_for_calls(self) -> Any:
        from fnreg.sandbox import Limits, Sandbox  # the sandbox starts processes: load it only when needed

        with self._sandbox_lock:
            if self._sandbox is None:
                option = self._sandbox_option
                if isinstance(option, Sandbox):
                    self._check_sandbox(option)
                    self._sandbox = option
                else:
                    limits = option if isinstance(option, Limits) else Limits()
                    registry = self.registry
                    self._sandbox = Sandbox(
                        registry.root, package=registry.package, toolset=self.toolset, limits=limits
                    )
            return self._sandbox

    def _check_sandbox(self, sandbox: Any) -> None:
        registry = self.registry
        if (
            Path(sandbox.root).resolve() != registry.root
            or sandbox.module_prefix != f"{registry.package}.{self.toolset}"
        ):
            raise ConfigError(
                f"the sandbox runs {sandbox.module_prefix} in {sandbox.root}, but this optimizer's functions are "
                f"{registry.package}.{self.toolset} in {registry.root}: create Sandbox({str(registry.root)!r}, "
                f"package={registry.package!r}, toolset={self.toolset!r})"
            )


AgentOptimizerCompat = AG2AgentOptimizer


def settings_from_llm_config(llm_config: Mapping[str, Any], optimizer_model: str) -> LLMSettings:
    """LLM settings from an AG2 ``llm_config``: the ``config_list`` entry for ``optimizer_model``.

    Like the reference, only entries for the optimizer's model are used (an entry without a
    ``model`` counts as one); the first is taken. Reads ``base_url`` (or ``api_base``),
    ``api_key`` (else ``OPENAI_API_KEY``), ``api_version`` (Azure), ``price`` (USD per 1k
    tokens, AG2's unit), and ``temperature``/``timeout``/``max_retries`` from the entry or the
    top level.
    """
    entries = list(llm_config.get("config_list") or [])
    if not entries and llm_config.get("model"):
        entries = [dict(llm_config)]
    if not entries or not all(isinstance(e, Mapping) for e in entries):
        raise ConfigError(
            'llm_config needs a non-empty "config_list" of dicts, e.g. '
            '{"config_list": [{"model": "gpt-4-1106-preview", "api_key": "..."}]}'
        )
    matching = [e for e in entries if e.get("model") in (optimizer_model, None, "")]
    if not matching:
        models = ", ".join(sorted(str(e.get("model")) for e in entries))
        raise ConfigError(
            f"llm_config has no config_list entry for optimizer_model {optimizer_model!r} (it has: {models}); "
            f"add one or pass optimizer_model= one of those"
        )
    entry = {**{k: v for k, v in llm_config.items() if k != "config_list"}, **matching[0]}
    values: dict[str, Any] = {
        "model": optimizer_model,
        "optimizer_model": optimizer_model,
        "base_url": entry.get("base_url") or entry.get("api_base"),
        "api_key": entry.get("api_key") or os.environ.get("OPENAI_API_KEY") or None,
        "api_version": entry.get("api_version"),
        "temperature": entry.get("temperature"),
        "timeout": entry.get("timeout"),
        "max_retries": entry.get("max_retries"),
    }
    price = entry.get("price")
    if isinstance(price, (list, tuple)) and len(price) == 2:
        values["prices"] = {optimizer_model: (float(price[0]) * 1000, float(price[1]) * 1000)}
    return LLMSettings(**{k: v for k, v in values.items() if v is not None})
