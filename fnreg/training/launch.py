"""Putting a training run together from settings: the library call behind ``fnreg train``.

::

    from fnreg.training import TrainConfig, prepare_run
    trainer = prepare_run(".", "math-algebra", TrainConfig(epochs=5), llm=LLMSettings.from_env(".", model="gpt-4o-mini"))
    for event in trainer.run():
        print(event)
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fnreg.agents import PYTHON_TOOL, AgentLimits
from fnreg.config import default
from fnreg.errors import FnregError, InputError
from fnreg.evaluation import TaskSetAdapter, load_task_set
from fnreg.evaluation.tasks import TaskSet
from fnreg.llm import LLMClient, LLMSettings, count_message_tokens
from fnreg.llm.client import check_endpoint
from fnreg.optimizer import AgentOptimizer
from fnreg.optimizer.config import OptimizerConfig
from fnreg.registry import Registry
from fnreg.sandbox.config import sandbox_limits
from fnreg.training.config import PAPER_PROTOCOL, TRAIN_TASKS_AT_ONCE, load_project_config
from fnreg.training.engine import TrainConfig, Trainer
from fnreg.training.workspace import Workspace

DEFAULT_PROMPT_BUDGET: int = default(OptimizerConfig, "prompt_budget")


@dataclass(frozen=True)
class RunOptions:
    """Everything about a run beyond the training schedule (``TrainConfig``)."""

    #: Optimizer actions per step (the paper: 3).
    max_actions: int = default(OptimizerConfig, "max_actions")
    #: Token budget of each optimizer request.
    prompt_budget: int = DEFAULT_PROMPT_BUDGET
    agent_limits: AgentLimits = field(default_factory=AgentLimits)
    #: Tasks evaluated at once.
    concurrency: int = TRAIN_TASKS_AT_ONCE
    #: Isolation of learned code: "jail", "process" or None (the jail where it starts).
    sandbox: str | None = None
    #: What the optimizer is shown: cut "always" or only "over_budget"; answers and ground truth.
    clip: str = default(OptimizerConfig, "clip")
    show_answers: bool = default(OptimizerConfig, "show_answers")
    #: "progressive" (one action per request) or "one_shot" (all of a step's actions in one reply).
    update: str = default(OptimizerConfig, "update")


def settings_from_project(root: Path, **flags: Any) -> tuple[TrainConfig, RunOptions]:
    """Schedule and options: non-None ``flags`` over ``[tool.fnreg]`` over the schema's defaults.

    ``protocol = "paper"`` (a flag, or the file's key) is a bundle of settings
    (:data:`~fnreg.training.config.PAPER_PROTOCOL`) at the level where it is named: from a flag it
    overrides the file, from the file it overrides the defaults; a setting named explicitly at
    the same level or above (``--protocol paper --epochs 3``) wins over the bundle.
    """
    project = load_project_config(root)
    given = {k: v for k, v in flags.items() if v is not None}
    values = project.model_dump()
    protocol = given.get("protocol", project.protocol)
    if protocol == "paper":
        file_keys = set() if "protocol" in given else project.model_fields_set
        values |= {key: value for key, value in PAPER_PROTOCOL.items() if key not in file_keys}
    values |= given
    if "concurrency" not in project.model_fields_set and flags.get("concurrency") is None:
        values["concurrency"] = TRAIN_TASKS_AT_ONCE  # the LLM's default (requests in flight) is not the trainer's
    config = TrainConfig(**{f.name: values[f.name] for f in fields(TrainConfig) if f.name in values})
    limits = AgentLimits(max_turns=values["max_turns"], task_timeout=float(values["task_timeout"]))
    options = RunOptions(
        max_actions=values["max_actions"],
        prompt_budget=values["prompt_budget"],
        agent_limits=limits,
        concurrency=values["concurrency"],
        sandbox=None if values["sandbox"] == "auto" else values["sandbox"],
        clip=values["clip"],
        show_answers=values["show_answers"],
        update=values["update"],
    )
    if options.max_actions < 1:
        raise ValueError("max_actions must be at least 1")
    return config, options


def prepare_run(
    repo: str | os.PathLike[str],
    task: str | TaskSet,
    config: TrainConfig = TrainConfig(),
    *,
    llm: LLMSettings | None = None,
    options: RunOptions = RunOptions(),
    run: str | None = None,
    resume: str | None = None,
    client: LLMClient | None = None,
    remote: str | None = None,
) -> Trainer:
    """A Trainer for a new run (``run`` names it) or for resuming one (``resume``).

    ``llm``: the endpoint and models; by default what ``fnreg train`` would use here
    (:meth:`LLMSettings.from_env <fnreg.llm.LLMSettings.from_env>`). Everything that can be
    refused is checked first (the task set, the endpoint, prices for ``max_cost``) and nothing
    is created until the trainer runs: a failing call leaves no branch, worktree or file behind.
    ``task``: a task set's name or path, or a loaded :class:`TaskSet` (e.g. with other sizes).
    ``remote``: where to fetch a run to resume that this clone does not have.
    """
    main = Registry(repo)
    llm = llm if llm is not None else (client.settings if client is not None else LLMSettings.from_env(main.root))
    task_set = task if isinstance(task, TaskSet) else load_task_set(task, main.root)
    check_committed(main, task_set)
    main.check_generated_init(task_set.toolset)
    if client is None:
        check_settings(llm, config)
    else:
        check_prices(llm, config)
    main.state_dir()  # before the LLM client puts its cache there: .fnreg/ is ignored first
    if resume:
        workspace = Workspace.find(main, resume, remote=remote)
        if workspace.toolset != task_set.toolset:
            raise FnregError(
                f"run {workspace.run!r} trains toolset {workspace.toolset!r} but task set {task_set.name!r} "
                f"uses {task_set.toolset!r}; resume it with its own task set"
            )
    else:
        workspace = Workspace.new(main, task_set.toolset, run=run)
    client = client or LLMClient(llm)
    adapter = evaluation_adapter(main, task_set, client, options)
    optimizer = AgentOptimizer(
        client,
        max_actions=options.max_actions,
        prompt_budget=options.prompt_budget,
        clip=options.clip,
        show_answers=options.show_answers,
        update=options.update,
    )
    return Trainer(workspace, task_set, adapter, optimizer, config, usage=client.usage)


def evaluation_adapter(main: Registry, task_set: TaskSet, client: LLMClient, options: RunOptions) -> TaskSetAdapter:
    """How a run evaluates its toolset: the options' concurrency, agent limits and sandbox,
    the repository's sandbox limits and kept schemas."""
    return TaskSetAdapter(
        task_set,
        client,
        concurrency=options.concurrency,
        package=main.package,
        agent_limits=options.agent_limits,
        sandbox_mode=options.sandbox,
        sandbox_limits=sandbox_limits(main.root),
        schema_cache=main.derivation_cache(),
    )


def check_settings(llm: LLMSettings, config: TrainConfig) -> None:
    """What a run needs of its LLM settings, checked before anything is created or spent."""
    check_prices(llm, config)
    if llm.replay_path is None:
        check_endpoint(llm)


def check_prices(llm: LLMSettings, config: TrainConfig) -> None:
    """``max_cost`` needs a price for every model the run uses: refuse before anything is spent."""
    if config.max_cost is None:
        return
    for role in ("agent", "optimizer"):
        model = llm.model_for(role)
        if llm.price_for(model) is None:
            raise InputError(
                f"--max-cost needs the price of the {role} model {model!r}, which fnreg does not know: add "
                f'"{model}" = [<USD per 1M prompt tokens>, <USD per 1M completion tokens>] under '
                "[tool.fnreg.prices] in pyproject.toml (built-in prices cover OpenAI's own endpoint only)"
            )


def check_committed(main: Registry, task_set: TaskSet) -> None:
    """Refuse to train from files git does not have: a run must be reproducible from its commits.

    The run trains the toolset as committed at HEAD, so uncommitted edits under it would be
    silently left out, while uncommitted task data would be silently used.
    """
    paths = [main.toolset_path(task_set.toolset)]
    for path in [task_set.folder, *_data_files(task_set)]:
        relative = _inside(path, main.root)
        if relative is not None:
            paths.append(relative)
    dirty = main.git.changed_files(paths)
    if dirty:
        more = f" (and {len(dirty) - 1} more)" if len(dirty) > 1 else ""
        raise FnregError(
            f"{dirty[0]}{more} has uncommitted changes; commit or stash them first (a run trains what git has)"
        )


def _data_files(task_set: TaskSet) -> list[Path]:
    files = []
    for split in ("train", "val", "test"):
        if task_set.has_split(split):
            with contextlib.suppress(FnregError):  # a missing split is reported where it is used
                files.append(task_set.data_path(split))
    return files


def _inside(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root).as_posix() or "."
    except ValueError:
        return None


@dataclass(frozen=True)
class Projection:
    """LLM calls, tokens and cost of a run, projected before spending anything (``--dry-run``)."""

    tasks: int
    evaluations: int
    agent_calls: int
    agent_tokens: int
    optimizer_calls: int
    optimizer_tokens: int
    cost_usd: float | None

    @property
    def calls(self) -> int:
        return self.agent_calls + self.optimizer_calls

    @property
    def tokens(self) -> int:
        return self.agent_tokens + self.optimizer_tokens


EXPECTED_TURNS = 3  # a typical task: a tool call or two, then the answer


def project_run(
    task_set: TaskSet, config: TrainConfig, options: RunOptions, llm: LLMSettings, tools: list[dict]
) -> tuple[Projection, Projection]:
    """(expected, at most) LLM calls and tokens of a run, before spending anything.

    At most: every task uses every turn, every optimizer action every trial and the whole
    prompt budget. Expected: three turns a task, one trial an action, and an optimizer prompt
    the size of the recorded conversations (capped by the budget).
    """
    train = task_set.split("train")
    batch = min(config.batch_size or len(train), len(train))
    paired = config.batch_size and batch < len(train) and config.batch_rule == "paired"
    evaluations = 1 + config.epochs * (2 if paired else 1)
    # The best functions on the test split, and the starting ones beside them for the review.
    tested = 2 * len(task_set.split("test")) if config.test else 0
    # The validation split is evaluated with the baseline and after every step.
    tested += (1 + config.epochs) * len(task_set.split("val")) if task_set.has_val else 0
    sample = train[: min(5, len(train))]
    first = max(
        (
            count_message_tokens([{"role": "user", "content": t.render(task_set.prompt)}], tools, llm.model)
            for t in sample
        ),
        default=0,
    )

    def projection(turns: int, trials: int, optimizer_prompt: int) -> Projection:
        # Each turn resends the conversation so far: about turns^2 / 2 first-request sizes, plus replies.
        per_task = first * turns * (turns + 1) // 2 + 300 * turns
        tasks = evaluations * batch + tested
        agent_calls, agent_tokens = tasks * turns, tasks * per_task
        requests = 1 if options.update == "one_shot" else options.max_actions
        optimizer_calls = config.epochs * requests * trials
        optimizer_tokens = optimizer_calls * optimizer_prompt
        cost = _cost(llm, agent_tokens, optimizer_tokens)
        return Projection(batch, evaluations, agent_calls, agent_tokens, optimizer_calls, optimizer_tokens, cost)

    max_turns = task_set.max_turns or options.agent_limits.max_turns
    turns = min(EXPECTED_TURNS, max_turns)
    conversations = 4_000 + batch * (first * turns + 300 * turns)
    expected = projection(turns, 1, min(options.prompt_budget, conversations))
    return expected, projection(max_turns, 3, options.prompt_budget)


def _cost(llm: LLMSettings, agent_tokens: int, optimizer_tokens: int) -> float | None:
    agent_price = llm.price_for(llm.model)
    optimizer_price = llm.price_for(llm.model_for("optimizer"))
    if agent_price is None or optimizer_price is None:
        return None
    # Prompts dominate: price everything at the prompt rate, and a tenth at the completion rate on top.
    return sum(
        tokens * (price[0] + 0.1 * price[1]) / 1e6
        for tokens, price in ((agent_tokens, agent_price), (optimizer_tokens, optimizer_price))
    )


def agent_tools(main: Registry, toolset: str) -> list[dict[str, Any]]:
    """The tools the agent would be offered at HEAD (for projecting request sizes)."""
    return [*main.toolset(toolset, "HEAD").openai_tools(), PYTHON_TOOL]
