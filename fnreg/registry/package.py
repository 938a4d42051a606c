"""Wheels of one toolset at one ref, written straight from git objects.

``build_wheel`` reads ``<package>/<toolset>/*.py`` at a commit and writes a pure-Python
wheel with :mod:`zipfile`: no checkout, no build backend, nothing else from the repository.

Decisions:

- **Distribution name**: ``<package>-<toolset>`` normalised (PEP 503: lowercase, runs of
  ``-_.`` become ``-``), e.g. ``registry-math``; ``name`` overrides it and is normalised the
  same way. One distribution per toolset, so toolsets install, upgrade and uninstall apart.
- **Version**: ``0.0.<n>`` by default, where ``n`` counts the commits that changed the
  toolset up to the ref: a public PEP 440 version (package indexes refuse local ones such as
  ``0.0.0+g<commit>``) that grows with every change along a branch and stays the same for a
  ref whose toolset did not change. The commit itself is in the summary. ``version``
  overrides it; any version is checked and normalised (``1.0-1`` → ``1.0.post1``).
- **Layout**: the top-level package is an implicit namespace package: the wheel holds no
  ``<package>/__init__.py``, so two toolset wheels install side by side and uninstalling
  one leaves the other importable. (A *regular* ``<package>`` on ``sys.path``, such as the
  repository itself installed with ``pip install -e .``, shadows every namespace portion.)
- **Contents**: every ``*.py`` directly in the toolset folder at that ref: the function
  modules, private helper modules (``_x.py``) and the generated ``__init__.py``, which is
  regenerated with :func:`~fnreg.registry.init_module.build_init` if the ref lacks it.
  Other files are not shipped. A module that does not derive (``fnreg list`` warns about
  it) is refused rather than shipped broken.
- **Requires-Dist**: one line per distinct package (per environment marker) named in the
  functions' ``__requires__``; specifiers and extras of repeated entries are combined,
  e.g. ``numpy>=1.26`` and ``numpy<3`` give ``numpy<3,>=1.26``.
- **Requires-Python**: ``>=3.11``, the oldest Python fnreg runs (and so evaluates) learned code on.
- **Reproducible**: entries sorted (dist-info last, ``RECORD`` at the very end), fixed
  timestamps (1980-01-01), fixed permissions (0644) and compression, so the same ref and
  options give a byte-identical wheel.
- **Refusals** (:class:`~fnreg.errors.FnregError`, one line each): not a git repository,
  unknown ref, no such toolset at the ref, a toolset without functions, a module that does
  not derive, a bad ``__requires__`` entry, an invalid name or version.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

# `packaging` comes with black (and pip): the reference implementation of PEP 440 and PEP 508.
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from fnreg.errors import FnregError, InputError
from fnreg.registry.config import black_mode
from fnreg.registry.init_module import build_init
from fnreg.registry.registry import Registry
from fnreg.registry.toolset import Toolset, check_toolset_name, load_toolset, name_list
from fnreg.version import fnreg_version

REQUIRES_PYTHON = ">=3.11"
WHEEL_TAG = "py3-none-any"
# The earliest time a zip entry can carry: the same for every build, so builds are byte-identical.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # a regular file, rw-r--r--
_UNIX = 3  # ZipInfo.create_system: the mode bits above are Unix bits on every platform
# PEP 508 names: letters, digits and ._- ; starting and ending with a letter or digit.
_DIST_NAME = re.compile(r"[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9]", re.IGNORECASE)


def build_wheel(
    registry: Registry,
    toolset: str,
    ref: str,
    output_dir: str | os.PathLike[str],
    *,
    version: str | None = None,
    name: str | None = None,
) -> Path:
    """Write the wheel of ``toolset`` as it is at ``ref`` into ``output_dir``; return its path."""
    # Options first: a typo in the name or version is reported before git is asked anything.
    check_toolset_name(toolset)
    dist = distribution_name(registry.package, toolset, name)
    release = normalise_version(version) if version is not None else None
    commit = registry.git.resolve(ref)
    release = release or default_version(registry, toolset, commit)
    functions, files = _toolset_files(registry, toolset, ref, commit)
    dist_info = f"{dist.replace('-', '_')}-{release}.dist-info"
    metadata = _metadata(dist, release, _summary(registry, toolset, commit), requires_dist(functions))
    entries = {
        **{f"{registry.toolset_path(toolset)}/{filename}": data for filename, data in sorted(files.items())},
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": _wheel_file().encode(),
    }
    entries[f"{dist_info}/RECORD"] = _record(entries, f"{dist_info}/RECORD").encode()
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dist.replace('-', '_')}-{release}-{WHEEL_TAG}.whl"
    _write_zip(path, entries)
    return path


def distribution_name(package: str, toolset: str, name: str | None = None) -> str:
    """The normalised distribution name: ``name`` if given, else ``<package>-<toolset>``."""
    raw = name if name is not None else f"{package}-{toolset}"
    if not _DIST_NAME.fullmatch(raw):
        raise FnregError(
            f"distribution name {raw!r} is not valid: use letters, digits, '.', '-' and '_', "
            "starting and ending with a letter or digit (e.g. registry-math)"
        )
    return canonicalize_name(raw)


def default_version(registry: Registry, toolset: str, commit: str) -> str:
    """``0.0.<n>``: ``n`` commits changed the toolset up to ``commit`` (a public PEP 440 version)."""
    count = registry.git.run("rev-list", "--count", commit, "--", registry.toolset_path(toolset))
    return f"0.0.{int(count or 0)}"


def normalise_version(version: str) -> str:
    """``version`` in its PEP 440 normal form, or a one-line error."""
    try:
        return str(Version(version))
    except InvalidVersion:
        raise InputError(f"version {version!r} is not a PEP 440 version; use e.g. 1.2.0 or 0.1.0") from None


def requires_dist(functions: Toolset) -> list[str]:
    """One requirement per distinct package (and marker) the functions declare, sorted."""
    merged: dict[tuple[str, str], Requirement] = {}
    for function in functions:
        for entry in function.requires:
            requirement = _parse_requirement(entry, function.path)
            key = (canonicalize_name(requirement.name), str(requirement.marker or ""))
            if key in merged:
                _combine(merged[key], requirement)
            else:
                requirement.name = key[0]
                merged[key] = requirement
    return [str(merged[key]) for key in sorted(merged)]


def _parse_requirement(entry: str, path: str) -> Requirement:
    try:
        return Requirement(entry)
    except InvalidRequirement:
        raise FnregError(
            f"{path}: __requires__ entry {entry!r} is not a requirement such as 'sympy' or 'numpy>=1.26'; fix the module"
        ) from None


def _combine(into: Requirement, other: Requirement) -> None:
    """Fold ``other`` into ``into``: both constraints must hold, all extras are wanted."""
    if other.url and into.url and other.url != into.url:
        raise FnregError(f"__requires__ names {into.name!r} from two different URLs; keep one")
    into.url = into.url or other.url
    into.extras |= other.extras
    into.specifier = SpecifierSet(",".join(sorted({str(s) for s in (*into.specifier, *other.specifier)})))


def _toolset_files(registry: Registry, toolset: str, ref: str, commit: str) -> tuple[Toolset, dict[str, bytes]]:
    """The toolset's ``*.py`` files at ``commit``, refusing anything that would ship broken."""
    base = registry.toolset_path(toolset)
    files = {n: data for n, data in registry.git.read_dir(commit, base).items() if n.endswith(".py")}
    if not files:
        there = name_list(registry.toolsets(commit))
        raise InputError(f"no toolset {toolset!r} at {ref} ({base}/ has no modules there; toolsets: {there})")
    functions = load_toolset(toolset, files, base, commit)
    if functions.problems:
        path, problem = next(iter(functions.problems.items()))
        raise FnregError(f"{path} at {ref}: {problem}; fix the module or package another --ref")
    if not functions.functions:
        raise FnregError(f"toolset {toolset!r} has no functions at {ref}; nothing to package (pick another --ref)")
    if "__init__.py" not in files:
        files["__init__.py"] = build_init(toolset, functions.names, mode=black_mode(registry.root)).encode()
    return functions, files


