"""The ``fnreg`` command: a thin layer over the library (one module per command)."""

from __future__ import annotations

import sys

import click

from fnreg import __version__
from fnreg.errors import FnregError


class _Group(click.Group):
    """Turns fnreg's own errors into a one-line message and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FnregError as exc:
            raise _UserError(str(exc), exc.exit_code) from None


class _UserError(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="fnreg")
@click.option("-C", "repo", metavar="PATH", help="Run as if fnreg was started in PATH.")
def cli(repo: str | None) -> None:
    """Train LLM agents by learning their functions as versioned Python source in git."""


def _register() -> None:
    from fnreg.commands.apply import apply_command
    from fnreg.commands.demo import demo_command
    from fnreg.commands.diff import diff_command
    from fnreg.commands.eval import eval_command, eval_merge_command
    from fnreg.commands.init import init_command
    from fnreg.commands.list import list_command
    from fnreg.commands.log import log_command
    from fnreg.commands.package import package_command
    from fnreg.commands.report import report_command
    from fnreg.commands.show import show_command
    from fnreg.commands.tools import tools_command
    from fnreg.commands.train import train_command

    for command in (
        init_command,
        apply_command,
        list_command,
        tools_command,
        show_command,
        log_command,
        diff_command,
        eval_command,
        eval_merge_command,
        package_command,
        train_command,
        report_command,
        demo_command,
    ):
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="fnreg")
    except KeyboardInterrupt:  # pragma: no cover - interactive
        click.echo("interrupted", err=True)
        sys.exit(130)
