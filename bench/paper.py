"""``python -m bench.paper``: the AgentOptimizer paper's experiments, run with fnreg, as one table.

    python -m bench.paper --base-url URL --model M --optimizer-model O -o paper.md --record cassettes/
    python -m bench.paper --dry-run --model M --optimizer-model O      # what it would cost, nothing sent
    python -m bench.paper --replay cassettes/ -o paper.md              # the same table, offline

For each task set × agent (× ablation with ``--ablations``) it trains in a scratch repository
(never in ``--repo``, which only supplies the task sets and starting functions), then evaluates
on the test split, ``--repeats`` times each: the starting functions ("baseline"), the best
epoch's ("trained"), and the starting functions with self-consistency over K samples, K chosen
so that they spend about the tokens the trained agent did, training included ("compute-matched").
The table gives each with its 95% interval, the differences with paired-bootstrap intervals,
the tokens and cost, and the paper's published number for the cell where there is one.

Defaults are the paper's protocol (``--protocol paper``) on the seven MATH types with the task
sets' 20 train / 80 test problems, with the function-calling ("tools", the paper's GPT-4+
agent) and ReAct agents. ``--record DIR`` keeps every LLM exchange as a cassette per cell, the
settings (``manifest.json``) and the table; ``--replay DIR`` answers from them and writes the
same table byte for byte, without any endpoint.

No figure this harness writes is a model's unless a real model answered: a scripted loopback
model (as in fnreg's tests) produces a table too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT  # noqa: F401  (puts the checkout on sys.path)
from fnreg.errors import FnregError
from fnreg.evaluation import TaskSetAdapter, load_task_set, toolset_checkout
from fnreg.evaluation.consistency import vote
from fnreg.evaluation.repeats import Repeats, collect
from fnreg.evaluation.stats import Interval, paired_bootstrap_interval, wilson_interval
from fnreg.evaluation.tasks import TaskSet
from fnreg.llm import LLMClient, LLMSettings, Usage, llm_settings
from fnreg.registry import Git, Registry
from fnreg.registry.history import format_message
from fnreg.training import TrainConfig, prepare_run, project_run, settings_from_project
from fnreg.training.config import PAPER_PROTOCOL
from fnreg.training.events import EpochFinished, RunFinished
from fnreg.training.launch import RunOptions, agent_tools, evaluation_adapter
from fnreg.training.state import load_state

MATH_TYPES = (
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
)
DEFAULT_TASKS = tuple(f"math-{kind}" for kind in MATH_TYPES)
AGENTS = ("tools", "react")
#: Self-consistency samples at this temperature; K is at least 2 and at most ``--max-samples``.
SAMPLE_TEMPERATURE = 0.7
MANIFEST = "manifest.json"
TABLE = "TABLE.md"


@dataclass(frozen=True)
class Published:
    """A cell of the paper's tables: test accuracy (%) without and with agent training."""

    baseline: float
    trained: float
    source: str


#: Zhang et al., "Offline Training of Language Model Agents with Functions as Learnable Weights",
#: ICML 2024 (arXiv 2402.11359). fnreg's "tools" agent stands for the paper's GPT-4+ agent
#: (function calling), "react" for its ReAct agent. Only cells quoted in fnreg's issue 15 are
#: here; the others of Table 1 are left out rather than typed in unchecked (no copy of the paper
#: is reachable from the machines this was written on). The TabMWP cells' table number was not
#: checked for the same reason.
PUBLISHED: dict[tuple[str, str], Published] = {
    ("math-counting_and_probability", "tools"): Published(
        72.5, 76.3, "Table 1, GPT-4+ agent, Counting & Probability, test"
    ),
    ("math-number_theory", "react"): Published(68.8, 72.5, "Table 1, ReAct agent, Number Theory, test"),
    ("tabmwp", "tools"): Published(51.0, 56.0, "TabMWP results, GPT-4+ agent, test"),
    ("tabmwp", "react"): Published(59.0, 70.0, "TabMWP results, ReAct agent, test"),
}


@dataclass(frozen=True)
class Variant:
    """A row kind: the protocol as set, or one of the paper's Table 3 ablations."""

    name: str
    label: str
    config: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


