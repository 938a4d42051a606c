"""``fnreg review TASK --base A --head B``: what a change to the functions does to the score."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from fnreg.commands.common import (
    llm_options,
    make_adapter,
    make_client,
    open_registry,
    plural,
    pop_llm_options,
    sandbox_option,
)
from fnreg.commands.display import TaskProgress
from fnreg.errors import GitError, InputError
from fnreg.evaluation import EvalResult, load_task_set, toolset_checkout
from fnreg.evaluation.repeats import collect
from fnreg.evaluation.review import Review, marker, render_review
from fnreg.registry.history import training_record
from fnreg.github import check_gh, current_pull_request, upsert_comment

WORKING_TREE = "working tree"
#: Progress and the summary line; stdout carries the Markdown (``fnreg review ... > review.md``).
status = Console(stderr=True, highlight=False, soft_wrap=True)


@click.command("review")
@click.argument("task")
@click.option("--base", required=True, help="The ref to compare against (e.g. origin/main).")
@click.option("--head", help="The changed ref (default: the working tree, edits included).")
@click.option("--split", type=click.Choice(["train", "val", "test"]), default="test", show_default=True)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Evaluate each side N times (the repeat index is in the cache key); accuracies become mean ± sd.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the Markdown review here.")
@click.option("--comment", is_flag=True, help="Create or update the review comment on the pull request (gh).")
@click.option("--pr-number", help="The pull request to comment on (default: this checkout's).")
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when head scores below base (a CI gate).")
@click.option("--skip-unchanged", is_flag=True, help="Do nothing when neither the toolset nor the task set changed.")
@click.option(
    "--base-results",
    type=click.Path(dir_okay=False, exists=True),
    help="Use these `fnreg eval -o` results for base instead of evaluating (sharded CI jobs).",
)
@click.option(
    "--head-results", type=click.Path(dir_okay=False, exists=True), help="The same for head; give both or neither."
)
@sandbox_option
@llm_options
@click.pass_context
def review_command(ctx: click.Context, task: str, base: str, head: str | None, **kwargs) -> None:
    """Evaluate TASK's toolset at BASE and at HEAD on the same tasks and report the difference.

    The report has the accuracy of both with 95% intervals, the change with a paired
    bootstrap interval, the tasks that flipped, the function diffs and how the changed
    functions were called.
    """
    registry = open_registry(ctx)
    task_set = load_task_set(task, registry.root)
    base_commit, head_commit = _resolve(registry, base), _resolve(registry, head) if head else None
    number = None
    if kwargs["comment"]:
        check_gh("--comment")
        number = kwargs["pr_number"] or current_pull_request(registry.root)
    changes = registry.diff(base_commit, head_commit, toolset=task_set.toolset)[task_set.toolset]
    if kwargs["skip_unchanged"] and not changes and not _task_set_changed(registry, task_set, base_commit, head):
        status.print(f"nothing to review: neither toolset {task_set.toolset!r} nor task set {task_set.name!r} changed")
        return
    repeats: dict[str, list[EvalResult]] = {}
    if kwargs["base_results"] or kwargs["head_results"]:
        if kwargs["repeats"] > 1:
            raise InputError("--repeats evaluates both sides itself; it does not go with --base-results")
        results = _read_results(kwargs["base_results"], kwargs["head_results"])
    else:
        task_set.load_evaluator()  # a bad evaluator is refused before anything is made or spent
        client = make_client(registry, pop_llm_options(kwargs))
        adapter = make_adapter(registry, task_set, client, kwargs["sandbox_mode"])
        tasks = task_set.split(kwargs["split"])
        with client:
            repeats = {
                side: _evaluate(registry, adapter, tasks, ref, side, kwargs["repeats"])
                for side, ref in (("base", base), ("head", head))
            }
        results = {side: runs[0] for side, runs in repeats.items()}
    if sorted(r.task_id for r in results["base"].results) != sorted(r.task_id for r in results["head"].results):
        raise InputError(
            "base and head results cover different tasks; evaluate both sides on the same split and shards"
        )
    review = Review(
        task_set=task_set.name,
        toolset=task_set.toolset,
        split=kwargs["split"],
        base_ref=base,
        head_ref=head or WORKING_TREE,
        base=results["base"],
        head=results["head"],
        changes=changes,
        base_commit=base_commit,
        head_commit=head_commit,
        base_repeats=repeats.get("base", []) if kwargs["repeats"] > 1 else [],
        head_repeats=repeats.get("head", []) if kwargs["repeats"] > 1 else [],
        records=_training_records(registry, {"base": base_commit, "head": head_commit}),
    )
    _emit(registry, review, kwargs, number)
    if kwargs["fail_on_regression"] and review.regressed:
        ctx.exit(1)


def _read_results(base: str | None, head: str | None) -> dict[str, EvalResult]:
    if not (base and head):
        raise InputError("--base-results and --head-results go together")
    results = {}
    for side, path in (("base", base), ("head", head)):
        results[side] = EvalResult.read(path)
    return results


def _resolve(registry, ref: str) -> str:
    try:
        return registry.git.resolve(ref)
    except GitError:
        raise InputError(f"unknown ref {ref!r}: give a branch, tag or commit of this repository") from None


def _task_set_changed(registry, task_set, base_commit: str, head: str | None) -> bool:
    try:
        folder = task_set.folder.resolve().relative_to(registry.root).as_posix()
    except ValueError:
        return True  # outside the repository: git cannot tell
    diff = ["diff", "--name-only", base_commit, *([head] if head else []), "--", folder]
    return bool(registry.git.run(*diff))


def _evaluate(registry, adapter, tasks, ref: str | None, side: str, repeats: int = 1) -> list[EvalResult]:
    """The side's evaluation, once per repeat (repeat ``i`` keyed as such in the cache)."""
    finished = []
    with toolset_checkout(registry, adapter.task_set.toolset, ref) as checkout:
        label = f"{side} ({ref or WORKING_TREE})" + (f" ×{repeats}" if repeats > 1 else "")
        with TaskProgress(status, label, len(tasks) * repeats) as progress:
            for item in adapter.evaluate_repeats(checkout, tasks, repeats):
                finished.append(item)
                correct = sum(r.correct for _, r in finished)
                progress.update(len(finished), correct, adapter.client.usage.total.total_tokens)
    return collect(finished, [t.id for t in tasks], repeats, ref=ref or WORKING_TREE)


