"""Resource limits for one call of learned code (where each is enforced: :mod:`fnreg.sandbox`)."""

from __future__ import annotations

from dataclasses import dataclass, fields

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one call of learned code may use before the sandbox stops it.

    The defaults suit tool calls of an LLM agent: quick computations, small files, no servers.
    """

    cpu_seconds: float = 30.0
    """CPU time of one call (all threads of the worker), counted from what the warm worker
    had used before the call. Exceeding it kills the worker (SIGXCPU); it is replaced."""

    wall_seconds: float = 30.0
    """Wall-clock time of one call, enforced by the parent: the worker's process group is killed
    and the worker replaced. Also covers sleeping or blocked code, which uses no CPU."""

    memory_bytes: int = 2048 * MiB
    """Address space of each worker process (RLIMIT_AS). Allocations beyond it raise MemoryError.
    Counts reserved, not touched, memory: thread stacks and malloc arenas count too."""

    file_size_bytes: int = 64 * MiB
    """Largest file a worker process may write (RLIMIT_FSIZE); writing past it raises
    ``OSError: [Errno 27] File too large``. Captured output is a file too, so this also caps
    what a call may print before the sandbox truncates it."""

    max_processes: int = 64
    """Processes and threads the learned code may add to the worker (RLIMIT_NPROC); a fork
    bomb gets ``BlockingIOError: [Errno 11] Resource temporarily unavailable`` past it."""

    tmp_bytes: int = 256 * MiB
    """Size of each session's private tmpfs /tmp (and /dev/shm) in jail mode; writing past it
    raises ``OSError: [Errno 28] No space left on device``. Its pages count against the
    machine's memory, not against ``memory_bytes``."""

    output_chars: int = 20_000
    """Characters of captured stdout+stderr (and of the returned value) handed back; the rest is
    replaced by a marker ``... [output truncated: N more characters]``."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"Limits.{field.name} must be a positive number, got {value!r}")
        for name in ("memory_bytes", "file_size_bytes", "max_processes", "output_chars", "tmp_bytes"):
            if not isinstance(getattr(self, name), int):
                raise ValueError(f"Limits.{name} must be an integer, got {getattr(self, name)!r}")
