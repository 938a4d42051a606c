"""The one way to git: a real repository, every failure a GitError, reads at any ref without a checkout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fnreg.errors import GitError
from fnreg.registry.git import Git, blob_id, run_git, stream_git
from tests.conftest import git


def commit_file(repo: Path, relative: str, text: str, message: str = "change") -> str:
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", relative)
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


# ----------------------------------------------------------------------------- opening


def test_opens_from_a_subfolder_and_knows_its_folders(git_repo: Path) -> None:
    (git_repo / "sub" / "deeper").mkdir(parents=True)
    repo = Git(git_repo / "sub" / "deeper")
    assert repo.root == git_repo.resolve()
    assert repo.git_dir == (git_repo / ".git").resolve() and repo.common_root == git_repo.resolve()


def test_a_worktree_knows_the_main_working_tree(git_repo: Path, tmp_path: Path) -> None:
    git(git_repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "side"))
    side = Git(tmp_path / "side")
    assert side.root == (tmp_path / "side").resolve() and side.common_root == git_repo.resolve()
    assert side.branch() == "side" and side.git_dir.name == "side"


@pytest.mark.parametrize("where", ["plain folder", "missing folder", "a file"])
def test_not_a_repository(tmp_path: Path, where: str) -> None:
    path = {"plain folder": tmp_path, "missing folder": tmp_path / "nope", "a file": tmp_path / "f"}[where]
    if where == "a file":
        path.write_text("x")
    with pytest.raises(GitError, match="not a git repository: .* \\(run `git init` there first\\)"):
        Git(path)


def test_a_bare_repository_is_refused(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "--bare", "bare.git")
    with pytest.raises(GitError, match="bare.git is a bare repository; fnreg needs a working tree"):
        Git(tmp_path / "bare.git")


def test_missing_git_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GitError, match="^git is not installed or not on PATH"):
        Git(tmp_path)
    with pytest.raises(GitError, match="^git is not installed or not on PATH"):
        run_git(["status"], cwd=tmp_path)


def test_init_creates_and_opens(tmp_path: Path) -> None:
    repo = Git.init(tmp_path / "new", initial_branch="trunk")
    assert repo.root == (tmp_path / "new").resolve() and repo.head() is None
    assert (tmp_path / "new" / ".git").is_dir() and repo.branch() == "trunk"


# ----------------------------------------------------------------------------- running


def test_every_failure_is_a_git_error_with_gits_own_words(git_repo: Path) -> None:
    repo = Git(git_repo)
    with pytest.raises(GitError, match="^git frobnicate failed: git: 'frobnicate' is not a git command"):
        repo.run("frobnicate")
    with pytest.raises(GitError, match="^git cat-file failed"):
        repo.read_blobs(["0" * 40])  # the cat-file --batch path answers "missing"
    with pytest.raises(GitError, match="^unknown revision 'no-such-ref'"):
        repo.resolve("no-such-ref")
    with pytest.raises(GitError, match="^unknown revision 'no-such-ref'"):
        repo.read_dir("no-such-ref", "registry")


def test_a_vanished_working_tree_is_a_git_error(git_repo: Path, tmp_path: Path) -> None:
    repo = Git(git_repo)
    git_repo.rename(tmp_path / "moved")
    with pytest.raises(GitError, match="^git status failed"):
        repo.run("status")


def test_writes_get_an_identity_where_none_is_configured(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    repo = Git(git_repo)
    sha = repo.commit_empty("recorded\n")
    assert git(git_repo, "log", "-1", "--format=%cn <%ce>", sha) == "fnreg <fnreg@localhost>"
    git(git_repo, "config", "user.name", "Ada")
    git(git_repo, "config", "user.email", "ada@example.com")
    sha = Git(git_repo).commit_empty("recorded again\n")
    assert git(git_repo, "log", "-1", "--format=%cn <%ce>", sha) == "Ada <ada@example.com>"


# ----------------------------------------------------------------------------- HEAD


def test_head_and_branch(git_repo: Path) -> None:
    repo = Git(git_repo)
    assert repo.head() == git(git_repo, "rev-parse", "HEAD") and repo.branch() == "main"
    assert repo.writable_head() == repo.head()
    git(git_repo, "checkout", "-q", "--detach")
    assert repo.branch() is None
    with pytest.raises(GitError, match="HEAD is detached"):
        repo.writable_head()
    with pytest.raises(GitError, match="HEAD is detached"):
        repo.ensure_writable()


def test_head_when_refs_are_packed(git_repo: Path) -> None:
    head = git(git_repo, "rev-parse", "HEAD")
    git(git_repo, "pack-refs", "--all")
    assert not (git_repo / ".git" / "refs" / "heads" / "main").exists()
    repo = Git(git_repo)
    assert repo.writable_head() == head
    assert repo.commit_empty("after packing\n") == git(git_repo, "rev-parse", "HEAD")


def test_head_before_the_first_commit(tmp_path: Path) -> None:
    repo = Git.init(tmp_path / "empty", initial_branch="main")
    assert repo.head() is None and repo.writable_head() is None and repo.log() == []


def test_an_operation_in_progress_is_refused(git_repo: Path) -> None:
    (git_repo / ".git" / "REVERT_HEAD").write_text(git(git_repo, "rev-parse", "HEAD") + "\n")
    with pytest.raises(GitError, match="a revert is in progress in .*; finish or abort it first"):
        Git(git_repo).writable_head()


# ----------------------------------------------------------------------------- reading objects


def test_reading_a_folder_at_a_ref_without_a_checkout(git_repo: Path) -> None:
    first = commit_file(git_repo, "pkg/a.py", "A = 1\n")
    commit_file(git_repo, "pkg/b.py", "B = 2\n")
    commit_file(git_repo, "pkg/sub/c.py", "C = 3\n")
    repo = Git(git_repo)
    assert repo.read_dir("HEAD", "pkg") == {"a.py": b"A = 1\n", "b.py": b"B = 2\n"}
    assert repo.read_dir(first, "pkg") == {"a.py": b"A = 1\n"}
    assert repo.list_dirs("HEAD", "pkg") == ["sub"] and repo.list_dirs("HEAD", ".") == ["pkg"]
    assert repo.file_ids("HEAD", "pkg") == {"a.py": blob_id(b"A = 1\n"), "b.py": blob_id(b"B = 2\n")}
    assert repo.read_file("HEAD", "pkg/sub/c.py") == b"C = 3\n"
    assert repo.read_file("HEAD", "pkg/none.py") is None and repo.read_dir("HEAD", "nowhere") == {}
    assert repo.path_ids("HEAD", ["pkg/", "README.md"]) == {
        "pkg/a.py": blob_id(b"A = 1\n"),
        "pkg/b.py": blob_id(b"B = 2\n"),
        "README.md": blob_id(b"user project\n"),
    }


def test_many_files_and_binary_content_read_in_one_batch(git_repo: Path) -> None:
    folder = git_repo / "many"
    folder.mkdir()
    contents = {f"f{i:03d}.bin": bytes(range(256)) * i + b"\n\x00end" for i in range(120)}
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    git(git_repo, "add", "many")
    git(git_repo, "commit", "-qm", "many")
    assert Git(git_repo).read_dir("HEAD", "many") == contents


# ----------------------------------------------------------------------------- writing


def test_commit_paths_takes_only_those_paths(git_repo: Path) -> None:
    repo = Git(git_repo)
    (git_repo / "mine.py").write_text("mine\n")
    (git_repo / "README.md").write_text("the user's edit\n")
    (git_repo / "staged.txt").write_text("staged by the user\n")
    git(git_repo, "add", "staged.txt")
    sha = repo.commit_paths(["mine.py"], "add mine\n", new=["mine.py"])
    assert sha == git(git_repo, "rev-parse", "HEAD")
    assert git(git_repo, "show", "--name-only", "--format=", sha) == "mine.py"
    assert git(git_repo, "status", "--porcelain") == " M README.md\nA  staged.txt"


def test_revert_in_one_commit_and_notes(git_repo: Path) -> None:
    repo = Git(git_repo)
    a = commit_file(git_repo, "x.py", "1\n")
    b = commit_file(git_repo, "x.py", "2\n")
    sha = repo.revert([b, a], "roll back both\n")
    assert (git_repo / "x.py").exists() is False and git(git_repo, "log", "-1", "--format=%s") == "roll back both"
    repo.add_note(sha, '{"epoch": 1}')
    assert repo.read_note(sha) == '{"epoch": 1}' and repo.read_note(a) is None
    with pytest.raises(GitError, match="nothing to revert"):
        repo.revert([], "nothing\n")


def test_log_parses_trailers_by_git_and_keeps_separator_like_characters(git_repo: Path) -> None:
    repo = Git(git_repo)
    message = "subject \x1d with odd bytes\n\nbody line\n\nFnreg-Run: r1\nFnreg-Rollback-Of: a\nFnreg-Rollback-Of: b\n"
    sha = repo.commit_empty(message)
    commit = repo.log(max_count=1)[0]
    assert commit.sha == sha and commit.subject == "subject \x1d with odd bytes" and commit.body.startswith("body line")
    assert commit.trailer("fnreg-run") == "r1" and commit.trailer_values("Fnreg-Rollback-Of") == ["a", "b"]
    assert commit.trailer("Fnreg-Rollback-Of") == "b" and commit.trailer("Missing") is None


def test_a_long_history_streams_whole_records_across_read_boundaries(git_repo: Path) -> None:
    repo = Git(git_repo)
    # Multi-byte text, so a 64 KiB read ends inside a character as well as inside a record.
    subjects = [f"commit {i} é{'ü' * (i % 97)}" for i in range(600)]
    stream = "".join(
        f"commit refs/heads/long\ncommitter a <a@b> {1_700_000_000 + i} +0000\ndata <<EOF\n{s}\n\nFnreg-Run: r\nEOF\n\n"
        for i, s in enumerate(subjects)
    )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=git_repo, input=stream.encode(), check=True)
    commits = repo.log(["long"])
    assert [c.subject for c in commits] == subjects[::-1]
    assert all(c.trailer("Fnreg-Run") == "r" for c in commits)


def test_a_failing_stream_is_a_git_error_with_gits_own_words(git_repo: Path) -> None:
    with pytest.raises(GitError, match="git log failed: fatal: bad revision 'no-such-branch'"):
        list(stream_git(["log", "no-such-branch", "--"], cwd=git_repo, separator="\n"))


def test_a_stream_left_early_ends_its_git(git_repo: Path) -> None:
    for i in range(50):
        Git(git_repo).commit_empty(f"c{i}\n")
    records = stream_git(["log", "--format=%H%x1e"], cwd=git_repo, separator="\x1e")
    first = next(records)
    records.close()  # the caller stops reading: git's pipe closes, and git is waited for
    assert len(first.strip()) == 40


# ----------------------------------------------------------------------------- dirty paths


def test_dirty_reports_staged_unstaged_and_untracked(git_repo: Path) -> None:
    commit_file(git_repo, "pkg/a.py", "A\n")
    commit_file(git_repo, "pkg/b.py", "B\n")
    repo = Git(git_repo)
    assert repo.dirty(["pkg/a.py", "pkg/b.py", "pkg/new.py"]) == []
    (git_repo / "pkg" / "a.py").write_text("edited\n")
    (git_repo / "pkg" / "new.py").write_text("untracked\n")
    assert repo.dirty(["pkg/a.py", "pkg/b.py", "pkg/new.py"], scope=["pkg"]) == ["pkg/a.py", "pkg/new.py"]


def test_a_clean_index_is_remembered_until_someone_else_touches_it(git_repo: Path) -> None:
    commit_file(git_repo, "pkg/a.py", "A\n")
    repo = Git(git_repo)
    committed = {"pkg/a.py": blob_id(b"A\n")}
    assert repo.dirty(["pkg/a.py"], committed, scope=["pkg"]) == []
    # The file changes on disk: its content alone shows it, without asking git.
    (git_repo / "pkg" / "a.py").write_text("changed\n")
    assert repo.dirty(["pkg/a.py"], committed, scope=["pkg"]) == ["pkg/a.py"]
    (git_repo / "pkg" / "a.py").write_text("A\n")
    assert repo.dirty(["pkg/a.py"], committed, scope=["pkg"]) == []
    # Someone stages a change and puts the file back: the index moved, so git is asked again.
    (git_repo / "pkg" / "a.py").write_text("staged\n")
    git(git_repo, "add", "pkg/a.py")
    (git_repo / "pkg" / "a.py").write_text("A\n")
    assert repo.dirty(["pkg/a.py"], committed, scope=["pkg"]) == ["pkg/a.py"]


def test_blob_id_is_gits(git_repo: Path) -> None:
    (git_repo / "f").write_bytes(b"some bytes\x00\n")
    expected = subprocess.run(["git", "hash-object", "f"], cwd=git_repo, capture_output=True, text=True).stdout.strip()
    assert blob_id(b"some bytes\x00\n") == expected


def test_exclude_is_idempotent(git_repo: Path) -> None:
    repo = Git(git_repo)
    repo.exclude("/.fnreg/")
    repo.exclude("/.fnreg/")
    exclude = (git_repo / ".git" / "info" / "exclude").read_text().splitlines()
    assert exclude.count("/.fnreg/") == 1
    os.makedirs(git_repo / ".fnreg")
    (git_repo / ".fnreg" / "x").write_text("x")
    assert git(git_repo, "status", "--porcelain") == ""