def _training_records(registry, commits: dict[str, str | None]) -> dict[str, str]:
    """What training recorded at each side's commit, when it is an epoch commit (a run's best tag)."""
    records = {}
    for side, commit in commits.items():
        if commit is not None:
            found = registry.git.log([commit], max_count=1)
            record = training_record(found[0]) if found else None
            if record:
                records[side] = record
    return records


def _emit(registry, review: Review, options: dict, number: str | None) -> None:
    markdown = render_review(review)
    output = Path(options["output"]) if options["output"] else None
    if output is not None:
        output.write_text(markdown, encoding="utf-8")
    status.print(
        f"{review.task_set} ({review.split}, {plural(review.base.total, 'task')}"
        + (f", {review.repeats} repeats" if review.repeats > 1 else "")
        + f"): base {review.base_accuracy.value:.1%} → head {review.head_accuracy.value:.1%}, "
        f"change {review.difference.as_points(signed=True)}; "
        f"{sum(f.fixed for f in review.flips)} fixed, {sum(not f.fixed for f in review.flips)} broken"
    )
    if number is not None:
        body = output or registry.state_dir() / f"review-{review.task_set}.md"
        if output is None:
            body.write_text(markdown, encoding="utf-8")
        status.print(f"comment: {upsert_comment(registry.root, number, body, marker(review.task_set))}")
    if output is None:
        sys.stdout.write(markdown)