VARIANTS = {
    "full": Variant("full", "agent training"),
    "no_rollback": Variant(
        "no_rollback", "w/o roll-back & early stop (Table 3)", config={"rollback": False, "early_stop": False}
    ),
    "one_shot": Variant("one_shot", "w/o progressive update (Table 3)", options={"update": "one_shot"}),
}


@dataclass(frozen=True)
class Cell:
    task: str
    agent: str
    variant: str

    @property
    def key(self) -> str:
        return f"{self.task}.{self.agent}.{self.variant}"


@dataclass
class Settings:
    """What decides the table (kept in ``manifest.json`` so that ``--replay`` needs nothing else)."""

    tasks: list[str]
    agents: list[str]
    ablations: bool
    protocol: str
    epochs: int | None
    train_size: int | None
    test_size: int | None
    repeats: int
    model: str | None
    optimizer_model: str | None
    max_samples: int
    prices: dict[str, list[float]]

    @property
    def cells(self) -> list[Cell]:
        variants = list(VARIANTS) if self.ablations else ["full"]
        return [Cell(t, a, v) for t in self.tasks for a in self.agents for v in variants]


@dataclass
class Outcome:
    """One cell's measurements."""

    cell: Cell
    best_epoch: int
    epochs: int
    baseline: Repeats
    trained: Repeats
    matched: Any  # EvalResult of the self-consistency vote, or None
    samples: int
    usage_by_role: dict[str, Usage]
    test_tasks: int


# ----------------------------------------------------------------------------- command line


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.paper", description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path("."), help="where the task sets live (default: .)")
    parser.add_argument("--tasks", help=f"task sets, comma-separated (default: {','.join(DEFAULT_TASKS)})")
    parser.add_argument("--agents", help="tools,react (default: both)")
    parser.add_argument("--base-url", help="the OpenAI-compatible endpoint (else OPENAI_BASE_URL)")
    parser.add_argument("--model", help="the agent's model")
    parser.add_argument("--optimizer-model", help="the optimizer's model (default: the agent's)")
    parser.add_argument("--protocol", choices=["paper", "fnreg"], help="settings preset (default: paper)")
    parser.add_argument("--epochs", type=int, help="epochs (default: the protocol's)")
    parser.add_argument("--train-size", type=int, help="training problems per task set (default: the task set's)")
    parser.add_argument("--test-size", type=int, help="test problems per task set (default: the task set's)")
    parser.add_argument("--repeats", type=int, help="evaluations of each toolset on the test split (default 1)")
    parser.add_argument("--ablations", action="store_true", default=None, help="add the paper's Table 3 rows")
    parser.add_argument("--max-samples", type=int, help="most self-consistency samples per task (default 16)")
    parser.add_argument(
        "--price",
        action="append",
        metavar="MODEL=PROMPT,COMPLETION",
        help="USD per 1M tokens, for the cost column and --dry-run (repeatable; also [tool.fnreg.prices])",
    )
    recording = parser.add_mutually_exclusive_group()
    recording.add_argument("--record", type=Path, metavar="DIR", help="keep cassettes, settings and table here")
    recording.add_argument("--replay", type=Path, metavar="DIR", help="answer from a --record DIR, offline")
    parser.add_argument("--dry-run", action="store_true", help="print the projected calls, tokens and cost")
    parser.add_argument("-o", "--output", type=Path, help="write the table here (default: stdout)")
    parser.add_argument("--workdir", type=Path, help="scratch repository (default: a temporary folder)")
    parser.add_argument("--concurrency", type=int, default=8, help="tasks in flight at once (default 8)")
    parser.add_argument("--sandbox", choices=["jail", "process", "auto"], default="auto")
    return parser.parse_args(argv)


