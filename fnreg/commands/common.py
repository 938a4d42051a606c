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

    from fnreg.evaluation import TaskSetAdapter
    from fnreg.evaluation.tasks import TaskSet
    from fnreg.llm import LLMClient, LLMSettings
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


def require_toolset(registry: Registry, name: str, ref: str | None = None) -> None:
    """A one-line error, exit status 2, when there is no toolset ``name`` at ``ref`` (None: the working tree)."""
    from fnreg.errors import InputError
    from fnreg.registry.toolset import check_toolset_name

    check_toolset_name(name)
    names = registry.toolsets(ref)
    if name not in names:
        where = f" at {ref}" if ref else ""
        raise InputError(
            f"no toolset {name!r}{where} (under {registry.package}/); toolsets: {', '.join(names) or 'none'}"
        )


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


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 function``, ``2 functions``, ``1,200 answers``."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


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


def make_settings(registry: Registry, options: dict[str, Any], **extra: Any) -> LLMSettings:
    """The LLM settings for a command, from its options (see :func:`llm_options`); creates nothing."""
    from fnreg.llm import llm_settings

    flags = {name: options.get(name) for name in ("model", "base_url", "concurrency", "timeout", "max_retries")}
    flags["record_path"] = Path(options["record"]) if options.get("record") else None
    flags["replay_path"] = Path(options["replay"]) if options.get("replay") else None
    cache = None if options.get("no_cache") else registry.state_dir(create=False) / "cache.sqlite"
    return llm_settings(registry.root, cache_path=cache, **flags, **extra)


def make_client(registry: Registry, options: dict[str, Any] | LLMSettings, **extra: Any) -> LLMClient:
    """The LLM client for a command, from its options (see :func:`llm_options`) or settings."""
    from fnreg.llm import LLMClient, LLMSettings  # only commands that talk to an LLM pay for importing openai

    settings = options if isinstance(options, LLMSettings) else make_settings(registry, options, **extra)
    if settings.cache_path is not None and settings.cache_path.parent == registry.state_dir(create=False):
        registry.state_dir()  # .fnreg/ is ignored by git before the cache file goes there
    return LLMClient(settings)


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


def make_adapter(registry: Registry, task_set: TaskSet, client: LLMClient, sandbox_flag: str | None) -> TaskSetAdapter:
    """How a command evaluates a task set in this repository: the client's concurrency, the
    sandbox from the flag or the project, the project's sandbox limits and kept schemas."""
    from fnreg.evaluation import TaskSetAdapter
    from fnreg.sandbox.config import sandbox_limits

    return TaskSetAdapter(
        task_set,
        client,
        concurrency=client.settings.concurrency,
        package=registry.package,
        sandbox_mode=sandbox_setting(registry.root, sandbox_flag),
        sandbox_limits=sandbox_limits(registry.root),
        schema_cache=registry.derivation_cache(),
    )


def sandbox_setting(root: Path, flag: str | None) -> str | None:
    """The sandbox mode: the flag, else ``[tool.fnreg] sandbox``; None means auto."""
    from fnreg.config import project_section
    from fnreg.sandbox.config import SandboxConfig

    value = flag or project_section(root, SandboxConfig).sandbox
    return None if value == "auto" else value
