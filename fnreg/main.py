"""The ``fnreg`` command: a thin layer over the library (one module per command)."""

from __future__ import annotations

import importlib
import sys

import click

from fnreg.errors import FnregError

#: Command name → "module:attribute"; a command's module is imported only when it runs,
#: so ``fnreg list`` does not pay for the LLM client, the sandbox or matplotlib.
COMMANDS = {
    "cache": "fnreg.commands.cache:cache_command",
    "demo": "fnreg.commands.demo:demo_command",
    "init": "fnreg.commands.init:init_command",
    "train": "fnreg.commands.train:train_command",
    "eval": "fnreg.commands.eval:eval_command",
    "eval-merge": "fnreg.commands.eval:eval_merge_command",
    "report": "fnreg.commands.report:report_command",
    "log": "fnreg.commands.log:log_command",
    "list": "fnreg.commands.list:list_command",
    "show": "fnreg.commands.show:show_command",
    "tools": "fnreg.commands.tools:tools_command",
    "diff": "fnreg.commands.diff:diff_command",
    "apply": "fnreg.commands.apply:apply_command",
    "package": "fnreg.commands.package:package_command",
    "requirements": "fnreg.commands.requirements:requirements_command",
    "review": "fnreg.commands.review:review_command",
    "runs": "fnreg.commands.runs:runs_command",
    "sync": "fnreg.commands.sync:sync_command",
    "doctor": "fnreg.commands.doctor:doctor_command",
    "serve": "fnreg.commands.serve:serve_command",
}


class _Group(click.Group):
    """Loads commands on demand; turns fnreg's own errors into one line and a non-zero exit."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attribute)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FnregError as exc:
            if exc.details:
                click.echo(exc.details.rstrip("\n"), err=True)
            raise _UserError(str(exc), exc.exit_code) from None


class _UserError(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="fnreg", prog_name="fnreg")  # read from package metadata when asked
@click.option("-C", "repo", metavar="PATH", help="Run as if fnreg was started in PATH.")
def cli(repo: str | None) -> None:
    """Train LLM agents by learning their functions as versioned Python source in git."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from fnreg.hardening import make_undumpable

    make_undumpable()  # no process of the same uid may read fnreg's environment (API keys) or memory
    try:
        cli.main(args=argv, prog_name="fnreg")
    except KeyboardInterrupt:  # pragma: no cover - interactive
        click.echo("interrupted", err=True)
        sys.exit(130)
