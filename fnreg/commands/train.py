"""``fnreg train TASK``: agent training on its own branch, with roll-back, early stop and resume."""

from __future__ import annotations

from dataclasses import replace

import click
from rich.table import Table

from fnreg.commands.common import (
    console,
    llm_options,
    make_client,
    make_settings,
    open_registry,
    plural,
    pop_llm_options,
    sandbox_option,
    sandbox_setting,
)
from fnreg.commands.display import TrainDisplay, run_summary
from fnreg.config import default
from fnreg.optimizer.config import OptimizerConfig
from fnreg.training.config import TrainingConfig
from fnreg.evaluation import load_task_set
from fnreg.training import prepare_run, project_run, settings_from_project
from fnreg.errors import FnregError
from fnreg.github import check_gh, open_pull_request
from fnreg.registry.remote import push_run, require_remote
from fnreg.training.events import EpochFinished, RunFinished
from fnreg.training.launch import agent_tools, check_settings
from fnreg.training.report import write_report


@click.command("train")
@click.argument("task")
@click.option(
    "--protocol",
    type=click.Choice(["fnreg", "paper"]),
    help="A preset: fnreg's cheaper defaults, or the paper's choices (10 epochs, patience 10, 3 actions, ties "
    "kept, no clipping under budget, answers shown, the paper's batch rule); flags given beside it win.",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), help=f"Optimizer steps (default {default(TrainingConfig, 'epochs')})."
)
@click.option(
    "--max-actions",
    type=click.IntRange(min=1),
    help=f"Actions per step (default {default(OptimizerConfig, 'max_actions')}).",
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    help=f"Epochs without improvement before stopping (default {default(TrainingConfig, 'patience')}; the paper: 10).",
)
@click.option(
    "--ties",
    type=click.Choice(["rollback", "keep"]),
    help=f"A step that ties the best: roll back (the paper's pseudocode) or keep it (its experiments; "
    f"default {default(TrainingConfig, 'ties')}).",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Training tasks sampled per epoch (default: all).")
@click.option(
    "--batch-rule",
    type=click.Choice(["paired", "paper"]),
    help="With --batch-size: evaluate the best set again on each batch (paired, fnreg's) or compare with its "
    f"recorded score (paper; default {default(TrainingConfig, 'batch_rule')}).",
)
@click.option("--no-rollback", is_flag=True, help="Keep every step, improving or not (the paper's ablation).")
@click.option("--no-early-stop", is_flag=True, help="Run every epoch whatever the patience (the paper's ablation).")
@click.option("--one-shot", is_flag=True, help="All of a step's actions in one optimizer reply (the paper's ablation).")
@click.option(
    "--show-answers/--hide-answers",
    default=None,
    help="Show the optimizer each task's answer and the ground truth (default: hidden; the paper shows them).",
)
@click.option(
    "--clip",
    type=click.Choice(["always", "over_budget"]),
    help="Cut long messages and old failed sets always (default) or only when over the prompt budget.",
)
@click.option("--seed", type=int, help="Seed of the batch sampling (default 0).")
@click.option("--optimizer-model", help="Model of the optimizer (default: the agent's --model).")
@click.option("--prompt-budget", type=click.IntRange(min=1000), help="Tokens per optimizer request (default 96000).")
@click.option("--max-cost", type=float, help="Stop cleanly once this many USD are spent (needs [tool.fnreg.prices]).")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Stop cleanly once this many tokens are billed.")
@click.option(
    "--test", "test_split", is_flag=True, default=None, help="Evaluate the best functions on the test split at the end."
)
@click.option("--run-id", help="Name of the new run (default: date and time).")
@click.option("--resume", metavar="RUN", help="Continue a run that was stopped or killed.")
@click.option("--dry-run", is_flag=True, help="Print the projected LLM calls and tokens, spend nothing.")
@click.option("--pr", is_flag=True, help="Push the run and open a pull request with `gh` at the end.")
@click.option(
    "--always-pr", is_flag=True, help="With --pr: open the pull request even when nothing beat the starting functions."
)
@click.option(
    "--push", is_flag=True, help="Push the branch and notes after every epoch (a killed CI job loses nothing)."
)
@click.option("--remote", default="origin", show_default=True, help="The git remote to push to and resume from.")
@sandbox_option
@llm_options
@click.pass_context
def train_command(ctx: click.Context, task: str, **kwargs) -> None:
    """Train the toolset of TASK on a branch fnreg/<toolset>/<run> in its own worktree.

    Your checkout is not touched. Each optimizer action is a commit, each evaluation an
    empty commit with its score, a roll-back a revert; the best epoch gets a tag.
    """
    registry = open_registry(ctx)
    llm_flags = pop_llm_options(kwargs)
    pr, dry_run, resume, run_id = kwargs.pop("pr"), kwargs.pop("dry_run"), kwargs.pop("resume"), kwargs.pop("run_id")
    always_pr, push, remote = kwargs.pop("always_pr"), kwargs.pop("push"), kwargs.pop("remote")
    optimizer_model = kwargs.pop("optimizer_model")
    kwargs["test"] = kwargs.pop("test_split")
    kwargs["rollback"] = False if kwargs.pop("no_rollback") else None
    kwargs["early_stop"] = False if kwargs.pop("no_early_stop") else None
    kwargs["update"] = "one_shot" if kwargs.pop("one_shot") else None
    kwargs["sandbox"] = sandbox_setting(registry.root, kwargs.pop("sandbox_mode"))
    config, options = settings_from_project(registry.root, **kwargs, concurrency=llm_flags["concurrency"])
    if dry_run:
        _dry_run(registry, task, config, options, llm_flags, optimizer_model)
        return
    sharing = pr or push
    if sharing:  # everything that can refuse is asked before anything is spent
        require_remote(registry.git, remote)
    if pr:
        check_gh("--pr")
    settings = make_settings(registry, llm_flags, optimizer_model=optimizer_model)
    check_settings(settings, config)  # an unknown endpoint or price: refused before anything is made
    client = make_client(registry, settings)
    options = replace(
        options, concurrency=client.settings.concurrency if llm_flags["concurrency"] else options.concurrency
    )
    known_remote = remote if remote in registry.git.run("remote").split() else None
    trainer = prepare_run(
        registry.root,
        task,
        config,
        llm=client.settings,
        options=options,
        run=run_id,
        resume=resume,
        client=client,
        remote=known_remote,
    )
    finished = show_training(trainer, client, push_to=remote if push else None)
    output = registry.state_dir() / "reports" / finished.run
    written = write_report(registry, finished.run, output, task=task)
    console.print(run_summary(finished, str(written["report"])))
    url = None
    if sharing:
        push_run(registry.git, remote, branch=finished.branch, tag=finished.tag)
        console.print(f"pushed {finished.branch}, {finished.tag} and the fnreg notes to {remote}")
    if pr and finished.best_epoch == 0 and not always_pr:
        console.print(
            "[yellow]no pull request[/]: the run did not beat the starting functions (best is epoch 0); "
            "--always-pr opens one anyway"
        )
    elif pr:
        url, created = open_pull_request(
            registry.root,
            branch=finished.branch,
            base=registry.git.branch() or "main",
            title=f"fnreg: trained toolset {trainer.toolset} (run {finished.run})",
            body=written["pull_request"],
        )
        console.print(f"pull request {'opened' if created else 'updated'}: {url}")
    _next_steps(finished, task, url, pushed=sharing)


def show_training(trainer, client, *, push_to: str | None = None) -> RunFinished:
    """Run the trainer showing its events; with ``push_to``, push the branch and notes after each epoch."""
    settings = client.settings
    models = dict.fromkeys([settings.model_for("agent"), settings.model_for("optimizer")])
    display = TrainDisplay(console, client.usage, unknown_prices=[m for m in models if settings.price_for(m) is None])
    finished = None
    events = trainer.run()
    try:
        for event in events:
            display.show(event)
            if isinstance(event, EpochFinished) and push_to is not None:
                _push_progress(trainer.workspace.main, push_to, trainer.workspace.branch)
            if isinstance(event, RunFinished):
                finished = event
    except KeyboardInterrupt:
        display.close()
        console.print(f"[yellow]interrupted[/]: committed epochs are kept; continue with --resume {trainer.run_id}")
        raise SystemExit(130) from None
    finally:
        events.close()  # removes the run's worktree however the loop ended
        display.close()
        client.close()
    assert finished is not None
    return finished


def _push_progress(registry, remote: str, branch: str) -> None:
    """A failed push mid-run is a warning: the run goes on, and the final push tries again."""
    try:
        push_run(registry.git, remote, branch=branch)
    except FnregError as exc:
        console.print(f"[yellow]warning[/]: {exc}")


def _next_steps(finished: RunFinished, task: str, url: str | None, *, pushed: bool) -> None:
    console.print("\n[bold]next[/]")
    console.print(f"  fnreg diff HEAD {finished.tag}        # what training changed")
    console.print(f"  fnreg review {task} --base HEAD --head {finished.tag}   # both on the test split")
    if url:
        console.print(f"  review and merge the pull request: {url}")
    else:
        console.print(f"  git merge --squash {finished.branch}   # take the trained functions as one commit")
        if not pushed:
            console.print(f"  fnreg train {task} --resume {finished.run} --pr   # or push it and open a pull request")
    console.print(f"  fnreg report {finished.run}          # report with the learning curve")


def _dry_run(registry, task, config, options, llm_flags, optimizer_model) -> None:
    from fnreg.llm import llm_settings

    task_set = load_task_set(task, registry.root)
    llm = llm_settings(
        registry.root, model=llm_flags["model"], base_url=llm_flags["base_url"], optimizer_model=optimizer_model
    )
    expected, at_most = project_run(task_set, config, options, llm, agent_tools(registry, task_set.toolset))
    table = Table(title=f"projected LLM use of training {task_set.name} (nothing was sent)", title_justify="left")
    for column in ("", "calls expected", "tokens expected", "calls at most", "tokens at most"):
        table.add_column(column, justify="right" if column else "left")
    rows = [
        (
            f"agent ({plural(expected.evaluations, 'evaluation')} × {plural(expected.tasks, 'task')})",
            "agent_calls",
            "agent_tokens",
        ),
        (
            f"optimizer ({plural(config.epochs, 'step')} × "
            + (f"{plural(options.max_actions, 'action')})" if options.update != "one_shot" else "1 one-shot request)"),
            "optimizer_calls",
            "optimizer_tokens",
        ),
        ("total", "calls", "tokens"),
    ]
    for label, calls, tokens in rows:
        table.add_row(
            label,
            *(f"{getattr(p, attribute):,}" for p in (expected,) for attribute in (calls, tokens)),
            *(f"{getattr(p, attribute):,}" for p in (at_most,) for attribute in (calls, tokens)),
        )
    console.print(table)
    if expected.cost_usd is None:
        cost = "unknown (set \\[tool.fnreg.prices] to see it)"
    else:
        cost = f"about ${expected.cost_usd:,.2f}, at most ${at_most.cost_usd:,.2f}"
    console.print(f"cost: {cost}; models: agent {llm.model}, optimizer {llm.model_for('optimizer')}")
