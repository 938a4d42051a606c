"""The only module that talks to git: every call goes through one runner, every failure is a GitError.

Reads go straight to git objects (``ls-tree`` and one ``cat-file --batch`` per folder), so any
ref can be inspected without a checkout. Writes touch only the paths they are given: the
user's other staged or unstaged changes are never part of an fnreg commit.

Why the git CLI and not GitPython: a command reads a toolset with three git processes (about
4 ms), less than importing GitPython takes (about 50 ms, the largest part of ``fnreg list``
before), and the one thing GitPython saved per action (reading the index instead of running
``git status``) is covered by remembering the index as fnreg left it: when nothing else
touched it since, the files alone say whether the paths are clean (:meth:`Git.dirty`).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from fnreg.errors import GitError, HookRejected

NOTES_REF = "fnreg"
_FIELD = "%x1f"
_RECORD = "%x1e"
# Trailers as key \x1c value, separated by \x1d: split by git, not parsed line by line here.
_TRAILERS = "%(trailers:only,unfold,separator=%x1d,key_value_separator=%x1c)"
_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "REBASE_HEAD": "a rebase",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or am",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
}
# Used only when the repository has no identity configured (fresh CI machines).
_FALLBACK_IDENTITY = ("fnreg", "fnreg@localhost")
# Subcommands that write an author or committer (and so need an identity).
_WRITES = {"commit", "revert", "notes", "tag", "merge", "cherry-pick", "rebase", "am", "stash"}
# fnreg's commits skip `git maintenance --auto` (spawning it costs a third of a small commit; the
# user's own next commit runs it anyway) and the status git computes for an editor's template.
_QUIET_COMMIT = ["-c", "maintenance.auto=false", "-c", "gc.auto=0", "commit", "--quiet", "--no-verify", "--no-status"]
_KEPT_FOLDERS = 64
_NO_GIT = "git is not installed or not on PATH; install git (https://git-scm.com) and try again"


@overload
def run_git(args: Sequence[str], *, cwd: Path, input: str | None = None) -> str: ...
@overload
def run_git(args: Sequence[str], *, cwd: Path, input: bytes, binary: bool) -> bytes: ...


def run_git(args: Sequence[str], *, cwd: Path, input: str | bytes | None = None, binary: bool = False) -> str | bytes:
    """The runner: ``git <args>`` in ``cwd``; its stdout (text without the final newline, or bytes).

    Any failure (git missing, a folder that is gone, a non-zero exit) is a :class:`GitError`
    whose message is git's last line of complaint.
    """
    proc = _spawn(args, cwd=cwd, input=input, binary=binary)
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace") if binary else proc.stderr
        stdout = proc.stdout.decode("utf-8", "replace") if binary else proc.stdout
        raise _failure(args, proc.returncode, stdout, stderr)
    return proc.stdout if binary else proc.stdout.rstrip("\n")


def stream_git(args: Sequence[str], *, cwd: Path, separator: str) -> Iterator[str]:
    """``git <args>``'s stdout as text records ending in ``separator``, yielded while git still writes.

    For long output (a history of thousands of commits): the caller parses one record while
    git produces the next, instead of waiting for all of it. Failures are GitErrors, as in
    :func:`run_git`, raised once git has exited.
    """
    import tempfile  # only here: a command that streams nothing does not pay for its import

    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: git never blocks on it
        try:
            proc = subprocess.Popen(["git", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=stderr)
        except OSError as exc:
            raise _not_started(args, exc) from None
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        try:
            assert proc.stdout is not None
            while chunk := proc.stdout.read1(1 << 16):
                *records, pending = (pending + decoder.decode(chunk)).split(separator)
                yield from records
            pending += decoder.decode(b"", final=True)
        finally:
            proc.stdout.close()  # type: ignore[union-attr]
            returncode = proc.wait()
        if returncode != 0:
            stderr.seek(0)
            raise _failure(args, returncode, pending, stderr.read().decode("utf-8", "replace"))
    if pending:
        yield pending


def _failure(args: Sequence[str], returncode: int, stdout: str, stderr: str) -> GitError:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    error = GitError(f"git {args[0]} failed: {lines[-1] if lines else f'exit status {returncode}'}")
    error.details = (stdout + stderr).strip() or None
    return error


def _spawn(
    args: Sequence[str], *, cwd: Path, input: str | bytes | None = None, binary: bool = False
) -> subprocess.CompletedProcess:
    """The one place fnreg starts git; a git that cannot start is a GitError, a failing one is not yet."""
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            **({} if binary else {"text": True, "encoding": "utf-8", "errors": "replace"}),
        )
    except OSError as exc:
        raise _not_started(args, exc) from None


def _not_started(args: Sequence[str], exc: OSError) -> GitError:
    """Why git could not start: not installed (one line saying what to do), or the OS's reason."""
    if isinstance(exc, FileNotFoundError) and shutil.which("git") is None:
        return GitError(_NO_GIT)
    return GitError(f"git {args[0]} failed: {exc}")


