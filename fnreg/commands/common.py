"""What every command shares: the consoles, opening the registry, JSON output."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from fnreg.llm import LLMClient
    from fnreg.registry import Registry


@cache
def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def __getattr__(name: str) -> Any:
    # ``console`` is made on first use, so that ``--json`` output never imports rich.
    if name == "console":
        return _console()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_registry(ctx: click.Context) -> Registry:
    """The registry of the repository the command runs in (``-C`` or the current directory)."""
    from fnreg.registry import Registry

    return Registry(ctx.find_root().params.get("repo") or ".")


def print_json(value: Any) -> None:
    """Plain JSON on stdout, for scripts (never rich markup)."""
    # Indented for a person at a terminal; compact for a pipe (json's fast C encoder needs no indent).
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(value, indent=indent, ensure_ascii=False) + "\n")


def short(sha: str | None) -> str:
    return sha[:10] if sha else "-"


def signature(parameters: dict[str, Any]) -> str:
    """``expression: string, digits?: integer`` for a parameters schema."""
    required = set(parameters.get("required", []))
    parts = []
    for name, prop in parameters.get("properties", {}).items():
        kind = prop.get("type", "any")
        kind = "|".join(kind) if isinstance(kind, list) else kind
        if kind == "array" and isinstance(prop.get("items"), dict):
            kind = f"{prop['items'].get('type', 'any')}[]"
        parts.append(f"{name}{'' if name in required else '?'}: {kind}")
    return ", ".join(parts)


def first_line(text: str, width: int = 80) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def llm_options(command):
    """The options every command that talks to an LLM shares (flags beat env beat [tool.fnreg])."""
    from fnreg.config import default
    from fnreg.llm.config import LLMConfig

    options = [
        click.option(
            "--model", help=f"Agent model (else FNREG_MODEL, [tool.fnreg] model, {default(LLMConfig, 'model')})."
        ),
        click.option("--base-url", help="OpenAI-compatible endpoint (else OPENAI_BASE_URL; default OpenAI)."),
        click.option("--concurrency", type=click.IntRange(min=1), help="Tasks and LLM requests in flight at once."),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            help=f"Seconds per LLM request (default {default(LLMConfig, 'timeout'):g}).",
        ),
        click.option(
            "--max-retries",
            type=click.IntRange(min=0),
            help=f"Retries on 429, 5xx and timeouts (default {default(LLMConfig, 'max_retries')}).",
        ),
        click.option(
            "--record", type=click.Path(dir_okay=False), help="Append every LLM exchange to this JSONL cassette."
        ),
        click.option(
            "--replay",
            type=click.Path(dir_okay=False, exists=True),
            help="Answer LLM requests only from this cassette.",
        ),
        click.option("--no-cache", is_flag=True, help="Do not use the response cache (.fnreg/cache.sqlite)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


LLM_OPTION_NAMES = ("model", "base_url", "concurrency", "timeout", "max_retries", "record", "replay", "no_cache")


def make_client(registry: Registry, options: dict[str, Any], **extra: Any) -> LLMClient:
    """The LLM client for a command, from its options (see :func:`llm_options`)."""
    from fnreg.llm import LLMClient, llm_settings  # only commands that talk to an LLM pay for importing openai

    flags = {name: options.get(name) for name in ("model", "base_url", "concurrency", "timeout", "max_retries")}
    flags["record_path"] = Path(options["record"]) if options.get("record") else None
    flags["replay_path"] = Path(options["replay"]) if options.get("replay") else None
    cache = None if options.get("no_cache") else registry.state_dir() / "cache.sqlite"
    return LLMClient(llm_settings(registry.root, cache_path=cache, **flags, **extra))


def pop_llm_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {name: kwargs.pop(name, None) for name in LLM_OPTION_NAMES}


SANDBOX_MODES = ("jail", "process", "auto")


def sandbox_option(command):
    """``--sandbox jail|process|auto`` for the commands that run learned code."""
    return click.option(
        "--sandbox",
        "sandbox_mode",
        type=click.Choice(SANDBOX_MODES),
        help="Isolation of learned code: jail (bubblewrap; an error where it cannot start), process, "
        "or auto: the jail where it starts (default; else [tool.fnreg] sandbox). See `fnreg doctor`.",
    )(command)


def sandbox_setting(root: Path, flag: str | None) -> str | None:
    """The sandbox mode: the flag, else ``[tool.fnreg] sandbox``; None means auto."""
    from fnreg.config import project_section
    from fnreg.sandbox.config import SandboxConfig

    value = flag or project_section(root, SandboxConfig).sandbox
    return None if value == "auto" else value
