"""A small wrapper over the repository: the only module that talks to git.

Reads go straight to git objects (GitPython's persistent ``cat-file`` process), so any
ref can be inspected without a checkout. Writes use the git CLI through GitPython and
touch only the paths they are given: the user's other staged or unstaged changes are
never part of an fnreg commit.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Without git on PATH, GitPython raises at import; fnreg says so in one line instead (Git()).
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
import git as gitpython  # noqa: E402
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError  # noqa: E402

from fnreg.errors import GitError  # noqa: E402

NOTES_REF = "fnreg"
# Up to this size (a few thousand files) the index is read in-process instead of running `git status`.
SMALL_INDEX_BYTES = 256_000
_FIELD = "%x1f"
_RECORD = "%x1e"
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

    def trailer(self, key: str) -> str | None:
        """The last value of trailer ``key``, if present."""
        values = self.trailer_values(key)
        return values[-1] if values else None

    def trailer_values(self, key: str) -> list[str]:
        return [v for k, v in self.trailers if k.lower() == key.lower()]


class Git:
    """A repository or one of its worktrees."""

    def __init__(self, path: str | os.PathLike[str] = ".") -> None:
        if shutil.which("git") is None:
            raise GitError("git is not installed or not on PATH; install git (https://git-scm.com) and try again")
        try:
            self.repo = gitpython.Repo(Path(path), search_parent_directories=True)
        except (InvalidGitRepositoryError, NoSuchPathError):
            raise GitError(f"not a git repository: {Path(path).resolve()} (run `git init` there first)") from None
        if self.repo.bare:
            raise GitError(f"{self.repo.git_dir} is a bare repository; fnreg needs a working tree")
        self.root = Path(self.repo.working_tree_dir).resolve()
        self._identity: list[str] | None = None

    # ------------------------------------------------------------------ running git

    def run(self, *args: str, input: str | None = None) -> str:
        """Run ``git <args>`` in the working tree and return stdout without the final newline."""
        proc = subprocess.run(
            ["git", *self._identity_args(), *args],
            cwd=self.root,
            input=input,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        if proc.returncode != 0:
            lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
            raise GitError(f"git {args[0]} failed: {lines[-1] if lines else f'exit status {proc.returncode}'}")
        return proc.stdout.rstrip("\n")

    def _identity_args(self) -> list[str]:
        if self._identity is None:
            reader = self.repo.config_reader()
            has_name = reader.has_option("user", "name") or "GIT_COMMITTER_NAME" in os.environ
            has_email = reader.has_option("user", "email") or "GIT_COMMITTER_EMAIL" in os.environ
            self._identity = []
            if not has_name:
                self._identity += ["-c", f"user.name={_FALLBACK_IDENTITY[0]}"]
            if not has_email:
                self._identity += ["-c", f"user.email={_FALLBACK_IDENTITY[1]}"]
        return self._identity

    # ------------------------------------------------------------------ state

    @property
    def common_root(self) -> Path:
        """The main working tree, also from one of its worktrees (where ``.fnreg/`` lives)."""
        return Path(self.repo.common_dir).resolve().parent

    @property
    def git_dir(self) -> Path:
        return Path(self.repo.git_dir)

    def head(self) -> str | None:
        """The commit HEAD points at, or None in a repository without commits."""
        try:
            return self.repo.head.commit.hexsha
        except ValueError:
            return None

    def branch(self) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        try:
            return self.repo.active_branch.name
        except TypeError:
            return None

    def ensure_writable(self) -> None:
        """Refuse to commit on a detached HEAD or in the middle of another operation."""
        if self.branch() is None:
            raise GitError("HEAD is detached; check out a branch first (git switch <branch>)")
        for marker, what in _IN_PROGRESS.items():
            if (self.git_dir / marker).exists():
                raise GitError(f"{what} is in progress in {self.root}; finish or abort it first")

    def exclude(self, pattern: str) -> None:
        """Ignore ``pattern`` locally (``.git/info/exclude``): no tracked file changes."""
        path = Path(self.repo.common_dir) / "info" / "exclude"
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if pattern in text.splitlines():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + ("" if not text or text.endswith("\n") else "\n") + pattern + "\n", encoding="utf-8")

    def resolve(self, ref: str) -> str:
        """The commit a ref names, or a GitError saying it does not exist."""
        try:
            return self.repo.commit(ref).hexsha
        except (gitpython.BadName, ValueError, GitCommandError):
            if self.head() is None:
                raise GitError(
                    f"unknown revision {ref!r}: the repository has no commits yet; "
                    "commit your registry/ and tasks/ first (git add -A && git commit)"
                ) from None
            raise GitError(f"unknown revision {ref!r}") from None

    def dirty(self, paths: Sequence[str], committed: Mapping[str, str | None] | None = None) -> list[str]:
        """Paths among ``paths`` with staged or unstaged changes (or untracked).

        ``committed``: each path's blob id at HEAD (None: not there), if the caller knows it.
        """
        if not paths:
            return []
        if committed is not None and self._surely_clean(committed):
            return []
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths)
        entries = [e for e in out.split("\0") if e]
        return [e[3:] for e in entries if len(e) > 3]

    def _surely_clean(self, committed: Mapping[str, str | None]) -> bool:
        """True when HEAD, the index and the files agree on every path (checked without a subprocess).

        A quick answer for the common case; anything else (a large index, a difference, an
        error) is left to `git status`, which has the last word.
        """
        try:
            if (self.git_dir / "index").stat().st_size > SMALL_INDEX_BYTES:
                return False
            entries = gitpython.IndexFile(self.repo).entries
        except Exception:  # no index yet, or one GitPython cannot read
            return False
        for path, blob in committed.items():
            if any((path, stage) in entries for stage in (1, 2, 3)):
                return False
            staged = entries.get((path, 0))
            target = self.root / path
            on_disk = blob_id(target.read_bytes()) if target.is_file() else None
            if (staged.hexsha if staged else None) != blob or on_disk != blob:
                return False
        return True

    # ------------------------------------------------------------------ reading objects

    def read_dir(self, ref: str, path: str) -> dict[str, bytes]:
        """Files directly inside ``path`` at ``ref``: name → content. Empty if missing."""
        tree = self._tree(ref, path)
        if tree is None:
            return {}
        blobs = [(blob.name, blob.hexsha) for blob in tree.blobs]
        if len(blobs) < 32:
            return {blob.name: blob.data_stream.read() for blob in tree.blobs}
        # Many files: one `git cat-file --batch` call instead of a round trip per object.
        proc = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=self.root,
            input="".join(f"{sha}\n" for _, sha in blobs).encode(),
            capture_output=True,
            check=True,
        )
        contents, offset, out = {}, 0, proc.stdout
        for name, _ in blobs:
            header_end = out.index(b"\n", offset)
            size = int(out[offset:header_end].split()[2])
            contents[name] = out[header_end + 1 : header_end + 1 + size]
            offset = header_end + 1 + size + 1  # the content is followed by a newline
        return contents

    def file_ids(self, ref: str, path: str) -> dict[str, str]:
        """Files directly inside ``path`` at ``ref``: name → blob id, without reading them."""
        tree = self._tree(ref, path)
        return {blob.name: blob.hexsha for blob in tree.blobs} if tree is not None else {}

    def list_dirs(self, ref: str, path: str) -> list[str]:
        """Names of the folders directly inside ``path`` at ``ref``."""
        tree = self._tree(ref, path)
        return sorted(t.name for t in tree.trees) if tree is not None else []

    def read_file(self, ref: str, path: str) -> bytes | None:
        commit = self.repo.commit(self.resolve(ref))
        try:
            return commit.tree[path].data_stream.read()
        except KeyError:
            return None

    def _tree(self, ref: str, path: str):  # -> git.Tree | None
        commit = self.repo.commit(self.resolve(ref))
        if not path or path == ".":
            return commit.tree
        try:
            obj = commit.tree[path]
        except KeyError:
            return None
        return obj if obj.type == "tree" else None

    # ------------------------------------------------------------------ writing

    def commit_paths(self, paths: Sequence[str], message: str, *, new: Sequence[str] | None = None) -> str:
        """Commit exactly ``paths`` as they are in the working tree (new, changed or deleted).

        ``new``: those not at HEAD, if the caller knows (saves reading the tree).
        """
        # `commit --only` takes changed and deleted tracked files itself; only new ones need `add`.
        new = [path for path in paths if not self._in_head(path)] if new is None else list(new)
        if new:
            self.run("add", "--all", "--", *new)
        self.run(
            "commit", "--quiet", "--no-verify", "--only", "--cleanup=verbatim", "-F", "-", "--", *paths, input=message
        )
        return self.repo.head.commit.hexsha

    def _in_head(self, path: str) -> bool:
        try:
            self.repo.head.commit.tree[path]
        except (KeyError, ValueError):  # not in HEAD, or no commit yet
            return False
        return True

    def commit_empty(self, message: str) -> str:
        """An empty commit that records something (an evaluation) in the history."""
        self.run(
            "commit",
            "--quiet",
            "--no-verify",
            "--allow-empty",
            "--only",
            "--cleanup=verbatim",
            "-F",
            "-",
            input=message,
        )
        return self.repo.head.commit.hexsha

    def revert(self, commits: Sequence[str], message: str) -> str:
        """Revert ``commits`` (newest first) into a single commit."""
        if not commits:
            raise GitError("nothing to revert")
        try:
            self.run("revert", "--no-commit", "--no-edit", *commits)
        except GitError:
            self.run("revert", "--abort")
            raise
        self.run("commit", "--quiet", "--no-verify", "--allow-empty", "--cleanup=verbatim", "-F", "-", input=message)
        return self.repo.head.commit.hexsha

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
        fmt = _FIELD.join(["%H", "%P", "%ct", "%s", "%b", "%(trailers:only,unfold)"]) + _RECORD
        args = ["log", f"--format={fmt}", *revisions]
        if max_count is not None:
            args.append(f"--max-count={max_count}")
        paths = list(paths)
        if paths:
            args += ["--", *paths]
        try:
            out = self.run(*args)
        except GitError:
            if self.head() is None:
                return []
            raise
        return [_parse_record(r) for r in out.split("\x1e") if r.strip("\n")]

    # ------------------------------------------------------------------ worktrees

    def add_worktree(self, path: Path, branch: str, start: str) -> None:
        self.run("worktree", "add", "--quiet", "-b", branch, str(path), start)

    def branches(self, pattern: str) -> dict[str, str]:
        out = self.run("for-each-ref", "--format=%(refname:short)%09%(objectname)", f"refs/heads/{pattern}")
        return dict(line.split("\t") for line in out.splitlines() if line)


def blob_id(data: bytes) -> str:
    """The object id git gives a file with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _parse_record(record: str) -> CommitInfo:
    # Only newlines are stripped: str.strip() would also eat the \x1f separators.
    sha, parents, timestamp, subject, body, trailer_text = record.strip("\n").split("\x1f")
    trailers = []
    for line in trailer_text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            trailers.append((key.strip(), value.strip()))
    return CommitInfo(
        sha=sha,
        subject=subject,
        body=body.rstrip("\n"),
        trailers=tuple(trailers),
        parents=tuple(parents.split()),
        timestamp=int(timestamp or 0),
    )
