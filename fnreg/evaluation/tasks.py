"""Task sets: ``tasks/<name>/task.toml`` plus JSONL data.

A task set names the toolset it trains, the agent kind, the evaluator, the prompt template
and the train/test data files. Data paths may use ``~`` and environment variables
(``${FNREG_DATA}/math/algebra.test.jsonl``) so that benchmark data can live outside the
repository. See ``tasks/README.md`` for the format.

Sampling (``train_size``/``val_size``/``test_size``) ranks rows by a hash of ``(seed, line
index)``, so samples are the same on every machine and Python version, and growing a size only
adds rows. When splits read the same file, test takes the first ``test_size`` rows of that
order, validation the next ``val_size`` and train the next ``train_size``: they never overlap,
and changing ``train_size`` leaves the test and validation samples alone. A validation split
given only as ``val_size`` (no ``val`` file) is taken from the training file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, get_args

from fnreg import safe_json
from fnreg.agents.config import AgentKind
from fnreg.config import read_toml, validate
from fnreg.errors import TaskSetError, TaskSetNotFound
from fnreg.evaluation.lookup import Evaluator, get_evaluator
from fnreg.evaluation.task_file import TaskFile

__all__ = [
    "AGENTS",
    "Split",
    "Task",
    "TaskSet",
    "format_answer",
    "list_task_sets",
    "load_task_set",
]

Split = Literal["train", "val", "test"]
SPLITS: tuple[str, ...] = get_args(Split)
#: Which split takes its sample first from a file several splits read (test is never disturbed).
_SAMPLE_ORDER: tuple[Split, ...] = ("test", "val", "train")
#: The agent kinds ``agent = ...`` may name (declared by the schema, :data:`~fnreg.agents.config.AgentKind`).
AGENTS: tuple[str, ...] = get_args(AgentKind)
TASKS_DIR = "tasks"
TASK_FILE = "task.toml"
_Row = tuple[int, "Task"]  # (line index in the file, task)
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_]\w*)\}|(?P<plain>[A-Za-z_]\w*))")


def format_answer(value: object) -> str:
    """A gold answer as text: ``12.0`` -> ``"12"``, ``0.5`` -> ``"0.5"``, ``6.72e-05`` -> ``"0.0000672"``."""
    if isinstance(value, bool):
        raise TypeError("a gold answer cannot be a boolean")
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        # repr is the shortest string that round-trips; Decimal writes it out without exponent.
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, (int, str)):
        return str(value)
    raise TypeError(f"a gold answer must be a string or a number, not {type(value).__name__}")


@dataclass(frozen=True)
class Task:
    """One problem: its question, gold answer and the whole data row."""

    id: str
    question: str
    answer: str
    fields: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def render(self, template: str) -> str:
        """Fill ``template``'s ``{placeholders}`` from the row (``{{`` and ``}}`` are literal braces)."""
        values = {**self.fields, "question": self.question}
        try:
            return template.format_map(values)
        except KeyError as exc:
            name = exc.args[0]
            raise TaskSetError(
                f"prompt placeholder {{{name}}} has no value in task {self.id!r}; add a {name!r} field "
                f"to the data rows or remove it from the prompt (write {{{{ }}}} for literal braces)"
            ) from exc
        except (IndexError, ValueError, AttributeError) as exc:
            raise TaskSetError(
                f"prompt is not a valid template ({exc}); write literal braces as {{{{ and }}}}"
            ) from exc


