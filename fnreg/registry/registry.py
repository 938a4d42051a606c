"""The registry: a repository's learned toolsets, read at any ref and changed one commit per action."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fnreg.errors import ActionError, GitError, InputError
from fnreg.registry.actions import Action, parse_action
from fnreg.registry.git import Git, blob_id
from fnreg.registry.history import RUN, TOOLSET, LogEntry, action_message, format_message, iter_log
from fnreg.registry.init_module import PACKAGE_INIT, build_init, is_generated_init
from fnreg.registry.toolset import Toolset, check_toolset_name, is_function_module, load_toolset, name_list

if TYPE_CHECKING:
    import black

    from fnreg.registry.derive_cache import DerivationCache
    from fnreg.registry.module_builder import BuiltModule

STATE_DIR = ".fnreg"


@dataclass(frozen=True)
class _Snapshot:
    """What ``apply`` needs to know about HEAD: the toolset folder's files, the package's init."""

    head: str | None
    #: Repository-relative path → blob id of the toolset's files and the package's ``__init__.py``.
    blobs: Mapping[str, str]
    base: str

    @property
    def names(self) -> set[str]:
        prefix = self.base + "/"
        return {p[len(prefix) : -3] for p in self.blobs if p.startswith(prefix) and is_function_module(Path(p).name)}


@dataclass(frozen=True)
class AppliedAction:
    """The outcome of one applied action."""

    action: Action
    toolset: str
    #: The commit that records it.
    commit: str
    #: Repository-relative path of the module written or removed.
    path: str
    #: The module as written (None for a removal).
    module: BuiltModule | None


@dataclass(frozen=True)
class FunctionChange:
    """How one function differs between two refs."""

    name: str
    status: Literal["added", "revised", "removed"]
    #: Unified diff of the module source.
    diff: str


class Registry:
    """The learned toolsets of one repository (or of one run's worktree).

    >>> registry = Registry(".")
    >>> registry.toolset("math").openai_tools()          # doctest: +SKIP
    >>> registry.apply({"action": "remove_function", "name": "solve"}, toolset="math")  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str] = ".", *, package: str | None = None, hooks: bool = True) -> None:
        """``hooks``: commits run the repository's git hooks (pre-commit, commit-msg...) as any
        ``git commit`` does; a hook that fails rejects the action. Training runs pass False.
        """
        self.hooks = hooks
        self.git = Git(path)
        self.root = self.git.root
        if package is None:
            from fnreg.registry.config import package_name

            package = package_name(self.root)
        self.package = package
        self._snapshots: dict[tuple[str | None, str], _Snapshot] = {}
        #: Blob ids of toolset ``__init__.py`` files known to be fnreg's (safe to rewrite).
        self._generated_inits: set[str] = set()

    # ------------------------------------------------------------------ reading

    def toolset_path(self, toolset: str) -> str:
        """Repository-relative folder of a toolset, e.g. ``registry/math``."""
        return f"{self.package}/{toolset}"

    def toolsets(self, ref: str | None = None) -> list[str]:
        """Names of the toolsets at ``ref`` (None: the working tree)."""
        if ref is not None:
            return self.git.list_dirs(ref, self.package)
        folder = self.root / self.package
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists())

    def toolset(self, name: str, ref: str | None = None) -> Toolset:
        """The functions of toolset ``name`` at ``ref`` (None: the working tree), read without importing."""
        check_toolset_name(name)
        base = self.toolset_path(name)
        if ref is None:
            folder = self.root / base
            files = {p.name: p.read_bytes() for p in folder.glob("*.py")} if folder.is_dir() else {}
            return load_toolset(name, files, base, None, cache=self.derivation_cache())
        commit = self.git.resolve(ref)
        return load_toolset(name, self.git.read_dir(commit, base), base, commit, cache=self.derivation_cache())

    def has_module(self, toolset: str, name: str, ref: str | None = None) -> bool:
        """Whether toolset ``toolset`` has a module ``name.py`` at ``ref`` (None: the working tree), unread."""
        base = self.toolset_path(toolset)
        if ref is None:
            return (self.root / base / f"{name}.py").is_file()
        return f"{name}.py" in self.git.file_ids(self.git.resolve(ref), base)

    def state_dir(self, *, create: bool = True) -> Path:
        """``.fnreg/`` (worktrees, caches, locks) in the main working tree, also from a run's worktree.

        Created on demand and ignored in ``.git/info/exclude``, so ``git status`` stays clean
        in a repository where ``fnreg init`` never ran.
        """
        path = self.git.common_root / STATE_DIR
        if create and not path.is_dir():
            path.mkdir()
            self.git.exclude(f"/{STATE_DIR}/")
        return path

    def keep_derived(self, module: BuiltModule, *, create: bool = False) -> None:
        """Store what a module just written derives to, so reading it next needs no parser (libcst).

        Into ``.fnreg/`` where fnreg keeps state already; ``create``: make that folder if needed.
        """
        from fnreg.registry.derive_cache import DerivationCache, cache_key  # SQLite: only where schemas are kept

        state = self.state_dir(create=create)
        if state.is_dir():
            DerivationCache(state / "cache" / "derived.sqlite").put_many(
                {cache_key(module.source, module.name): module.derived}
            )

    def derivation_cache(self) -> DerivationCache | None:
        """Derived schemas kept on disk, where fnreg already keeps state (never creates .fnreg/ just to list).

        An evaluation of this repository's toolset reads its tools through it too
        (:attr:`fnreg.evaluation.TaskSetAdapter.schema_cache`): no parser for known content.
        """
        from fnreg.registry.derive_cache import DerivationCache  # SQLite: `fnreg log` never needs it

        state = self.state_dir(create=False)
        return DerivationCache(state / "cache" / "derived.sqlite") if state.is_dir() else None

    def log(
        self, *, toolset: str | None = None, run: str | None = None, revisions: list[str] | None = None
    ) -> list[LogEntry]:
        """fnreg's commits on HEAD and on every run branch, newest first."""
        return list(self.iter_log(toolset=toolset, run=run, revisions=revisions))

    def iter_log(
        self, *, toolset: str | None = None, run: str | None = None, revisions: list[str] | None = None
    ) -> Iterator[LogEntry]:
        """:meth:`log`, one entry at a time while git still walks the history (for long ones)."""
        if revisions is None:
            revisions = (["HEAD"] if self.git.head() else []) + list(self.git.branches("fnreg"))
        return iter_log(self.git, revisions, toolset=toolset, run=run) if revisions else iter(())

    def diff(self, ref1: str, ref2: str, toolset: str | None = None) -> dict[str, list[FunctionChange]]:
        """Functions added, revised and removed between two refs, per toolset."""
        names = [toolset] if toolset else sorted(set(self.toolsets(ref1)) | set(self.toolsets(ref2)))
        return {name: _function_changes(self.toolset(name, ref1), self.toolset(name, ref2)) for name in names}

    def export(self, toolset: str, ref: str | None, dest: Path) -> Path:
        """Write the toolset as it is at ``ref`` (and its package ``__init__``) under ``dest``.

        Straight from git objects, for running a toolset at an old ref without a checkout;
        ``ref=None`` copies the working tree's files instead (a snapshot that later edits do
        not change). Files are world-readable because the sandbox may run them as another user.
        """
        base = self.toolset_path(toolset)
        if ref is None:
            init = self.root / self.package / "__init__.py"
            package_init = init.read_bytes() if init.is_file() else PACKAGE_INIT.encode()
            folder = self.root / base
            members = (
                {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.is_symlink()}
                if folder.is_dir()
                else {}
            )
        else:
            commit = self.git.resolve(ref)
            package_init = self.git.read_file(commit, f"{self.package}/__init__.py") or PACKAGE_INIT.encode()
            members = self.git.read_dir(commit, base)
        files = {f"{self.package}/__init__.py": package_init}
        for name, data in members.items():
            files[f"{base}/{name}"] = data
        for relative, data in files.items():
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(0o644)
        for folder in (dest, dest / self.package, dest / self.toolset_path(toolset)):
            if folder.exists():
                folder.chmod(0o755)
        return dest

    # ------------------------------------------------------------------ writing

    @cached_property
    def _black_mode(self) -> black.Mode:
        """The repository's black style (``[tool.black]``); read when a module is first written."""
        from fnreg.registry.config import black_mode

        return black_mode(self.root)

    def prepare(self, action: Action | Mapping[str, Any] | str, *, toolset: str) -> tuple[Action, BuiltModule | None]:
        """Validate an action against the toolset at HEAD and build its module; writes nothing."""
        return self._prepare(action, toolset, self._snapshot(toolset, self.git.head()))

    def _prepare(
        self, action: Action | Mapping[str, Any] | str, toolset: str, snapshot: _Snapshot
    ) -> tuple[Action, BuiltModule | None]:
        check_toolset_name(toolset)
        if not isinstance(action, Action):
            action = parse_action(action)
        existing = snapshot.names
        where = f"{action.kind} {action.name}"
        if action.kind == "add_function" and action.name in existing:
            raise ActionError(
                f"{where}: `{action.name}` already exists in toolset {toolset!r}; use revise_function to change it"
            )
        if action.kind != "add_function" and action.name not in existing:
            raise ActionError(
                f"{where}: no function `{action.name}` in toolset {toolset!r} (functions: {name_list(existing)})"
            )
        if action.kind == "remove_function":
            return action, None
        from fnreg.registry.module_builder import (
            build_module,  # libcst and black: only to write
        )

        module = build_module(action, mode=self._black_mode)
        committed = snapshot.blobs.get(f"{snapshot.base}/{action.name}.py")
        if action.kind == "revise_function" and committed == blob_id(module.source.encode("utf-8")):
            raise ActionError(
                f"{where}: the revised module is identical to the current one; change the code or description"
            )
        return action, module

    def apply(
        self,
        action: Action | Mapping[str, Any] | str,
        *,
        toolset: str,
        run: str | None = None,
        epoch: int | None = None,
    ) -> AppliedAction:
        """Apply one action as one commit on the current branch, or raise and change nothing."""
        snapshot = self._snapshot(toolset, self.git.writable_head())
        action, module = self._prepare(action, toolset, snapshot)
        self._check_generated_init(snapshot, toolset)
        base = self.toolset_path(toolset)
        path = f"{base}/{action.name}.py"
        names = snapshot.names - {action.name} if action.kind == "remove_function" else snapshot.names | {action.name}
        writes: dict[str, str | None] = {
            path: module.source if module else None,
            f"{base}/__init__.py": build_init(toolset, names, mode=self._black_mode),
        }
        if f"{self.package}/__init__.py" not in snapshot.blobs:
            writes[f"{self.package}/__init__.py"] = PACKAGE_INIT
        committed = {p: snapshot.blobs.get(p) for p in writes} if snapshot.head else None
        scope = [base, f"{self.package}/__init__.py"]
        dirty = [p for p in self.git.dirty(list(writes), committed, scope=scope) if not self._holds(p, writes.get(p))]
        if dirty:
            raise GitError(f"{dirty[0]} has uncommitted changes; commit or stash them before applying an action")
        self._write(writes)
        new = [p for p, text in writes.items() if text is not None and p not in snapshot.blobs]
        try:
            message = action_message(action, toolset, run=run, epoch=epoch)
            commit = self.git.commit_paths(list(writes), message, new=new, hooks=self.hooks)
        except GitError:
            self._restore(list(writes))
            raise
        blobs = {p: b for p, b in snapshot.blobs.items() if writes.get(p, "") is not None}
        blobs.update({p: blob_id(text.encode("utf-8")) for p, text in writes.items() if text is not None})
        self._generated_inits.add(blobs[f"{base}/__init__.py"])
        self._snapshots = {(commit, toolset): _Snapshot(commit, blobs, base)}
        return AppliedAction(action=action, toolset=toolset, commit=commit, path=path, module=module)

    def sync(self, toolset: str, *, run: str | None = None) -> str | None:
        """Regenerate the toolset's ``__init__.py`` from the function modules committed at HEAD.

        A function module added or renamed by hand is then importable like a learned one
        (``from registry.math import solve`` gives the function). Commits the file when it
        changed and returns the commit; None when it was up to date.
        """
        check_toolset_name(toolset)
        snapshot = self._snapshot(toolset, self.git.writable_head())
        base = self.toolset_path(toolset)
        if not any(p.startswith(base + "/") for p in snapshot.blobs):
            raise InputError(f"no toolset {toolset!r} at HEAD: nothing under {base}/ is committed")
        self._check_generated_init(snapshot, toolset)
        writes: dict[str, str | None] = {
            f"{base}/__init__.py": build_init(toolset, snapshot.names, mode=self._black_mode)
        }
        if f"{self.package}/__init__.py" not in snapshot.blobs:
            writes[f"{self.package}/__init__.py"] = PACKAGE_INIT
        stale = {p: t for p, t in writes.items() if snapshot.blobs.get(p) != blob_id((t or "").encode("utf-8"))}
        if not stale:
            return None
        dirty = [p for p in self.git.changed_files(list(stale)) if not self._holds(p, stale.get(p))]
        if dirty:
            raise GitError(f"{dirty[0]} has uncommitted changes; commit or stash them before syncing")
        self._write(stale)
        message = format_message(
            f"sync {base}/__init__.py with its function modules",
            None,
            [(RUN, run), (TOOLSET, toolset)],
        )
        try:
            commit = self.git.commit_paths(list(stale), message, hooks=self.hooks)
        except GitError:
            self._restore(list(stale))
            raise
        self._snapshots = {}
        return commit

    def check_generated_init(self, toolset: str) -> None:
        """Raise ``ActionError`` when the toolset's ``__init__.py`` at HEAD was written by hand."""
        self._check_generated_init(self._snapshot(toolset, self.git.head()), toolset)

    def _check_generated_init(self, snapshot: _Snapshot, toolset: str) -> None:
        """Refuse to overwrite a toolset ``__init__.py`` written by hand (read once per content)."""
        path = f"{self.toolset_path(toolset)}/__init__.py"
        blob = snapshot.blobs.get(path)
        if blob is None or blob in self._generated_inits or snapshot.head is None:
            return
        if not is_generated_init(self.git.read_file(snapshot.head, path)):
            raise ActionError(
                f"{path} was written by hand (it lacks fnreg's '# Generated by fnreg' first line), and fnreg "
                "regenerates that file: move its code into function modules, or delete it, then try again"
            )
        self._generated_inits.add(blob)

    def _snapshot(self, toolset: str, head: str | None) -> _Snapshot:
        """The toolset's files at ``head`` (HEAD), read once per commit (a run applies many actions in a row)."""
        cached = self._snapshots.get((head, toolset)) if head else None
        if cached is not None:
            return cached
        base = self.toolset_path(toolset)
        if head is None:
            snapshot = _Snapshot(None, {}, base)
        else:
            package_init = f"{self.package}/__init__.py"
            blobs = self.git.path_ids(head, [f"{base}/", package_init])
            blobs = {p: b for p, b in blobs.items() if p == package_init or p.rpartition("/")[0] == base}
            snapshot = _Snapshot(head, blobs, base)
        self._snapshots = {(head, toolset): snapshot}
        return snapshot

    def _holds(self, relative: str, text: str | None) -> bool:
        """True when the working tree already has exactly what the action would write there."""
        target = self.root / relative
        if text is None:
            return not target.exists()
        return target.is_file() and target.read_text(encoding="utf-8", errors="replace") == text

    def _write(self, writes: Mapping[str, str | None]) -> None:
        for relative, text in writes.items():
            target = self.root / relative
            if text is None:
                target.unlink(missing_ok=True)
                continue
            if self._holds(relative, text):  # e.g. the toolset's __init__.py after a revision
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.fnreg-tmp")
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, target)  # atomic: a crash leaves the old or the new file, never half

    def _restore(self, paths: list[str]) -> None:
        """Put paths back as they are at HEAD after a failed commit."""
        head = self.git.head()
        for relative in paths:
            original = self.git.read_file(head, relative) if head else None
            target = self.root / relative
            if original is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(original)
        try:
            self.git.run("reset", "--quiet", "--", *paths)
        except GitError:
            pass


def _function_changes(old: Toolset, new: Toolset) -> list[FunctionChange]:
    changes = []
    for name in sorted(set(old.names) | set(new.names)):
        before = old.functions[name].source if name in old else ""
        after = new.functions[name].source if name in new else ""
        if before == after:
            continue
        status: Literal["added", "revised", "removed"] = (
            "added" if not before else "removed" if not after else "revised"
        )
        path = (new.functions.get(name) or old.functions[name]).path
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
            )
        )
        changes.append(FunctionChange(name=name, status=status, diff=diff))
    return changes
