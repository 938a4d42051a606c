"""`fnreg package`: toolset wheels built from git objects, installed with the real pip."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fnreg.commands.init import init_repository
from fnreg.errors import FnregError
from fnreg.registry import Registry
from fnreg.registry.package import build_wheel, requires_dist
from fnreg.registry.toolset import FunctionInfo, Toolset
from tests.commands.test_registry_commands import fnreg
from tests.conftest import git

EVALUATE = {
    "action": "add_function",
    "name": "evaluate_expression",
    "description": "Evaluate arithmetic or symbolic expressions given as strings.",
    "arguments": '{"expression": {"type": "string", "description": "The expression to evaluate."}}',
    "packages": "sympy",
    "code": "import sympy\nreturn str(sympy.sympify(expression))",
}
SIMPLIFY = EVALUATE | {
    "action": "revise_function",
    "description": "Evaluate expressions exactly, simplifying the result.",
    "code": "import sympy\nreturn str(sympy.simplify(sympy.sympify(expression)))",
}
SHOUT = {
    "action": "add_function",
    "name": "shout",
    "description": "Upper-case a text and add an exclamation mark.",
    "arguments": '{"text": {"type": "string"}}',
    "code": "return text.upper() + '!'",
}
# sympify keeps this as written; the revision (simplify) turns it into 1.
TRIG = "sin(x)**2 + cos(x)**2"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """math: evaluate_expression (+ a private helper module), then text: shout, then math revised at HEAD.

    Built once per module and copied by each test, so tests that change the history stay apart.
    """
    repo = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as monkeypatch:
        # What conftest's autouse _git_identity does per test, for this module-scoped fixture.
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
        monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for role in ("AUTHOR", "COMMITTER"):
            monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
            monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
        git(repo, "init", "-q", "-b", "main")
        init_repository(repo)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "fnreg init")
        registry = Registry(repo)
        registry.apply(EVALUATE, toolset="math")
        (repo / "registry/math/_shared.py").write_text('"""Helpers of the math toolset."""\n\nPRECISION = 15\n')
        git(repo, "add", "registry/math/_shared.py")
        git(repo, "commit", "-qm", "math helper")
        registry.apply(SHOUT, toolset="text")
        registry.apply(SIMPLIFY, toolset="math")
    return repo


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "repo", symlinks=True))


def package(repo: Path, *args: str) -> Path:
    result = fnreg(repo, "package", *args)
    assert result.returncode == 0, result.stderr
    return repo / result.stdout.strip()


def check_record(wheel: Path) -> list[str]:
    """Verify RECORD as the wheel spec requires (pip itself does not); return the paths it lists."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        record_name = next(n for n in names if n.endswith(".dist-info/RECORD"))
        rows = list(csv.reader(io.StringIO(archive.read(record_name).decode())))
        assert rows[-1] == [record_name, "", ""]
        for path, digest, size in rows[:-1]:
            data = archive.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, size) == (f"sha256={expected}", str(len(data))), path
    assert sorted(row[0] for row in rows) == sorted(names)
    return [row[0] for row in rows]


