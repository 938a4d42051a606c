"""``fnreg report RUN``: the run's report (learning curve, epochs, functions) as Markdown or HTML."""

from __future__ import annotations

from pathlib import Path

import click

from fnreg.commands.common import console, open_registry
from fnreg.training.report import write_report


@click.command("report")
@click.argument("run")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(file_okay=False), help="Folder to write into (default .fnreg/reports/RUN)."
)
@click.pass_context
def report_command(ctx: click.Context, run: str, fmt: str, output: str | None) -> None:
    """Write the report of RUN (a run id or its branch) and its learning-curve image."""
    registry = open_registry(ctx)
    folder = Path(output) if output else registry.state_dir() / "reports" / run.split("/")[-1]
    written = write_report(registry, run, folder, fmt)
    console.print(f"report: {written['report']}")
    console.print(f"learning curve: {written['image']}")