def resolve(args: argparse.Namespace) -> Settings:
    """The settings: from the flags (and defaults), or from the manifest of ``--replay DIR``."""
    given = {
        "tasks": args.tasks.split(",") if args.tasks else None,
        "agents": args.agents.split(",") if args.agents else None,
        "ablations": args.ablations,
        "protocol": args.protocol,
        "epochs": args.epochs,
        "train_size": args.train_size,
        "test_size": args.test_size,
        "repeats": args.repeats,
        "model": args.model,
        "optimizer_model": args.optimizer_model,
        "max_samples": args.max_samples,
        "prices": _prices(args.price) or None,
    }
    if args.replay:
        manifest = args.replay / MANIFEST
        if not manifest.is_file():
            raise FnregError(f"{manifest} not found: --replay takes a folder written by --record")
        recorded = json.loads(manifest.read_text(encoding="utf-8"))["settings"]
        for key, value in given.items():
            if value is not None and value != recorded[key]:
                raise FnregError(
                    f"--replay takes its settings from {manifest}: it was recorded with {key} = {recorded[key]!r}, "
                    f"not {value!r}; leave the option out"
                )
        return Settings(**recorded)
    settings = Settings(
        tasks=given["tasks"] or [t for t in DEFAULT_TASKS if (args.repo / "tasks" / t / "task.toml").is_file()],
        agents=given["agents"] or list(AGENTS),
        ablations=bool(given["ablations"]),
        protocol=given["protocol"] or "paper",
        epochs=given["epochs"],
        train_size=given["train_size"],
        test_size=given["test_size"],
        repeats=given["repeats"] or 1,
        model=given["model"],
        optimizer_model=given["optimizer_model"],
        max_samples=given["max_samples"] or 16,
        prices=given["prices"] or {},
    )
    for agent in settings.agents:
        if agent not in AGENTS:
            raise FnregError(f"unknown agent {agent!r}; use tools and/or react")
    if settings.repeats < 1 or settings.max_samples < 2:
        raise FnregError("--repeats must be at least 1 and --max-samples at least 2")
    return settings


def _prices(values: list[str] | None) -> dict[str, list[float]]:
    prices = {}
    for value in values or []:
        try:
            model, pair = value.split("=", 1)
            prompt, completion = (float(part) for part in pair.split(","))
        except ValueError:
            raise FnregError(f"--price {value!r}: write MODEL=PROMPT,COMPLETION in USD per 1M tokens") from None
        prices[model] = [prompt, completion]
    return prices


# ----------------------------------------------------------------------------- one cell


def task_set_for(cell: Cell, settings: Settings, repo: Path) -> TaskSet:
    """The cell's task set, with the harness's agent and sizes."""
    base = load_task_set(cell.task, repo)
    sizes = {
        key: value
        for key, value in (("train_size", settings.train_size), ("test_size", settings.test_size))
        if value is not None
    }
    return dataclasses.replace(base, agent=cell.agent, **sizes)


def schedule(
    settings: Settings, repo: Path, cell: Cell, sandbox: str, concurrency: int
) -> tuple[TrainConfig, RunOptions]:
    flags = {"protocol": settings.protocol, "epochs": settings.epochs, "concurrency": concurrency}
    config, options = settings_from_project(repo, sandbox=sandbox, **flags)
    variant = VARIANTS[cell.variant]
    config = dataclasses.replace(config, test=False, **variant.config)
    options = dataclasses.replace(options, **variant.options)
    return config, options


def llm_for(settings: Settings, repo: Path, args: argparse.Namespace, cell: Cell, *, cache: bool = True) -> LLMSettings:
    cassette = None
    if args.record:
        args.record.mkdir(parents=True, exist_ok=True)
        cassette = args.record / f"{cell.key}.jsonl"
        cassette.unlink(missing_ok=True)  # a cell recorded again starts its cassette afresh
    replay = args.replay / f"{cell.key}.jsonl" if args.replay else None
    if replay is not None and not replay.is_file():
        raise FnregError(f"{replay} not found: the recording in {args.replay} has no cell {cell.key}")
    overrides: dict[str, Any] = {
        "model": settings.model,
        "optimizer_model": settings.optimizer_model,
        "record_path": cassette,
        "replay_path": replay,
        "concurrency": args.concurrency,
    }
    if not args.replay:
        overrides["base_url"] = args.base_url
    # The checkout's own response cache: a harness run that failed half-way, run again, gets the
    # finished cells' answers from it instead of paying twice.
    cached = Registry(args.repo.resolve()).state_dir() / "cache.sqlite" if cache else None
    llm = llm_settings(repo, cache_path=cached, **overrides)
    prices = {**{m: tuple(p) for m, p in llm.prices.items()}, **{m: tuple(p) for m, p in settings.prices.items()}}
    return dataclasses.replace(llm, prices=prices)


