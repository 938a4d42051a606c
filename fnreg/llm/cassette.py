"""Cassettes: every exchange as one JSONL line, and answering a run from such a file.

A line is ``{"key": sha256, "request": {...}, "response": {...}}``. Replay matches by key, not
by position, so concurrent tasks get the same answers whatever order they ask in; identical
requests get their recorded responses in recorded order (the last one repeats after that).
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from pathlib import Path
from typing import Any

from fnreg import safe_json
from fnreg.errors import ConfigError

from .cache import request_key
from .errors import ReplayMiss

__all__ = ["CassetteRecorder", "CassettePlayer"]


class CassetteRecorder:
    """Appends exchanges to a JSONL file; thread-safe, one ``write`` per line.

    Each line goes out in a single ``os.write`` on an ``O_APPEND`` descriptor, so a killed
    process loses at most the line being written and two processes never interleave lines.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def append(self, key: str, request: dict[str, Any], response: dict[str, Any]) -> None:
        line = (json.dumps({"key": key, "request": request, "response": response}, ensure_ascii=False) + "\n").encode()
        with self._lock:
            if self._fd is None:
                raise RuntimeError(f"cassette {self.path} is closed")
            view = memoryview(line)
            while view:  # regular files take it all at once; loop only for the rare short write
                view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class CassettePlayer:
    """Answers requests from a recorded cassette; never touches the network."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ConfigError(f"replay cassette not found: {self.path}; record one first with --record {self.path}")
        self._responses: dict[str, deque[dict[str, Any]]] = {}
        self._last: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.skipped_lines = 0
        self._load()

    def _load(self) -> None:
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                entry = _parse_line(line)
                if entry is None:
                    # A recording process killed mid-line leaves a torn last line: skip it.
                    self.skipped_lines += bool(line.strip())
                    continue
                key, response = entry
                self._responses.setdefault(key, deque()).append(response)

    def __len__(self) -> int:
        return sum(len(q) for q in self._responses.values())

    def answer(self, key: str, request: dict[str, Any]) -> dict[str, Any]:
        """The next recorded response for ``key``; :class:`ReplayMiss` if it was never recorded."""
        with self._lock:
            queue = self._responses.get(key)
            if queue:
                self._last[key] = queue.popleft()
            if key in self._last:
                return self._last[key]
        raise ReplayMiss(_miss_message(self.path, key, request))


def _parse_line(line: str) -> tuple[str, dict[str, Any]] | None:
    try:
        entry = safe_json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("response"), dict):
        return None
    key = entry.get("key")
    if not isinstance(key, str):
        request = entry.get("request")
        if not isinstance(request, dict):
            return None
        key = request_key(request)  # a hand-written cassette may leave the key out
    return key, entry["response"]


def _miss_message(path: Path, key: str, request: dict[str, Any]) -> str:
    messages = request.get("messages") or [{}]
    last = messages[-1].get("content") if isinstance(messages[-1], dict) else messages[-1]
    if not isinstance(last, str):
        last = json.dumps(last, ensure_ascii=False)
    snippet = " ".join(last.split())
    snippet = snippet if len(snippet) <= 80 else snippet[:77] + "..."
    return (
        f"replay miss: cassette {path} has no response for model={request.get('model')!r}, "
        f"last message {snippet!r} (key {key[:12]}); the prompts, tools or settings changed since "
        f"recording: record again with --record"
    )
