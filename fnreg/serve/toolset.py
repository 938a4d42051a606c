"""A toolset at one ref, ready to be called by agents outside fnreg: the MCP server and the adapters.

The ref is resolved once, to a commit, and the toolset's files are exported from it into a
private folder, so the served code never changes while it is served (a later commit or an
edit of the working tree does not reach it). Tool descriptions are derived from that source
without importing it; every call runs in the sandbox, never in this process::

    with ServedToolset("math", ref="fnreg/math/RUN/best") as served:
        served.call("evaluate_expression", {"expression": "2**10"}).text    # '1024'
"""

from __future__ import annotations

import json
import os
import sys
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from fnreg.errors import FnregError, InputError
from fnreg.registry import Registry
from fnreg.registry.toolset import FunctionInfo, Toolset, load_toolset, name_list
from fnreg.sandbox import Limits, Sandbox
from fnreg.sandbox.config import sandbox_limits
from fnreg.sandbox.scratch import remove_scratch, scratch_directory

DEFAULT_WORKERS = 4

#: A wrapped return value's key, as the MCP SDK's own servers name it.
RESULT_KEY = "result"


@dataclass(frozen=True)
class CallResult:
    """The outcome of one call of a served function."""

    ok: bool
    #: What fnreg's own agents see as the tool result during training: printed output, then the
    #: value (or the error with the last lines of its traceback).
    text: str
    #: One line saying what went wrong (None when ``ok``).
    error: str | None = None
    #: The value as JSON, shaped by :meth:`ServedToolset.output_schema` (functions with a JSON
    #: return annotation only, else None).
    structured: Any = None