def run_cell(cell: Cell, settings: Settings, repo: Path, args: argparse.Namespace) -> Outcome:
    """Train, then evaluate baseline, trained and compute-matched on the test split."""
    task_set = task_set_for(cell, settings, repo)
    config, options = schedule(settings, repo, cell, args.sandbox, args.concurrency)
    client = LLMClient(llm_for(settings, repo, args, cell))
    try:
        trainer = prepare_run(repo, task_set, config, llm=client.settings, options=options, run=cell.key, client=client)
        finished = None
        for event in trainer.run():
            if isinstance(event, EpochFinished):
                _log(f"{cell.key}: epoch {event.epoch} train {event.score:.1%} {event.decision}")
            if isinstance(event, RunFinished):
                finished = event
        assert finished is not None
        training = client.usage.snapshot()
        main = Registry(repo)
        state = load_state(main.git, finished.branch, cell.key)
        adapter = evaluation_adapter(main, task_set, client, options)  # as the run evaluated
        tasks = task_set.split("test")
        baseline = _evaluate(main, adapter, tasks, state.start, settings.repeats)
        trained = (
            baseline
            if finished.best_epoch == 0
            else _evaluate(main, adapter, tasks, finished.best_commit, settings.repeats)
        )
        samples = _matched_samples(training.total, baseline, trained, settings.max_samples)
        with toolset_checkout(main, task_set.toolset, state.start) as checkout:
            drawn = list(adapter.evaluate_repeats(checkout, tasks, samples, temperature=SAMPLE_TEMPERATURE))
        matched = vote(collect(drawn, [t.id for t in tasks], samples), adapter.check)
        _log(
            f"{cell.key}: baseline {baseline.mean:.1%}, trained {trained.mean:.1%}, matched {matched.score:.1%} (×{samples})"
        )
        return Outcome(
            cell=cell,
            best_epoch=finished.best_epoch,
            epochs=state.epochs[-1].epoch,
            baseline=baseline,
            trained=trained,
            matched=matched,
            samples=samples,
            usage_by_role=dict(client.usage.snapshot().roles),
            test_tasks=len(tasks),
        )
    finally:
        client.close()


def _evaluate(main: Registry, adapter: TaskSetAdapter, tasks, ref: str | None, repeats: int) -> Repeats:
    with toolset_checkout(main, adapter.task_set.toolset, ref) as checkout:
        finished = list(adapter.evaluate_repeats(checkout, tasks, repeats))
    return Repeats(collect(finished, [t.id for t in tasks], repeats))


def _matched_samples(training: Usage, baseline: Repeats, trained: Repeats, most: int) -> int:
    """K so that K baseline samples spend about what training and one trained evaluation did."""
    per_sample = baseline.runs[0].usage.total_tokens
    spent = training.total_tokens + trained.runs[0].usage.total_tokens
    if per_sample <= 0:
        return 2
    return max(2, min(most, round(spent / per_sample)))


