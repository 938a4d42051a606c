"""``fnreg eval TASK``: run the task set's agent with a toolset and report accuracy."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.console import Console

from fnreg.commands.common import (
    console,
    llm_options,
    make_adapter,
    make_client,
    open_registry,
    plural,
    pop_llm_options,
    print_json,
    sandbox_option,
)
from fnreg.commands.display import TaskProgress, consistency_summary, eval_summary, repeats_summary
from fnreg.errors import InputError
from fnreg.evaluation import (
    EvalResult,
    TaskResult,
    load_task_set,
    merge_results,
    shard,
    toolset_checkout,
)
from fnreg.evaluation.consistency import vote
from fnreg.evaluation.repeats import Repeats, collect

#: Self-consistency samples at this temperature unless --temperature says otherwise (Wang et al. used 0.5-0.7).
SELF_CONSISTENCY_TEMPERATURE = 0.7


@click.command("eval")
@click.argument("task")
@click.option("--ref", help="Evaluate the toolset at this commit, branch or tag (default: working tree).")
@click.option("--split", type=click.Choice(["train", "val", "test"]), default="test", show_default=True)
@click.option("--shard", "shard_spec", metavar="I/N", help="Evaluate only the I-th of N deterministic slices.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write per-task results as JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of a table.")
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Ask N times (the repeat index is in the cache key): every repeat's score, mean ± sd, pass@k, pass^k.",
)
@click.option(
    "--self-consistency",
    "samples",
    type=click.IntRange(min=2),
    metavar="K",
    help="Sample K answers per task at --temperature and take the majority (a compute-matched baseline).",
)
@click.option(
    "--temperature",
    type=click.FloatRange(min=0),
    help=f"Sampling temperature of --self-consistency (default {SELF_CONSISTENCY_TEMPERATURE}) or of repeats.",
)
@sandbox_option
@llm_options
@click.pass_context
def eval_command(
    ctx: click.Context,
    task: str,
    ref: str | None,
    split: str,
    shard_spec: str | None,
    output: str | None,
    as_json: bool,
    repeats: int,
    samples: int | None,
    temperature: float | None,
    sandbox_mode: str | None,
    **kwargs,
) -> None:
    """Evaluate TASK (a task set under tasks/ or a path) and print accuracy, failures, tokens."""
    registry = open_registry(ctx)
    task_set = load_task_set(task, registry.root)
    tasks = shard(task_set.split(split), shard_spec)
    task_set.load_evaluator()  # a bad evaluator is refused before anything is made or spent
    if samples and repeats > 1:
        raise InputError("--self-consistency and --repeats go one at a time; give one of them")
    client = make_client(registry, pop_llm_options(kwargs))
    adapter = make_adapter(registry, task_set, client, sandbox_mode)
    times = samples or repeats
    if samples and temperature is None:
        temperature = SELF_CONSISTENCY_TEMPERATURE
    if samples and temperature == 0:
        raise InputError("--self-consistency samples at a --temperature above 0; at 0 every sample is the same answer")
    started = time.monotonic()
    finished: list[tuple[int, TaskResult]] = []
    interrupted = False
    with toolset_checkout(registry, task_set.toolset, ref) as checkout, client:
        shown = console if not as_json else Console(stderr=True, highlight=False, soft_wrap=True)
        label = f"{task_set.name} {split}" + (f" ×{times}" if times > 1 else "")
        with TaskProgress(shown, label, len(tasks) * times) as progress:
            stream = adapter.evaluate_repeats(checkout, tasks, times, temperature=temperature)
            try:
                for item in stream:
                    finished.append(item)
                    correct = sum(r.correct for _, r in finished)
                    progress.update(len(finished), correct, client.usage.total.total_tokens)
            except KeyboardInterrupt:
                interrupted = True
                stream.close()
    meta = {
        "task_set": task_set.name,
        "split": split,
        "ref": ref or "working tree",
        "shard": shard_spec,
        "model": client.settings.model,
        **({"temperature": temperature} if temperature is not None else {}),
        **({"sandbox": adapter.sandbox_record} if adapter.sandbox_record else {}),
    }
    runs = collect(finished, [t.id for t in tasks], times, **meta)
    elapsed = time.monotonic() - started
    for run in runs:
        run.wall_time, run.interrupted = elapsed, interrupted
    title = f"{task_set.name} ({split}, {ref or 'working tree'})"
    if samples:
        _emit_consistency(runs, vote(runs, adapter.check), title, output, as_json)
    elif repeats > 1:
        _emit_repeats(Repeats(runs), title, output, as_json)
    else:
        _emit(runs[0], title, output, as_json)
    if interrupted:
        ctx.exit(130)


@click.command("eval-merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the merged results here.")
@click.option("--json", "as_json", is_flag=True, help="Print the merged results as JSON.")
def eval_merge_command(shards: tuple[str, ...], output: str | None, as_json: bool) -> None:
    """Combine the --output files of `fnreg eval --shard` runs into one result."""
    merged = merge_results(EvalResult.read(p) for p in shards)
    _emit(merged, f"{plural(len(shards), 'shard')} merged", output, as_json)


def _emit_repeats(repeats: Repeats, title: str, output: str | None, as_json: bool) -> None:
    data = repeats.to_json()
    if output:
        Path(output).write_text(json.dumps(data, indent=1), encoding="utf-8")
    if as_json:
        print_json(data)
        return
    console.print(repeats_summary(repeats, title))
    if output:
        console.print(f"per-task results of every repeat: {output}")


def _emit_consistency(
    samples: list[EvalResult], voted: EvalResult, title: str, output: str | None, as_json: bool
) -> None:
    repeats = Repeats(samples)
    data = {**voted.to_json(), "samples": repeats.summary()}
    if output:
        Path(output).write_text(json.dumps(data, indent=1), encoding="utf-8")
    if as_json:
        print_json(data)
        return
    console.print(consistency_summary(voted, repeats, title))
    if output:
        console.print(f"per-task results: {output}")


def _emit(result: EvalResult, title: str, output: str | None, as_json: bool) -> None:
    """Write the results file if asked, then print JSON or the summary table."""
    if output:
        Path(output).write_text(json.dumps(result.to_json(), indent=1), encoding="utf-8")
    if as_json:
        print_json(result.to_json())
        return
    console.print(eval_summary(result, title))
    if output:
        console.print(f"per-task results: {output}")