@dataclass(frozen=True)
class CommitInfo:
    """One commit as ``git log`` reports it."""

    sha: str
    subject: str
    body: str
    #: Trailers in order; a key may repeat (``Fnreg-Rollback-Of``).
    trailers: tuple[tuple[str, str], ...] = field(default=())
    parents: tuple[str, ...] = ()
    timestamp: int = 0

    def __post_init__(self) -> None:
        # Reading a long history asks each commit for several trailers: one pass, then lookups.
        object.__setattr__(self, "_last_values", {k.lower(): v for k, v in self.trailers})

    def trailer(self, key: str) -> str | None:
        """The last value of trailer ``key`` (any case), if present."""
        return self._last_values.get(key.lower())

    @property
    def last_values(self) -> Mapping[str, str]:
        """Each trailer's last value by its lower-cased key: for reading many trailers of many commits."""
        return self._last_values

    def trailer_values(self, key: str) -> list[str]:
        key = key.lower()
        return [v for k, v in self.trailers if k.lower() == key]


class Git:
    """A repository or one of its worktrees."""

    def __init__(self, path: str | os.PathLike[str] = ".") -> None:
        if shutil.which("git") is None:
            raise GitError(_NO_GIT)
        where = Path(path)
        try:
            proc = _spawn(
                ["rev-parse", "--is-bare-repository", "--absolute-git-dir", "--git-common-dir", "--show-toplevel"],
                cwd=where,
            )
        except GitError:  # the folder does not exist, or is a file
            proc = None
        lines = proc.stdout.splitlines() if proc is not None else []
        if lines and lines[0] == "true":
            raise GitError(f"{lines[1] if len(lines) > 1 else where} is a bare repository; fnreg needs a working tree")
        if proc is None or proc.returncode != 0 or len(lines) < 4:
            raise GitError(f"not a git repository: {where.resolve()} (run `git init` there first)")
        self.git_dir = Path(lines[1])
        self._common_dir = (where / lines[2]).resolve()
        self.root = Path(lines[3]).resolve()
        self._identity: list[str] | None = None
        #: Commit ids known to exist (resolved before), and folders read at them: both immutable.
        self._commits: dict[str, None] = {}
        self._folders: dict[tuple[str, str], dict[str, bytes]] = {}
        #: (index stat, paths git status found unclean) as fnreg last saw the index; see dirty().
        self._index_seen: tuple[tuple[int, int, int], frozenset[str], tuple[str, ...]] | None = None

    @classmethod
    def init(cls, path: str | os.PathLike[str], *, initial_branch: str | None = None) -> Git:
        """Create a repository at ``path`` (``git init``) and open it."""
        branch = [f"--initial-branch={initial_branch}"] if initial_branch else []
        try:
            run_git(["init", "--quiet", *branch, str(path)], cwd=Path.cwd())
        except GitError as exc:
            raise GitError(f"could not create a git repository at {path}: {exc}") from None
        return cls(path)

    # ------------------------------------------------------------------ running git

    def run(self, *args: str, input: str | None = None) -> str:
        """Run ``git <args>`` in the working tree and return stdout without the final newline."""
        command = next((a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-c")), "")
        identity = self._identity_args() if command in _WRITES else []
        return run_git([*identity, *args], cwd=self.root, input=input)

    def run_bytes(self, *args: str, input: bytes = b"") -> bytes:
        """Run ``git <args>`` with binary input and output (object contents)."""
        return run_git(args, cwd=self.root, input=input, binary=True)

    def _identity_args(self) -> list[str]:
        if self._identity is None:
            try:
                configured = self.run("config", "--get-regexp", r"^user\.(name|email)$")
            except GitError:  # exit 1: neither is set
                configured = ""
            keys = {line.split(" ", 1)[0] for line in configured.splitlines()}
            self._identity = []
            if "user.name" not in keys and "GIT_COMMITTER_NAME" not in os.environ:
                self._identity += ["-c", f"user.name={_FALLBACK_IDENTITY[0]}"]
            if "user.email" not in keys and "GIT_COMMITTER_EMAIL" not in os.environ:
                self._identity += ["-c", f"user.email={_FALLBACK_IDENTITY[1]}"]
        return self._identity

    # ------------------------------------------------------------------ state

    @property
    def common_root(self) -> Path:
        """The main working tree, also from one of its worktrees (where ``.fnreg/`` lives)."""
        return self._common_dir.parent

    def head(self) -> str | None:
        """The commit HEAD points at, or None in a repository without commits."""
        branch, sha = self._read_head()
        if branch is not None and sha:
            return sha
        try:
            return self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}") or None
        except GitError:
            return None

    def writable_head(self) -> str | None:
        """HEAD's commit (None before the first), after refusing what :meth:`ensure_writable` refuses.

        Read from the ref files when they are plain (a run applies actions one after another);
        git answers when they are not (packed refs, reftable, no commit yet).
        """
        branch, head = self._read_head()
        if branch is None:
            try:
                head, ref = self.run("rev-parse", "HEAD", "--symbolic-full-name", "HEAD").splitlines()
            except (GitError, ValueError):  # no commit yet: only the branch can be asked
                head, ref = None, "refs/heads/" + (self.branch() or "")
            branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""
        if not branch:
            raise GitError("HEAD is detached; check out a branch first (git switch <branch>)")
        self._refuse_in_progress()
        return head

    def _read_head(self) -> tuple[str | None, str | None]:
        """(branch, commit) from ``HEAD`` and a loose ref file; (None, None) when git must say."""
        try:
            head = (self.git_dir / "HEAD").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None, None
        if not head.startswith("ref: refs/heads/"):
            return ("", head) if _is_sha(head) else (None, None)  # "": detached
        try:
            sha = (self._common_dir / head[5:]).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None, None
        return (head[len("ref: refs/heads/") :], sha) if _is_sha(sha) else (None, None)

    def branch(self) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        try:
            return self.run("symbolic-ref", "--quiet", "--short", "HEAD") or None
        except GitError:
            return None

    def ensure_writable(self) -> None:
        """Refuse to commit on a detached HEAD or in the middle of another operation."""
        if self.branch() is None:
            raise GitError("HEAD is detached; check out a branch first (git switch <branch>)")
        self._refuse_in_progress()

    def _refuse_in_progress(self) -> None:
        for marker, what in _IN_PROGRESS.items():
            if (self.git_dir / marker).exists():
                raise GitError(f"{what} is in progress in {self.root}; finish or abort it first")

    def exclude(self, pattern: str) -> None:
        """Ignore ``pattern`` locally (``.git/info/exclude``): no tracked file changes."""
        path = self._common_dir / "info" / "exclude"
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if pattern in text.splitlines():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + ("" if not text or text.endswith("\n") else "\n") + pattern + "\n", encoding="utf-8")

    def resolve(self, ref: str) -> str:
        """The commit a ref names, or a GitError saying it does not exist."""
        if ref == "HEAD":
            head = self.head()
            if head is not None:
                return head
        elif ref in self._commits:  # a commit id seen before: commits never change
            return ref
        try:
            sha = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
            self._commits[sha] = None
            return sha
        except GitError:
            if self.head() is None:
                raise GitError(
                    f"unknown revision {ref!r}: the repository has no commits yet; "
                    "commit your registry/ and tasks/ first (git add -A && git commit)"
                ) from None
            raise GitError(f"unknown revision {ref!r}") from None

    def dirty(
        self, paths: Sequence[str], committed: Mapping[str, str | None] | None = None, *, scope: Sequence[str] = ()
    ) -> list[str]:
        """Files at or under ``paths`` with staged or unstaged changes (or untracked), as git status names them.

        ``committed``: each path's blob id at HEAD (None: not there), if the caller knows it.
        ``scope``: folders or files around ``paths`` to check at the same time, so that a later
        call for other paths inside them needs no ``git status`` either.

        ``git status`` has the last word; it is skipped when the index is exactly as fnreg
        left it (after its own status or commit), every path was clean then, and each file
        still has its committed content.
        """
        if not paths:
            return []
        if committed is not None and self._known_clean(committed):
            return []
        checked = list(scope) or list(paths)
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *checked)
        unclean = frozenset(e[3:] for e in out.split("\0") if len(e) > 3)
        self._remember_index(unclean, checked)
        inside = [p.rstrip("/") for p in paths]
        return sorted(u for u in unclean if any(u == p or u.startswith(p + "/") for p in inside))

    def changed_files(self, paths: Sequence[str]) -> list[str]:
        """The files under ``paths`` with staged or unstaged changes, or untracked, sorted."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths)
        return sorted(e[3:] for e in out.split("\0") if len(e) > 3)

    def _index_stat(self) -> tuple[int, int, int] | None:
        try:
            stat = (self.git_dir / "index").stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def _remember_index(self, unclean: frozenset[str], checked: Sequence[str]) -> None:
        stat = self._index_stat()
        self._index_seen = (stat, unclean, tuple(checked)) if stat is not None else None

    def _known_clean(self, committed: Mapping[str, str | None]) -> bool:
        seen = self._index_seen
        if seen is None or seen[0] != self._index_stat():
            return False
        _, unclean, checked = seen
        for path, blob in committed.items():
            inside = any(path == c or path.startswith(c.rstrip("/") + "/") for c in checked)
            if not inside or path in unclean:
                return False
            target = self.root / path
            if (blob_id(target.read_bytes()) if target.is_file() else None) != blob:
                return False
        return True

    def _after_commit(self, paths: Iterable[str]) -> None:
        """The index changed by fnreg's own commit: ``paths`` are now clean, the rest as they were."""
        if self._index_seen is not None:
            _, unclean, checked = self._index_seen
            self._remember_index(unclean - set(paths), checked)

    # ------------------------------------------------------------------ reading objects

    def _entries(self, ref: str, path: str) -> list[tuple[str, str, str]] | None:
        """(type, object id, name) directly inside ``path`` at ``ref``; None if it is no folder there."""
        spec = f"{ref}:{path}" if path and path != "." else ref
        try:
            out = self.run_bytes("ls-tree", "-z", "--end-of-options", spec)
        except GitError:
            self.resolve(ref)  # an unknown ref is an error; a missing folder is not
            return None
        entries = []
        for record in out.split(b"\0"):
            if record:
                info, _, name = record.partition(b"\t")
                _, kind, sha = info.split()
                entries.append((kind.decode(), sha.decode(), name.decode("utf-8", "surrogateescape")))
        return entries

    def read_dir(self, ref: str, path: str) -> dict[str, bytes]:
        """Files directly inside ``path`` at ``ref``: name → content. Empty if missing.

        Read once per commit id and kept (a run reads the same commits again and again).
        """
        key = (ref, path)
        if key in self._folders:
            return dict(self._folders[key])
        blobs = [(name, sha) for kind, sha, name in self._entries(ref, path) or [] if kind == "blob"]
        files = dict(zip((name for name, _ in blobs), self.read_blobs([sha for _, sha in blobs])))
        if ref in self._commits:
            if len(self._folders) >= _KEPT_FOLDERS:
                self._folders.pop(next(iter(self._folders)))
            self._folders[key] = files
        return dict(files)

    def read_blobs(self, shas: Sequence[str]) -> list[bytes]:
        """The contents of blobs, in order, read with one ``git cat-file --batch``."""
        if not shas:
            return []
        out = self.run_bytes("cat-file", "--batch", input="".join(f"{sha}\n" for sha in shas).encode())
        contents, offset = [], 0
        for sha in shas:
            header_end = out.find(b"\n", offset)
            header = out[offset:header_end].split()
            if header_end < 0 or len(header) != 3:
                raise GitError(f"git cat-file failed: object {sha} is missing or unreadable")
            size = int(header[2])
            contents.append(out[header_end + 1 : header_end + 1 + size])
            offset = header_end + 1 + size + 1  # the content is followed by a newline
        return contents

    def file_ids(self, ref: str, path: str) -> dict[str, str]:
        """Files directly inside ``path`` at ``ref``: name → blob id, without reading them."""
        return {name: sha for kind, sha, name in self._entries(ref, path) or [] if kind == "blob"}

    def path_ids(self, ref: str, pathspecs: Sequence[str]) -> dict[str, str]:
        """Blobs at ``ref`` named by ``pathspecs`` (``dir/`` lists a folder's files): path → blob id."""
        out = self.run_bytes("ls-tree", "-z", "--full-tree", "--end-of-options", ref, "--", *pathspecs)
        ids = {}
        for record in out.split(b"\0"):
            info, _, name = record.partition(b"\t")
            if info.split()[1:2] == [b"blob"]:
                ids[name.decode("utf-8", "surrogateescape")] = info.split()[2].decode()
        return ids

    def list_dirs(self, ref: str, path: str) -> list[str]:
        """Names of the folders directly inside ``path`` at ``ref``."""
        return sorted(name for kind, _, name in self._entries(ref, path) or [] if kind == "tree")

    def read_file(self, ref: str, path: str) -> bytes | None:
        """A file's content at ``ref``, or None if it is not there."""
        try:
            return self.run_bytes("cat-file", "blob", "--end-of-options", f"{ref}:{path}")
        except GitError:
            self.resolve(ref)
            return None

    # ------------------------------------------------------------------ writing

    def commit_paths(
        self, paths: Sequence[str], message: str, *, new: Sequence[str] | None = None, hooks: bool = False
    ) -> str:
        """Commit exactly ``paths`` as they are in the working tree (new, changed or deleted).

        ``new``: those not at HEAD, if the caller knows (saves reading the tree). ``hooks``: run
        the repository's commit hooks, as ``git commit`` does; a hook that fails is a
        :class:`~fnreg.errors.HookRejected` carrying the hook's output.
        """
        # `commit --only` takes changed and deleted tracked files itself; only new ones need `add`.
        new = [path for path in paths if not self._in_head(path)] if new is None else list(new)
        if new:
            self.run("add", "--all", "--", *new)
        # --no-verify unless asked: a run's own commits skip hooks (README: "fnreg apply" runs them).
        command = _QUIET_COMMIT if not hooks else [a for a in _QUIET_COMMIT if a != "--no-verify"]
        try:
            self.run(*command, "--only", "--cleanup=verbatim", "-F", "-", "--", *paths, input=message)
        except GitError as exc:
            installed = self._commit_hooks() if hooks else []
            if not installed:
                raise
            if new:  # leave the index as it was
                self.run("reset", "--quiet", "--", *new)
            raise HookRejected(
                f"the repository's {' or '.join(installed)} hook rejected the commit (its output is above); "
                "nothing was committed",
                details=exc.details,
            ) from None
        self._after_commit(paths)
        return self._new_head()

    def _commit_hooks(self) -> list[str]:
        """The commit hooks the repository has (``core.hooksPath`` respected)."""
        folder = Path(self.run("rev-parse", "--git-path", "hooks"))
        folder = folder if folder.is_absolute() else self.root / folder
        return [
            name for name in ("pre-commit", "prepare-commit-msg", "commit-msg") if os.access(folder / name, os.X_OK)
        ]

    def _in_head(self, path: str) -> bool:
        try:
            self.run("cat-file", "-e", f"HEAD:{path}")
        except GitError:  # not in HEAD, or no commit yet
            return False
        return True

    def _new_head(self) -> str:
        """The commit just made: read from the branch's ref file, or asked of git where there is none."""
        branch, head = self._read_head()
        if branch and head:
            return head
        head = self.head()
        if head is None:  # pragma: no cover - git just made a commit
            raise GitError("git commit left no commit at HEAD")
        return head

    def commit_empty(self, message: str) -> str:
        """An empty commit that records something (an evaluation) in the history."""
        self.run(*_QUIET_COMMIT, "--allow-empty", "--only", "--cleanup=verbatim", "-F", "-", input=message)
        self._after_commit(())
        return self._new_head()

    def revert(self, commits: Sequence[str], message: str) -> str:
        """Revert ``commits`` (newest first) into a single commit."""
        if not commits:
            raise GitError("nothing to revert")
        try:
            self.run("revert", "--no-commit", "--no-edit", *commits)
        except GitError:
            self.run("revert", "--abort")
            raise
        self.run(*_QUIET_COMMIT, "--allow-empty", "--cleanup=verbatim", "-F", "-", input=message)
        self._after_commit(())
        return self._new_head()

    def tag(self, name: str, commit: str, message: str, *, force: bool = False) -> None:
        """An annotated tag."""
        self.run("tag", "--annotate", *(["--force"] if force else []), "-F", "-", name, commit, input=message)

    def tags(self, pattern: str) -> dict[str, str]:
        """Tags matching ``pattern`` → the commit each points at."""
        out = self.run(
            "for-each-ref", "--format=%(refname:short)%09%(*objectname)%09%(objectname)", f"refs/tags/{pattern}"
        )
        result = {}
        for line in out.splitlines():
            name, peeled, direct = line.split("\t")
            result[name] = peeled or direct
        return result

    def add_note(self, commit: str, text: str) -> None:
        """Attach ``text`` to ``commit`` under ``refs/notes/fnreg`` (replacing any note)."""
        self.run("notes", f"--ref={NOTES_REF}", "add", "--force", "-F", "-", commit, input=text)

    def read_note(self, commit: str) -> str | None:
        try:
            return self.run("notes", f"--ref={NOTES_REF}", "show", commit)
        except GitError:
            return None

    # ------------------------------------------------------------------ history

    def log(
        self, revisions: Sequence[str] = ("HEAD",), paths: Iterable[str] = (), *, max_count: int | None = None
    ) -> list[CommitInfo]:
        """Commits newest first, with their trailers parsed by git itself."""
        return list(self.iter_log(revisions, paths, max_count=max_count))

    def iter_log(
        self, revisions: Sequence[str] = ("HEAD",), paths: Iterable[str] = (), *, max_count: int | None = None
    ) -> Iterator[CommitInfo]:
        """:meth:`log`, one commit at a time while git still walks the history."""
        fmt = _FIELD.join(["%H", "%P", "%ct", "%s", "%b", _TRAILERS]) + _RECORD
        args = ["log", f"--format={fmt}", *revisions]
        if max_count is not None:
            args.append(f"--max-count={max_count}")
        paths = list(paths)
        if paths:
            args += ["--", *paths]
        try:
            for record in stream_git(args, cwd=self.root, separator="\x1e"):
                if record.strip("\n"):
                    yield _parse_record(record)
        except GitError:
            if self.head() is None:  # git found nothing to walk, so nothing was yielded
                return
            raise

    # ------------------------------------------------------------------ worktrees

    def add_worktree(self, path: Path, branch: str, start: str) -> None:
        self.run("worktree", "add", "--quiet", "-b", branch, str(path), start)

    def branches(self, pattern: str) -> dict[str, str]:
        out = self.run("for-each-ref", "--format=%(refname:short)%09%(objectname)", f"refs/heads/{pattern}")
        return dict(line.split("\t") for line in out.splitlines() if line)


def _is_sha(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text)


def blob_id(data: bytes) -> str:
    """The object id git gives a file with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _parse_record(record: str) -> CommitInfo:
    # Only newlines are stripped: str.strip() would also eat the \x1f separators.
    sha, parents, timestamp, subject, body, trailer_text = record.strip("\n").split("\x1f")
    pairs = (item.partition("\x1c") for item in trailer_text.split("\x1d") if item)
    trailers = [(key, value) for key, sep, value in pairs if sep]
    return CommitInfo(
        sha=sha,
        subject=subject,
        body=body.rstrip("\n"),
        trailers=tuple(trailers),
        parents=tuple(parents.split()),
        timestamp=int(timestamp or 0),
    )