def _summary(registry: Registry, toolset: str, commit: str) -> str:
    return f"Toolset {toolset} learned by fnreg ({registry.toolset_path(toolset)} at commit {commit[:12]})"


def _metadata(name: str, version: str, summary: str, requires: Iterable[str]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {summary}",
        f"Requires-Python: {REQUIRES_PYTHON}",
        *(f"Requires-Dist: {requirement}" for requirement in requires),
    ]
    return "\n".join(lines) + "\n"


def _wheel_file() -> str:
    return f"Wheel-Version: 1.0\nGenerator: fnreg {fnreg_version()}\nRoot-Is-Purelib: true\nTag: {WHEEL_TAG}\n"


def _record(entries: Mapping[str, bytes], record_path: str) -> str:
    """``RECORD``: path, ``sha256=`` urlsafe base64 digest without padding, size; itself without either."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
        writer.writerow([path, f"sha256={digest}", str(len(data))])
    writer.writerow([record_path, "", ""])
    return out.getvalue()


def _write_zip(path: Path, entries: Mapping[str, bytes]) -> None:
    """Write the archive next to ``path`` and move it into place: a failed build leaves no half wheel."""
    temporary = path.with_name(f".{path.name}.fnreg-tmp")
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for arcname, data in entries.items():
                info = zipfile.ZipInfo(arcname, date_time=_ZIP_TIME)
                info.create_system = _UNIX
                info.external_attr = _FILE_MODE << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
