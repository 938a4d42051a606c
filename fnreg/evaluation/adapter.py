"""The seam between the trainer and the system it trains.

The trainer knows agents only through :class:`Adapter`: "evaluate the toolset checked out
at this folder on these tasks". :class:`TaskSetAdapter` is fnreg's implementation: it reads
the toolset's tool schemas from source, starts a sandbox on the checkout, picks the agent
the task set names, and judges answers with its evaluator.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from fnreg.agents import AGENTS
from fnreg.agents.base import Agent, AgentLimits
from fnreg.errors import TaskSetError
from fnreg.evaluation.runner import TaskResult, run_one, run_tasks
from fnreg.evaluation.tasks import Task, TaskSet
from fnreg.llm import LLMClient
from fnreg.registry import Registry
from fnreg.registry.toolset import Toolset, load_toolset
from fnreg.sandbox import Limits, Sandbox
from fnreg.sandbox.scratch import remove_scratch, scratch_directory, sweep_stale

if TYPE_CHECKING:
    from fnreg.registry.derive_cache import DerivationCache


class Adapter(Protocol):
    """What the trainer needs from the agent it trains."""

    def evaluate(self, checkout: Path, tasks: Sequence[Task]) -> Iterator[TaskResult]:
        """Run the tasks with the toolset as it is in ``checkout``; yield results as they finish."""
        ...


@dataclass
class TaskSetAdapter:
    """Evaluates a task set's agent with the toolset of a checkout."""

    task_set: TaskSet
    client: LLMClient
    concurrency: int = 4
    package: str = "registry"
    agent_limits: AgentLimits = field(default_factory=AgentLimits)
    sandbox_limits: Limits = field(default_factory=Limits)
    model: str | None = None
    #: "jail", "process" or None (the jail where it starts); see :class:`fnreg.sandbox.Sandbox`.
    sandbox_mode: str | None = None
    #: Derived schemas kept on disk (:meth:`fnreg.registry.Registry.derivation_cache`), so that
    #: reading the tools of a trained toolset needs no parser; None derives every module.
    schema_cache: DerivationCache | None = None
    #: How the last evaluation isolated learned code: ``{"mode": "jail", "network": False}``.
    sandbox_record: dict[str, Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.task_set.agent not in AGENTS:
            raise TaskSetError(f"unknown agent {self.task_set.agent!r}; use one of {', '.join(AGENTS)}")
        self.check = self.task_set.load_evaluator()

    def make_agent(self, client: LLMClient | None = None) -> Agent:
        """The task set's agent; its ``system_prompt`` and ``max_turns`` win over the run's defaults."""
        cls = AGENTS[self.task_set.agent]
        limits = self.agent_limits
        if self.task_set.max_turns is not None:
            limits = dataclasses.replace(limits, max_turns=self.task_set.max_turns)
        return cls(
            client or self.client,
            limits=limits,
            model=self.model,
            package=self.package,
            toolset=self.task_set.toolset,
            system=self.task_set.system_prompt,
        )

    def toolset(self, checkout: Path) -> Toolset:
        """The toolset's functions in ``checkout``, read from source."""
        folder = checkout / self.package / self.task_set.toolset
        files = {p.name: p.read_bytes() for p in folder.glob("*.py")} if folder.is_dir() else {}
        base = f"{self.package}/{self.task_set.toolset}"
        return load_toolset(self.task_set.toolset, files, base, None, cache=self.schema_cache)

    def evaluate(self, checkout: Path, tasks: Sequence[Task]) -> Iterator[TaskResult]:
        stream = self.evaluate_repeats(checkout, tasks, 1)
        try:
            for _, result in stream:
                yield result
        finally:
            stream.close()  # closing this generator (Ctrl-C) stops the tasks not yet started

    def evaluate_repeats(
        self, checkout: Path, tasks: Sequence[Task], repeats: int, *, temperature: float | None = None
    ) -> Iterator[tuple[int, TaskResult]]:
        """Every task ``repeats`` times, as ``(repeat, result)`` in the order they finish.

        Repeat ``i`` asks through :meth:`LLMClient.variant` ``(repeat=i)``: its index is in the
        cache and cassette key, so each repeat really asks again (repeat 0 is an ordinary
        evaluation). ``temperature``: sample at it instead of the client's setting (self-consistency).
        All repeats share one sandbox pool and run ``concurrency`` tasks at a time.
        """
        if repeats < 1:
            raise TaskSetError(f"repeats must be at least 1, got {repeats}")
        tools = self.toolset(checkout).openai_tools()
        with staged_package(checkout, self.package, self.task_set.toolset) as staged:
            yield from self._run(staged, tools, tasks, repeats, temperature)

    def _run(
        self,
        staged: Path,
        tools: list[dict[str, Any]],
        tasks: Sequence[Task],
        repeats: int,
        temperature: float | None,
    ) -> Iterator[tuple[int, TaskResult]]:
        has_toolset = (staged / self.package / self.task_set.toolset / "__init__.py").is_file()
        sandbox = Sandbox(
            staged,
            package=self.package,
            toolset=self.task_set.toolset if has_toolset else None,
            limits=self.sandbox_limits,
            size=max(1, min(self.concurrency, len(tasks) * repeats, 64)),
            mode=self.sandbox_mode,
            network=self.task_set.network,
            wait=False,  # the jail starts during the tasks' first LLM turn
        )
        self.sandbox_record = {"mode": sandbox.mode, "network": sandbox.network}
        solvers = [
            partial(
                run_one,
                agent=self.make_agent(self.client.variant(repeat=i, temperature=temperature)),
                check=self.check,
                prompt_template=self.task_set.prompt,
                tools=tools,
                sandbox=sandbox,
            )
            for i in range(repeats)
        ]

        def solve(item: tuple[int, Task]) -> tuple[int, TaskResult]:
            return item[0], solvers[item[0]](item[1])

        items = [(i, task) for i in range(repeats) for task in tasks]
        with sandbox:
            yield from run_tasks(items, solve, concurrency=self.concurrency)

    def describe(self) -> dict[str, Any]:
        return {"task_set": self.task_set.name, "toolset": self.task_set.toolset, "agent": self.task_set.agent}


@contextmanager
def staged_package(checkout: Path, package: str, toolset: str) -> Iterator[Path]:
    """A world-readable copy of the registry package with just this toolset, for the sandbox.

    The sandbox may run learned code as an unprivileged user that cannot read the user's
    repository (a checkout under a private home); the copy also keeps learned code from
    writing into the worktree that git commits from.
    """
    sweep_stale()
    folder = scratch_directory("stage")
    try:
        source_package, target_package = checkout / package, folder / package
        target_package.mkdir()
        init = source_package / "__init__.py"
        (target_package / "__init__.py").write_bytes(init.read_bytes() if init.is_file() else b"")
        if (source_package / toolset).is_dir():
            shutil.copytree(
                source_package / toolset, target_package / toolset, ignore=shutil.ignore_patterns("__pycache__")
            )
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        yield folder
    finally:
        remove_scratch(folder)


@contextmanager
def toolset_checkout(registry: Registry, toolset: str, ref: str | None) -> Iterator[Path]:
    """A folder holding the toolset at ``ref``: the working tree itself, or a temporary export."""
    if ref is None:
        yield registry.root
        return
    folder = Path(tempfile.mkdtemp(prefix="fnreg-eval-"))
    try:
        yield registry.export(toolset, ref, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
