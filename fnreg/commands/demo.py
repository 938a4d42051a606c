"""``fnreg demo``: the whole pipeline offline, against a scripted model on a loopback server."""

from __future__ import annotations

from pathlib import Path

import click
from rich.panel import Panel

from fnreg.commands.common import console
from fnreg.commands.display import run_summary
from fnreg.commands.train import show_training
from fnreg.llm import LLMClient, LLMSettings
from fnreg.testing.demo import prepare_demo_repo
from fnreg.testing.scripted_model import MODEL_NAME, scripted_policy
from fnreg.testing.server import ChatServer
from fnreg.training import RunOptions, TrainConfig, prepare_run
from fnreg.training.report import write_report

SCRIPTED_NOTICE = (
    "The model in this demo is [bold]scripted[/]: a deterministic policy behind a loopback "
    "chat-completions server on 127.0.0.1, not a language model. It exercises every part of "
    "training (add, revise, remove, roll-back, early stop, best tag); the accuracies describe "
    "the script, not any LLM."
)


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    default="fnreg-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Repository to train in (created if missing, reused otherwise).",
)
@click.option("--epochs", default=10, show_default=True, type=click.IntRange(min=1))
def demo_command(directory: str, epochs: int) -> None:
    """Train a toolset offline with a scripted model, then show where the results are."""
    console.print(Panel(SCRIPTED_NOTICE, title="fnreg demo (offline)", border_style="yellow"), soft_wrap=False)
    repo = prepare_demo_repo(Path(directory).resolve())
    with ChatServer(policy=scripted_policy, model_names=(MODEL_NAME,)) as server:
        settings = LLMSettings(
            base_url=server.base_url, model=MODEL_NAME, concurrency=4, cache_path=repo / ".fnreg" / "cache.sqlite"
        )
        client = LLMClient(settings)
        config = TrainConfig(epochs=epochs, patience=2, test=True)
        trainer = prepare_run(repo, "demo", config, llm=settings, options=RunOptions(max_actions=3), client=client)
        finished = show_training(trainer, client)
    written = write_report(
        trainer.workspace.main, finished.run, trainer.workspace.main.state_dir() / "reports" / finished.run
    )
    console.print(run_summary(finished, str(written["report"])))
    console.print(f"\nrepository  {repo}")
    console.print(f"branch      {finished.branch}")
    console.print(f"best tag    {finished.tag}")
    console.print(f"report      {written['report']}  (curve: {written['image']})")
    console.print(f"\nexplore:    cd {repo} && fnreg log && fnreg diff main {finished.tag}")
    console.print("[yellow]scripted model: these numbers describe the demo script, not an LLM.[/]")