@dataclass(frozen=True)
class TaskSet:
    """A parsed ``task.toml``; the data is read on first use of :meth:`split`."""

    name: str
    toolset: str
    agent: str
    evaluator: str
    prompt: str
    path: Path
    train: str | None
    test: str | None
    train_size: int | None = None
    test_size: int | None = None
    seed: int = 0
    description: str = ""
    #: ``[sandbox] network = true``: learned code may use the network (for web tools); off by default.
    network: bool = False
    #: The validation file (None: none, or the training file when ``val_size`` is set).
    val: str | None = None
    val_size: int | None = None
    #: The agent's system message; None for fnreg's own.
    system_prompt: str | None = None
    #: Model replies per task; None for ``[tool.fnreg] max_turns``.
    max_turns: int | None = None
    # Not init fields, so dataclasses.replace() starts with an empty cache.
    _cache: dict[str, list[Task]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def folder(self) -> Path:
        """The folder holding ``task.toml``."""
        return self.path.parent

    def load_evaluator(self) -> Evaluator:
        """The answer checker this task set names (a custom module may sit in the task folder)."""
        return get_evaluator(self.evaluator, search_path=self.folder)

    @property
    def has_val(self) -> bool:
        """Whether the task set has a validation split (``val = ...`` or ``val_size = N``)."""
        return self.val is not None or self.val_size is not None

    def has_split(self, name: Split) -> bool:
        _check_split(name)
        return self.has_val if name == "val" else self._raw(name) is not None

    def split(self, name: Split) -> list[Task]:
        """The split's tasks, sampled to ``train_size``/``val_size``/``test_size`` (stable for a given seed)."""
        _check_split(name)
        with self._lock:
            if name not in self._cache:
                self._cache[name] = self._load_split(name)
            return list(self._cache[name])

    def data_path(self, split: Split) -> Path:
        """The split's data file, with ``~`` and ``${VARIABLES}`` expanded; it must exist."""
        _check_split(split)
        raw = self._raw(split)
        if raw is None:
            also = " or val_size = <N> (rows of the training file)" if split == "val" else ""
            raise TaskSetError(f'{self._label()}: no {split} split; add {split} = "<file>.jsonl"{also} to {self.path}')
        path = Path(os.path.expanduser(_expand_variables(raw, self._label())))
        path = path if path.is_absolute() else self.folder / path
        if not path.is_file():
            hint = _missing_file_hint(raw, self.path, split)
            raise TaskSetError(f"{self._label()}: data file {raw} not found ({path}); {hint}")
        return path

    def _raw(self, split: Split) -> str | None:
        if split == "val":
            return self.val if self.val is not None else self.train if self.val_size is not None else None
        return self.train if split == "train" else self.test

    def _size(self, split: Split) -> int | None:
        return {"train": self.train_size, "val": self.val_size, "test": self.test_size}[split]

    def _load_split(self, name: Split) -> list[Task]:
        path = self.data_path(name)
        rows = _read_rows(path, name)
        sharing = [split for split in _SAMPLE_ORDER if split == name or self._reads(split, path)]
        size = self._size(name)
        if len(sharing) > 1:
            chosen = self._disjoint_sample(rows, name, sharing, path)
        elif size is None or size >= len(rows):
            chosen = rows
        else:
            chosen = _ranked(rows, self.seed)[:size]
        return [task for _, task in sorted(chosen, key=lambda row: row[0])]  # file order

    def _reads(self, split: Split, path: Path) -> bool:
        if not self.has_split(split):
            return False
        try:
            return self.data_path(split).resolve() == path.resolve()
        except TaskSetError:
            return False

    def _disjoint_sample(self, rows: list[_Row], name: Split, sharing: list[Split], path: Path) -> list[_Row]:
        """``name``'s sample of a file several splits read: test first, then val, then train."""
        sizes: dict[Split, int] = {}
        rest: Split = "test" if "test" in sharing else "train"  # the split that may take what is left
        for split in sharing:
            size = self._size(split)
            if size is None and split != rest:
                others = [s for s in sharing if s != split]
                readers = (
                    f"{split} and {others[0]} both" if len(others) == 1 else f"{split}, {' and '.join(others)} all"
                )
                raise TaskSetError(
                    f"{self._label()}: {readers} read {path.name}; set {split}_size so the {split} sample can be "
                    f"kept apart from the {' and '.join(others)} sample{'s' if len(others) > 1 else ''}"
                )
            if size is not None:
                sizes[split] = size
        if rest not in sizes:
            sizes[rest] = len(rows) - sum(sizes.values())
        if sum(sizes.values()) > len(rows) or min(sizes.values()) <= 0:
            asked = " + ".join(
                f"{split}_size {sizes[split]}"
                for split in ("train", "val", "test")
                if split in sizes and self._size(split) is not None
            )
            raise TaskSetError(
                f"{self._label()}: {asked} leaves too few of the {len(rows)} rows of {path.name} for disjoint "
                f"{' and '.join(s for s in ('train', 'val', 'test') if s in sharing)} samples; lower the sizes"
            )
        ranked = _ranked(rows, self.seed)
        # Test first, then val: changing train_size never changes the test or validation sample.
        start = 0
        for split in _SAMPLE_ORDER:
            if split in sizes:
                if split == name:
                    return ranked[start : start + sizes[split]]
                start += sizes[split]
        raise AssertionError(f"{name} reads {path.name} but was not sampled")

    def _label(self) -> str:
        return _label(self.folder)


def _check_split(name: str) -> None:
    if name not in SPLITS:
        raise TaskSetError(f"unknown split {name!r}; use 'train', 'val' or 'test'")


def _ranked(rows: list[_Row], seed: int) -> list[_Row]:
    # A hash of (seed, line index): stable across machines and Python versions, unlike random.
    return sorted(rows, key=lambda row: hashlib.sha256(f"{seed}:{row[0]}".encode()).digest())


def _expand_variables(raw: str, label: str) -> str:
    def replace(match: re.Match[str]) -> str:
        variable = match["braced"] or match["plain"]
        value = os.environ.get(variable)
        if not value:
            rest = raw[match.end() :].lstrip("/\\") or "the data"
            raise TaskSetError(
                f"{label}: data file {raw} needs {variable}, which is not set; set {variable} to the "
                f"folder holding {rest} (see tasks/README.md)"
            )
        return value

    return _VARIABLE.sub(replace, raw)


def _missing_file_hint(raw: str, toml_path: Path, split: str) -> str:
    match = _VARIABLE.search(raw)
    if match:
        variable = match["braced"] or match["plain"]
        rest = raw[match.end() :].lstrip("/\\")
        return f"set {variable} to the folder holding {rest} (see tasks/README.md)"
    return f"put the file there or change {split} in {toml_path}"


def _read_rows(path: Path, split: Split) -> list[_Row]:
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    with path.open("rb") as lines:
        for index, raw in enumerate(lines):
            line = _decode_line(raw, path, index)
            if not line.strip():
                continue
            task = _parse_row(line, path, index, split)
            if task.id in seen:
                raise TaskSetError(
                    f"{path}:{index + 1}: duplicate id {task.id!r} (also on line {seen[task.id]}); ids must be unique"
                )
            seen[task.id] = index + 1
            rows.append((index, task))
    if not rows:
        raise TaskSetError(f"{path}: no rows; add one JSON object per line with question and answer")
    return rows


def _decode_line(raw: bytes, path: Path, index: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaskSetError(
            f"{path}:{index + 1}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
            "save the file as UTF-8"
        ) from None


def _parse_row(line: str, path: Path, index: int, split: Split) -> Task:
    where = f"{path}:{index + 1}"
    try:
        row = safe_json.loads(line)
    except json.JSONDecodeError as exc:
        raise TaskSetError(
            f"{where}: invalid JSON ({exc.msg} at column {exc.colno}); one JSON object per line"
        ) from None
    except ValueError as exc:  # nested too deeply, a number too long to convert
        raise TaskSetError(f"{where}: unusable JSON ({str(exc).splitlines()[0]}); one JSON object per line") from None
    if not isinstance(row, dict):
        raise TaskSetError(f"{where}: a row must be a JSON object with question and answer, not {type(row).__name__}")
    for key in ("question", "answer"):
        if key not in row:
            raise TaskSetError(f"{where}: row has no {key!r} field; every row needs question and answer")
    if not isinstance(row["question"], str):
        raise TaskSetError(f"{where}: 'question' must be a string")
    try:
        answer = format_answer(row["answer"])
    except TypeError as exc:
        raise TaskSetError(f"{where}: {exc}") from exc
    task_id = str(row["id"]) if row.get("id") is not None else f"{split}-{index}"
    return Task(id=task_id, question=row["question"], answer=answer, fields=row)


# --------------------------------------------------------------------------- task.toml


def load_task_set(spec: str | Path, repo_root: Path) -> TaskSet:
    """Load a task set by name (a folder under ``<repo_root>/tasks/``), folder, or ``task.toml`` path."""
    return _parse_task_file(_find_task_file(spec, repo_root))


def list_task_sets(repo_root: Path) -> list[TaskSet]:
    """Every task set under ``<repo_root>/tasks/``, by name; a broken one raises its error."""
    tasks_dir = Path(repo_root) / TASKS_DIR
    if not tasks_dir.is_dir():
        return []
    files = sorted(tasks_dir.glob(f"*/{TASK_FILE}"))
    return sorted((_parse_task_file(path) for path in files), key=lambda task_set: task_set.name)


def _find_task_file(spec: str | Path, repo_root: Path) -> Path:
    text = str(spec)
    is_name = "/" not in text and os.sep not in text and not text.endswith(".toml")
    if is_name:
        candidate = Path(repo_root) / TASKS_DIR / text / TASK_FILE
        if candidate.is_file():
            return candidate
        if Path(text).is_dir() and (Path(text) / TASK_FILE).is_file():
            return Path(text) / TASK_FILE  # a folder in the working directory
        available = sorted(p.parent.name for p in (Path(repo_root) / TASKS_DIR).glob(f"*/{TASK_FILE}"))
        raise TaskSetNotFound(
            f"unknown task set {text!r}; available: {', '.join(available) or 'none'} "
            f"(folders under {Path(repo_root) / TASKS_DIR} with a {TASK_FILE})"
        )
    path = Path(text).expanduser()
    for candidate in (path, Path(repo_root) / path) if not path.is_absolute() else (path,):
        if candidate.is_dir() and (candidate / TASK_FILE).is_file():
            return candidate / TASK_FILE
        if candidate.is_file():
            return candidate
    raise TaskSetNotFound(
        f"task set {text!r} not found; give a name under tasks/, a folder with a {TASK_FILE}, or its path"
    )


def _parse_task_file(path: Path) -> TaskSet:
    label = f"{_label(path.parent)}/{TASK_FILE}"
    data = read_toml(path, TaskSetError, label)
    spec = validate(TaskFile, data, where=label, error=TaskSetError)
    return TaskSet(
        name=spec.name if spec.name is not None else path.parent.name,
        toolset=spec.toolset,
        agent=spec.agent,
        evaluator=spec.evaluator,
        prompt=spec.prompt,
        path=path.resolve(),
        train=spec.train,
        test=spec.test,
        train_size=spec.train_size,
        test_size=spec.test_size,
        seed=spec.seed,
        description=spec.description,
        network=spec.sandbox.network,
        val=spec.val,
        val_size=spec.val_size,
        system_prompt=spec.system_prompt,
        max_turns=spec.max_turns,
    )


def _label(folder: Path) -> str:
    # "tasks/math-algebra" reads better than an absolute path when the set lives in a repo.
    folder = Path(folder)
    if folder.parent.name == TASKS_DIR:
        return f"{TASKS_DIR}/{folder.name}"
    return str(folder)