def _log(message: str) -> None:
    print(f"[paper] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- the scratch repository


def scratch_repo(source: Path, settings: Settings, folder: Path) -> Path:
    """A git repository holding the cells' task sets and starting functions, copied from ``source``."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # the sandbox may run learned code as another user
    git = Git.init(folder)
    main = Registry(source)
    for task in settings.tasks:
        task_set = load_task_set(task, source)
        target = folder / "tasks" / task
        if not target.exists():
            shutil.copytree(task_set.folder, target)
        toolset = main.toolset_path(task_set.toolset)
        if (source / toolset).is_dir() and not (folder / toolset).exists():
            shutil.copytree(source / toolset, folder / toolset, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / ".gitignore").write_text(".fnreg/\n__pycache__/\n", encoding="utf-8")
    git.run("add", "--all")
    if git.run("status", "--porcelain"):
        git.run("commit", "--quiet", "-F", "-", input=format_message("bench.paper: task sets and starting functions"))
    return folder


# ----------------------------------------------------------------------------- the table


def _pct(value: float) -> str:
    return f"{value * 100:.1f}"


def _accuracy(repeats: Repeats) -> str:
    if repeats.n == 1:
        run = repeats.runs[0]
        interval = wilson_interval(run.correct, run.total)
        return f"{_pct(interval.value)} [{_pct(interval.low)}, {_pct(interval.high)}]"
    return f"{_pct(repeats.mean)} ± {_pct(repeats.sd)}"


def _difference(interval: Interval) -> str:
    return f"{interval.value * 100:+.1f} [{interval.low * 100:+.1f}, {interval.high * 100:+.1f}]"


def _shares(repeats: Repeats) -> list[float] | list[bool]:
    return [bool(s) for s in repeats.shares] if repeats.n == 1 else repeats.shares


def cost(usage_by_role: dict[str, Usage], llm: LLMSettings) -> float | None:
    """USD at list price for every token (cached or not): what the cell costs a fresh run."""
    total = 0.0
    for role, usage in usage_by_role.items():
        price = llm.price_for(llm.model_for(role))
        if price is None:
            return None
        total += (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1e6
    return total


def render(outcomes: list[Outcome], settings: Settings, llm: LLMSettings) -> str:
    protocol = PAPER_PROTOCOL if settings.protocol == "paper" else {}
    chosen = ", ".join(f"{k} {str(v).lower() if isinstance(v, bool) else v}" for k, v in protocol.items())
    chosen = chosen or "fnreg's defaults"
    if settings.epochs is not None:
        chosen += f"; epochs {settings.epochs}"
    lines = [
        "# The AgentOptimizer paper's protocol, run with fnreg",
        "",
        f"Agent model `{llm.model}`, optimizer model `{llm.model_for('optimizer')}`. Protocol `{settings.protocol}` "
        f"({chosen}). Test accuracy (%) over {settings.repeats} evaluation{'s' if settings.repeats != 1 else ''} "
        "of each toolset: one evaluation with its 95% Wilson interval, several as mean ± sd. Δ: paired bootstrap "
        "95% interval over the test tasks. Compute-matched: the starting functions with self-consistency over K "
        f"samples at temperature {SAMPLE_TEMPERATURE}, K chosen so that they spend about the tokens of training "
        "plus one trained evaluation. Tokens: every request's, cached or not; cost at list price.",
        "",
        "These figures are whatever the endpoint answered. Only a real model's run is comparable with the paper's "
        "column; a scripted model (fnreg's tests) fills the table too.",
        "",
        "| task set | agent | variant | best epoch | baseline | trained | compute-matched (K) | Δ trained − baseline "
        "| Δ trained − matched | tokens | cost | paper: baseline → trained |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for outcome in outcomes:
        cell = outcome.cell
        trained, baseline = _shares(outcome.trained), _shares(outcome.baseline)
        matched = [r.correct for r in outcome.matched.results]
        tokens = sum((u for u in outcome.usage_by_role.values()), Usage()).total_tokens
        spent = cost(outcome.usage_by_role, llm)
        published = PUBLISHED.get((cell.task, cell.agent)) if cell.variant == "full" else None
        paper = f"{published.baseline:.1f} → {published.trained:.1f} ({published.source})" if published else "—"
        lines.append(
            f"| {cell.task} | {cell.agent} | {VARIANTS[cell.variant].label} | {outcome.best_epoch} of {outcome.epochs} "
            f"| {_accuracy(outcome.baseline)} | {_accuracy(outcome.trained)} "
            f"| {_pct(outcome.matched.score)} ({outcome.samples}) "
            f"| {_difference(paired_bootstrap_interval(baseline, trained))} "
            f"| {_difference(paired_bootstrap_interval(matched, trained))} "
            f"| {tokens:,} | {'—' if spent is None else f'${spent:,.2f}'} | {paper} |"
        )
    cells = f"{len(outcomes)} cell{'s' if len(outcomes) != 1 else ''}"
    lines += ["", f"Paper: Zhang et al., ICML 2024 (arXiv 2402.11359). {cells}.", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- dry run


def dry_run(settings: Settings, args: argparse.Namespace) -> str:
    """Projected calls, tokens and cost of every cell, before anything is sent.

    Training: :func:`fnreg.training.project_run` (expected: three turns a task, one optimizer
    trial an action). Then the baseline and trained evaluations (``repeats`` each), and the
    compute-matched samples, which spend about what training and one evaluation did.
    """
    repo = args.repo.resolve()
    main = Registry(repo)
    lines = [
        f"Projected LLM use of `python -m bench.paper` (protocol {settings.protocol}, {settings.repeats} "
        f"repeat{'s' if settings.repeats != 1 else ''}); nothing was sent.",
        "",
        "| cell | calls expected | tokens expected | tokens at most | cost expected |",
        "|---|---:|---:|---:|---:|",
    ]
    calls_total = tokens_total = most_total = 0
    cost_total: float | None = 0.0
    for cell in settings.cells:
        task_set = task_set_for(cell, settings, repo)
        config, options = schedule(settings, repo, cell, args.sandbox, args.concurrency)
        nothing = argparse.Namespace(**{**vars(args), "record": None, "replay": None})
        llm = llm_for(settings, repo, nothing, cell, cache=False)
        try:
            tools = agent_tools(main, task_set.toolset)
        except FnregError:
            tools = []
        expected, at_most = project_run(task_set, config, options, llm, tools)
        tasks_run = max(1, expected.evaluations * expected.tasks)
        per_task, turns = expected.agent_tokens / tasks_run, expected.agent_calls / tasks_run
        tests = len(task_set.split("test"))
        evaluated = tests * settings.repeats * 2  # baseline and trained, each `repeats` times
        matched_tasks = (expected.tokens + per_task * tests) / per_task if per_task else 0
        agent_tokens = per_task * (evaluated + matched_tasks)
        calls = int(expected.calls + turns * (evaluated + matched_tasks))
        tokens = int(expected.tokens + agent_tokens)
        most = int(at_most.tokens + agent_tokens)
        price = llm.price_for(llm.model)
        spent = None
        if expected.cost_usd is not None and price is not None:
            spent = expected.cost_usd + agent_tokens * (price[0] + 0.1 * price[1]) / 1e6
        cost_total = None if spent is None or cost_total is None else cost_total + spent
        calls_total, tokens_total, most_total = calls_total + calls, tokens_total + tokens, most_total + most
        lines.append(
            f"| {cell.key} | {calls:,} | {tokens:,} | {most:,} | {'unknown' if spent is None else f'${spent:,.2f}'} |"
        )
    cost_text = f"${cost_total:,.2f}" if cost_total is not None else "unknown (give --price MODEL=PROMPT,COMPLETION)"
    lines.append(f"| **total** | {calls_total:,} | {tokens_total:,} | {most_total:,} | {cost_text} |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    try:
        settings = resolve(args)
        if args.dry_run:
            sys.stdout.write(dry_run(settings, args))
            return 0
        return _run(settings, args)
    except FnregError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def pin(settings: Settings, source: Path) -> Settings:
    """The models and prices as resolved now (flags, environment, ``[tool.fnreg]``), so that the
    manifest holds them and a replay elsewhere asks for the same models and prices the same."""
    llm = llm_settings(source, model=settings.model, optimizer_model=settings.optimizer_model)
    prices = {model: list(pair) for model, pair in llm.prices.items()} | settings.prices
    return dataclasses.replace(settings, model=llm.model, optimizer_model=llm.model_for("optimizer"), prices=prices)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    source = args.repo.resolve()
    if not args.replay:
        settings = pin(settings, source)
    temporary = args.workdir is None
    folder = Path(tempfile.mkdtemp(prefix="fnreg-paper-")) if temporary else args.workdir.resolve()
    try:
        repo = scratch_repo(source, settings, folder)
        outcomes = []
        for cell in settings.cells:
            _log(f"{cell.key}: training")
            outcomes.append(run_cell(cell, settings, repo, args))
        llm = llm_for(
            settings, repo, argparse.Namespace(**{**vars(args), "record": None}), settings.cells[0], cache=False
        )
        table = render(outcomes, settings, llm)
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    if args.record:
        manifest = {"settings": dataclasses.asdict(settings), "command": _command()}
        (args.record / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        (args.record / TABLE).write_text(table, encoding="utf-8")
    if args.output:
        args.output.write_text(table, encoding="utf-8")
        _log(f"wrote {args.output}")
    else:
        sys.stdout.write(table)
    return 0


def _command() -> str:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True)
    return f"{shlex.join(['python', '-m', 'bench.paper', *sys.argv[1:]])} (fnreg {commit.stdout.strip() or '?'})"


if __name__ == "__main__":
    raise SystemExit(main())