def test_wheel_of_an_old_ref_holds_the_old_toolset_and_is_reproducible(repo: Path):
    first = package(repo, "--toolset", "math", "--ref", "HEAD~1", "--output", "out1")
    second = build_wheel(Registry(repo), "math", "HEAD~1", repo / "out2")  # the library, in-process
    old = git(repo, "rev-parse", "HEAD~1")
    # Two commits changed registry/math up to HEAD~1: a public version, as package indexes want.
    assert first.name == "registry_math-0.0.2-py3-none-any.whl"
    assert first.read_bytes() == second.read_bytes()

    dist_info = "registry_math-0.0.2.dist-info"
    assert check_record(first) == [
        "registry/math/__init__.py",
        "registry/math/_shared.py",
        "registry/math/evaluate_expression.py",
        f"{dist_info}/METADATA",
        f"{dist_info}/WHEEL",
        f"{dist_info}/RECORD",
    ]
    with zipfile.ZipFile(first) as archive:
        for name in git(repo, "ls-tree", "--name-only", "HEAD~1", "registry/math/").splitlines():
            assert archive.read(name).decode() == git(repo, "show", f"HEAD~1:{name}") + "\n"
        assert "sympy.simplify" not in archive.read("registry/math/evaluate_expression.py").decode()
        assert {(i.date_time, i.external_attr >> 16) for i in archive.infolist()} == {((1980, 1, 1, 0, 0, 0), 0o100644)}
        metadata = archive.read(f"{dist_info}/METADATA").decode().splitlines()
        wheel = archive.read(f"{dist_info}/WHEEL").decode().splitlines()
    assert metadata[:3] == ["Metadata-Version: 2.1", "Name: registry-math", "Version: 0.0.2"]
    assert metadata[3].startswith("Summary: ") and old[:12] in metadata[3] and "Requires-Python: >=3.11" in metadata
    assert [line for line in metadata if line.startswith("Requires-Dist")] == ["Requires-Dist: sympy"]
    assert {"Root-Is-Purelib: true", "Tag: py3-none-any"} <= set(wheel)

    assert build_wheel(Registry(repo), "math", "HEAD", repo / "out3").name == "registry_math-0.0.3-py3-none-any.whl"
    assert build_wheel(Registry(repo), "text", "HEAD", repo / "out3").name == "registry_text-0.0.1-py3-none-any.whl"
    newer = build_wheel(Registry(repo), "math", "HEAD", repo / "out1", version="1.0-1")
    assert newer.name == "registry_math-1.0.post1-py3-none-any.whl"  # normalised per PEP 440


