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
    make_client,
    open_registry,
    pop_llm_options,
    print_json,
    sandbox_option,
    sandbox_setting,
)
from fnreg.commands.display import accuracy, eval_summary, task_progress
from fnreg.evaluation import EvalResult, TaskSetAdapter, load_task_set, merge_results, shard, toolset_checkout
from fnreg.sandbox.config import sandbox_limits


@click.command("eval")
@click.argument("task")
@click.option("--ref", help="Evaluate the toolset at this commit, branch or tag (default: working tree).")
@click.option("--split", type=click.Choice(["train", "test"]), default="test", show_default=True)
@click.option("--shard", "shard_spec", metavar="I/N", help="Evaluate only the I-th of N deterministic slices.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write per-task results as JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of a table.")
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
    sandbox_mode: str | None,
    **kwargs,
) -> None:
    """Evaluate TASK (a task set under tasks/ or a path) and print accuracy, failures, tokens."""
    registry = open_registry(ctx)
    task_set = load_task_set(task, registry.root)
    tasks = shard(task_set.split(split), shard_spec)
    client = make_client(registry, pop_llm_options(kwargs))
    adapter = TaskSetAdapter(
        task_set,
        client,
        concurrency=client.settings.concurrency,
        package=registry.package,
        sandbox_mode=sandbox_setting(registry.root, sandbox_mode),
        sandbox_limits=sandbox_limits(registry.root),
    )
    started = time.monotonic()
    results, interrupted = [], False
    with toolset_checkout(registry, task_set.toolset, ref) as checkout, client:
        progress = task_progress(console if not as_json else Console(stderr=True))
        with progress:
            bar = progress.add_task(f"{task_set.name} {split}", total=len(tasks), accuracy="-", extra="")
            stream = adapter.evaluate(checkout, tasks)
            try:
                for result in stream:
                    results.append(result)
                    correct = sum(r.correct for r in results)
                    progress.update(bar, advance=1, accuracy=accuracy(correct, len(results)))
            except KeyboardInterrupt:
                interrupted = True
                stream.close()
    order = {t.id: i for i, t in enumerate(tasks)}
    evaluation = EvalResult(
        sorted(results, key=lambda r: order[r.task_id]),
        time.monotonic() - started,
        interrupted,
        meta={
            "task_set": task_set.name,
            "split": split,
            "ref": ref or "working tree",
            "shard": shard_spec,
            "model": client.settings.model,
            **({"sandbox": adapter.sandbox_record} if adapter.sandbox_record else {}),
        },
    )
    _emit(evaluation, f"{task_set.name} ({split}, {ref or 'working tree'})", output, as_json)
    if interrupted:
        ctx.exit(130)


@click.command("eval-merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the merged results here.")
@click.option("--json", "as_json", is_flag=True, help="Print the merged results as JSON.")
def eval_merge_command(shards: tuple[str, ...], output: str | None, as_json: bool) -> None:
    """Combine the --output files of `fnreg eval --shard` runs into one result."""
    merged = merge_results(EvalResult.from_json(json.loads(Path(p).read_text(encoding="utf-8"))) for p in shards)
    _emit(merged, f"{len(shards)} shards merged", output, as_json)


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