class ServedToolset:
    """The functions of toolset ``toolset`` at ``ref`` (None: the working tree), each call sandboxed.

    ``workers`` sandbox workers run calls side by side (more calls wait for a free one);
    ``limits`` default to ``[tool.fnreg.limits]`` of the repository; ``mode`` is the sandbox's
    ("jail", "process", or None: the jail where it starts, without network). Thread-safe.
    """

    def __init__(
        self,
        toolset: str,
        *,
        ref: str | None = None,
        repo: str | os.PathLike[str] = ".",
        workers: int = DEFAULT_WORKERS,
        limits: Limits | None = None,
        python: str = sys.executable,
        mode: str | None = None,
    ) -> None:
        if workers < 1:
            raise FnregError(f"a served toolset needs at least one worker, got {workers}")
        registry = Registry(repo)
        self.commit = registry.git.resolve(ref) if ref is not None else None
        self.ref = ref
        available = registry.toolsets(self.commit)
        if toolset not in available:
            raise InputError(
                f"no toolset {toolset!r} under {registry.package}/ at {self.where}; "
                f"toolsets there: {name_list(available)}"
            )
        self.package = registry.package
        self.limits = limits if limits is not None else sandbox_limits(registry.root)
        self.workers = workers
        folder = scratch_directory("stage")  # swept by the next sandbox if this process dies first
        try:
            registry.export(toolset, self.commit, folder)
            self.toolset = self._derive(registry, toolset, folder)
            self._sandbox = Sandbox(
                folder,
                package=registry.package,
                toolset=toolset,
                limits=self.limits,
                size=workers,
                python=python,
                mode=mode,
            )
        except BaseException:
            remove_scratch(folder)
            raise
        self._finalizer = weakref.finalize(self, _close, self._sandbox, folder)
        self._validators = {f.name: Draft202012Validator(f.parameters) for f in self.toolset}
        self._returns = {f.name: Draft202012Validator(f.returns) for f in self.toolset if f.returns is not None}

    def _derive(self, registry: Registry, toolset: str, folder: Path) -> Toolset:
        if self.commit is not None:
            return registry.toolset(toolset, self.commit)
        # The working tree: derive from the snapshot itself, so schemas and code cannot disagree.
        base = registry.toolset_path(toolset)
        files = {p.name: p.read_bytes() for p in (folder / base).glob("*.py")}
        return load_toolset(toolset, files, base, None)

    # ------------------------------------------------------------------ describing

    @property
    def name(self) -> str:
        """``fnreg:<toolset>@<short sha>``, or ``@working-tree`` for the working tree's files."""
        return f"fnreg:{self.toolset.name}@{self.commit[:7] if self.commit else 'working-tree'}"

    @property
    def where(self) -> str:
        """The ref as the user named it, with its commit: ``v1 (3f2a9c1)``, or ``the working tree``."""
        if self.commit is None:
            return "the working tree"
        return self.commit[:7] if self.ref in (None, self.commit) else f"{self.ref} ({self.commit[:7]})"

    @property
    def functions(self) -> list[FunctionInfo]:
        return list(self.toolset)

    def openai_tools(self) -> list[dict[str, Any]]:
        """The same array as ``fnreg tools --toolset T --ref REF``."""
        return self.toolset.openai_tools()

    def output_schema(self, name: str) -> dict[str, Any] | None:
        """The JSON schema of a call's structured result, when the function's return type is JSON.

        An object type is the schema as is; any other type is wrapped as ``{"result": ...}``
        (MCP requires an object at the root, and the MCP SDK wraps the same way).
        """
        returns = self.toolset[name].returns
        if returns is None:
            return None
        if returns.get("type") == "object":
            return returns
        return {"type": "object", "properties": {RESULT_KEY: returns}, "required": [RESULT_KEY]}

    # ------------------------------------------------------------------ calling

    def check_arguments(self, name: str, arguments: Any) -> str | None:
        """Why ``arguments`` do not fit the function's input schema (naming the argument), or None."""
        if not isinstance(arguments, Mapping):
            return f"arguments of {name} must be a JSON object, not {type(arguments).__name__}"
        error = best_match(self._validators[name].iter_errors(dict(arguments)))
        return None if error is None else f"invalid arguments for {name}: {_describe(error, arguments)}"

    def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> CallResult:
        """Validate the arguments, call the function in a sandbox session of its own, report the outcome.

        Never raises for anything the function or its caller did wrong: an unknown name, bad
        arguments, an exception, a timeout, a crash or a missing package are a failed result.
        """
        if name not in self.toolset:
            return _failed(f"unknown tool {name!r}; tools: {name_list(self.toolset.names)}")
        arguments = {} if arguments is None else arguments
        problem = self.check_arguments(name, arguments)
        if problem is not None:
            return _failed(problem)
        try:
            with self._sandbox.session() as session:
                result = session.call_function(name, dict(arguments))
        except FnregError as exc:  # the sandbox itself failed (e.g. it was closed): this call only
            return _failed(f"SandboxError: {exc}")
        if not result.ok:
            return CallResult(False, result.as_tool_output(), self._error_line(name, result.error or "failed"))
        if name not in self._returns:
            return CallResult(True, result.as_tool_output())
        return self._structured(name, result.value, result.as_tool_output())

    def _structured(self, name: str, value: str | None, text: str) -> CallResult:
        validator = self._returns[name]
        decoded = _decode(value, validator)
        if decoded is _MISMATCH:
            shown = value if value is None or len(value) <= 80 else value[:77] + "..."
            return _failed(
                f"TypeError: {name} returned {shown!r}, which does not match its return annotation "
                f"({json.dumps(self.toolset[name].returns)})",
                text,
            )
        wrapped = self.toolset[name].returns.get("type") != "object"  # type: ignore[union-attr]
        return CallResult(True, text, structured={RESULT_KEY: decoded} if wrapped else decoded)

    def _error_line(self, name: str, error: str) -> str:
        line = error.strip().splitlines()[0] if error.strip() else "the call failed"
        requires = self.toolset[name].requires
        if line.startswith(("ModuleNotFoundError", "ImportError")) and requires:
            line += (
                f" ({name} declares {', '.join(requires)}; fnreg never installs packages: "
                f"install them into {sys.executable})"
            )
        return line

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Stop the workers (busy ones when their call ends) and remove the exported files."""
        self._finalizer()

    def __enter__(self) -> ServedToolset:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_MISMATCH: Any = object()


def _decode(value: str | None, validator: Draft202012Validator) -> Any:
    """The JSON value behind the sandbox's text of a return value, as the return schema wants it.

    The sandbox hands back a ``str`` as is and anything else as JSON text, so a str is tried
    first where the schema allows one, then the decoded JSON.
    """
    if value is None:
        return None if validator.is_valid(None) else _MISMATCH
    if validator.is_valid(value):
        return value
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        return _MISMATCH
    return decoded if validator.is_valid(decoded) else _MISMATCH


def _describe(error: ValidationError, arguments: Mapping[str, Any]) -> str:
    """``argument 'x': 'two' is not of type 'integer'`` or ``missing required argument 'x'``."""
    if error.path:
        return f"argument {str(error.path[0])!r}: {error.message}"
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in arguments]
        return f"missing required argument {missing[0]!r}" if missing else error.message
    return error.message


def _failed(error: str, text: str | None = None) -> CallResult:
    return CallResult(False, text if text is not None else error, error)


def _close(sandbox: Sandbox, folder: Path) -> None:
    sandbox.close()
    remove_scratch(folder)