def test_default_output_and_name(repo: Path):
    wheel = package(repo, "-t", "text", "--ref", "main", "--name", "My.Text_Tools")
    assert wheel.parent == repo / "dist" and wheel.name == "my_text_tools-0.0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        assert "registry/text/shout.py" in archive.namelist()
        metadata = archive.read(wheel.name.removesuffix("-py3-none-any.whl") + ".dist-info/METADATA").decode()
    assert "Name: my-text-tools\n" in metadata and "Requires-Dist" not in metadata


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh venv that sees this interpreter's packages, so installing needs no download."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
    if sys.prefix != sys.base_prefix:
        # Run from a venv, --system-site-packages reaches the *base* interpreter; expose the
        # test venv's own site-packages too (after the new venv's, so installs win).
        out = subprocess.run(
            [venv_python(venv), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        )
        Path(out.stdout.strip(), "_parent_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv


def pip(venv: Path, *args: str) -> subprocess.CompletedProcess:
    # Hermetic: no config files or PIP_* settings (find-links, indexes), and --no-index below.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")} | {"PIP_CONFIG_FILE": os.devnull}
    command = [sys.executable, "-m", "pip", "--python", str(venv_python(venv)), "--disable-pip-version-check", *args]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def run_in(venv: Path, cwd: Path, code: str) -> subprocess.CompletedProcess:
    # -I: neither the current directory nor PYTHONPATH may put the repository on sys.path.
    return subprocess.run([venv_python(venv), "-I", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_toolset_wheels_install_side_by_side_and_uninstall_apart(repo: Path, venv: Path, tmp_path: Path):
    math = package(repo, "--toolset", "math", "--ref", "HEAD~1", "--output", str(tmp_path / "wheels"))
    text = package(repo, "--toolset", "text", "--ref", "HEAD", "--output", str(tmp_path / "wheels"))
    # Dependencies resolve from what the venv sees (sympy), with no index: Requires-Dist is checked.
    pip(venv, "install", "--no-index", str(math), str(text))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    both = run_in(
        venv,
        elsewhere,
        "import registry; from registry.math import evaluate_expression; from registry.text import shout;"
        "import registry.math._shared;"
        "print(registry.__file__, evaluate_expression('1/2 + 1/3'), evaluate_expression(%r), shout('hi'), sep='|')"
        % TRIG,
    )
    assert both.returncode == 0, both.stderr
    # A namespace package (no __file__), and the old (sympify) function: the trig identity stays unsimplified.
    assert both.stdout.strip().split("|") == ["None", "5/6", TRIG, "HI!"]

    shown = pip(venv, "show", "-f", "registry-math").stdout
    assert "registry/math/evaluate_expression.py" in shown and "registry/math/_shared.py" in shown
    assert "Requires: sympy" in shown

    pip(venv, "uninstall", "--yes", "registry-math")
    after = run_in(venv, elsewhere, "from registry.text import shout; print(shout('still here'))")
    assert after.returncode == 0 and after.stdout.strip() == "STILL HERE!", after.stderr
    gone = run_in(venv, elsewhere, "import registry.math")
    assert gone.returncode != 0 and "No module named 'registry.math'" in gone.stderr


REFUSALS = {
    "unknown ref": (["-t", "math", "--ref", "no-such-branch"], "unknown revision 'no-such-branch'"),
    "missing toolset": (["-t", "text", "--ref", "HEAD~2"], "no toolset 'text' at HEAD~2"),
    "invalid version": (["-t", "math", "--ref", "HEAD", "--version", "1.x"], "version '1.x' is not a PEP 440 version"),
    "invalid name": (["-t", "math", "--ref", "HEAD", "--name", "-bad-"], "distribution name '-bad-' is not valid"),
}


def test_cli_refusals(repo: Path):
    # Run side by side: each is a fresh interpreter, and their startup dominates.
    running = {
        case: subprocess.Popen(
            [sys.executable, "-m", "fnreg", "package", *args], cwd=repo, stderr=subprocess.PIPE, text=True
        )
        for case, (args, _) in REFUSALS.items()
    }
    for case, process in running.items():
        stderr = process.communicate(timeout=120)[1]
        lines = stderr.strip().splitlines()
        assert process.returncode != 0 and len(lines) == 1, f"{case}: {stderr}"
        assert lines[0].startswith(f"error: {REFUSALS[case][1]}"), f"{case}: {stderr}"
    assert not (repo / "dist").exists()


def test_not_a_repository(tmp_path: Path):
    result = fnreg(tmp_path, "package", "-t", "math", "--ref", "HEAD")
    assert result.returncode != 0 and result.stderr.strip().startswith("error: not a git repository")


def test_toolset_without_functions_or_with_a_broken_module(repo: Path, tmp_path: Path):
    registry = Registry(repo)
    registry.apply({"action": "remove_function", "name": "shout"}, toolset="text")
    with pytest.raises(FnregError, match="toolset 'text' has no functions at HEAD"):
        build_wheel(registry, "text", "HEAD", tmp_path)
    (repo / "registry/math/broken.py").write_text("def broken(:\n")
    git(repo, "add", "registry/math/broken.py")
    git(repo, "commit", "-qm", "broken")
    with pytest.raises(FnregError, match=r"registry/math/broken.py at HEAD: .*fix the module"):
        build_wheel(registry, "math", "HEAD", tmp_path)
    assert list(tmp_path.glob("*.whl")) == []


def _function(name: str, *requires: str) -> FunctionInfo:
    return FunctionInfo(name, "d", {}, requires, f"registry/t/{name}.py", "")


def test_requires_dist_one_line_per_package():
    toolset = Toolset(
        "t",
        None,
        {
            "a": _function("a", "NumPy>=1.26", "sympy"),
            "b": _function("b", "numpy<3", "pandas[excel]"),
            "c": _function("c", "numpy", "Pandas[parquet]", "tomli; python_version < '3.11'"),
        },
    )
    assert requires_dist(toolset) == [
        "numpy<3,>=1.26",
        "pandas[excel,parquet]",
        "sympy",
        'tomli; python_version < "3.11"',
    ]
    with pytest.raises(FnregError, match=r"registry/t/d.py: __requires__ entry 'not a requirement'"):
        requires_dist(Toolset("t", None, {"d": _function("d", "not a requirement")}))
