"""Run learned (LLM-written, untrusted) code in warm worker subprocesses.

Learned functions and the agent's Python interpreter never run in fnreg's own process::

    with Sandbox(worktree, toolset="math", limits=Limits(wall_seconds=10)) as sandbox:
        with sandbox.session() as session:          # one task
            session.call_function("evaluate_expression", {"expression": "2**10"}).as_tool_output()
            session.run_python("x = 3\\nx * 2").value   # '6'; x persists until the session ends

What is enforced, and where
---------------------------
Parent (``pool.py``, ``process.py``):

- Wall clock per call: the worker's whole process group is SIGKILLed at ``wall_seconds``; the
  call gets ``TimeoutError: ...; the worker was restarted`` and the next call a fresh worker.
- Crashes (segfault, ``os._exit``, SIGXCPU) and hangs are reported the same way. Every wait is
  bounded, and a worker that does not answer is replaced, so the pool cannot deadlock.
- Environment: only ``env_allow`` (default PATH, LANG, LC_ALL, LC_CTYPE, TZ) passes, minus any
  name that looks like a secret (``*KEY*``, ``*TOKEN*``, ``*SECRET*``, ``AWS_*``, ``OPENAI*``...),
  even when the allowlist is widened by mistake. HOME and TMPDIR point at the worker's own
  temporary working directory, which is emptied after every session.

Worker (``worker.py``, started as ``python -I -B worker.py``: isolated mode, no bytecode):

- When fnreg runs as root (as on CI), each pool slot borrows an otherwise unused uid/gid
  (40000-59999, not in passwd or group, leased with a lock file) and the worker drops to it,
  with no supplementary groups and ``PR_SET_NO_NEW_PRIVS``, before it reads a request. So:
  RLIMIT_NPROC applies (it never does to root) and counts only this worker's processes; the
  worker cannot write root-owned files (``/etc``, the checkout, fnreg's files) nor read private
  ones (``/root``, mode-600 files); and ``kill(-1)`` ends everything it started, also processes
  that escaped its process group. The checkout (``root``) must be readable by others and its
  parents searchable, else ``SandboxError`` says what to chmod. The interpreter's import path
  is opened before the drop, so a Python installed under a 0700 ``/root`` (pyenv) still works.
- rlimits set once at start (hard limits, so learned code cannot raise them): RLIMIT_AS
  (``memory_bytes``), RLIMIT_FSIZE (``file_size_bytes``), RLIMIT_NPROC (``max_processes`` on top
  of what the uid runs already), RLIMIT_CORE = 0. RLIMIT_CPU is set per call to the CPU already
  used plus ``cpu_seconds``.
- Output: fds 1 and 2 go to a capture file (so C-level writes and child processes are
  captured too), stdin is /dev/null; replies travel on private duplicates of the original pipes,
  so printing cannot forge one. Output and values are cut at ``output_chars`` with a marker.
- Learned code is always compiled from source: ``-B`` writes no ``__pycache__`` and a custom
  loader never reads one under ``root`` (a same-second, same-size rewrite is never stale).
- After each session: notebook globals, learned modules, environment, cwd and working-directory
  files are reset, and every process the session started is killed and reaped (with a
  dedicated uid by ``kill(-1)``, else through /proc on Linux). A worker left with stray
  threads, changed limits or signal handlers, or anything it could not clean is replaced.

Not enforced (document, don't rely on)
---------------------------------------
- No filesystem jail: the worker may read anything world-readable and write anything
  world-writable (``/tmp``, ``/dev/shm``; with a dedicated uid, what it leaves directly in
  /tmp, /var/tmp and /dev/shm is removed after each session). Writing elsewhere is stopped only
  by file permissions, and only when fnreg runs as root. Run as an ordinary user, workers have that user's rights:
  they can write the user's files, ``max_processes`` counts on top of the user's processes,
  and a process that learned code moved to a new session outlives a worker killed mid-call.
- No network isolation.
- The per-call CPU limit is a soft one (a hard limit could never be raised again for the next
  call): learned code that ignores SIGXCPU escapes it for the rest of its session. The wall
  clock still applies, and the next session gets a fresh worker.
- macOS and other non-Linux systems: RLIMIT_AS and RLIMIT_NPROC may be ignored or refused
  (``Sandbox.unenforced`` lists what the OS refused, and a warning is logged); ``prctl`` and
  the /proc-based clean-up are Linux-only.
- When the interpreter lives where the sandbox uid cannot reach (pyenv under /root), the worker
  reaches its import path through descriptors opened while privileged. Learned code can then
  also read the world-readable files of the parent directories up to the unreachable one (all
  of ``/root/.pyenv``; a project's whole repository if its ``.venv`` is under /root: keep
  secrets out of such a repository or install Python where others can read it). It also
  cannot start new Python processes with ``sys.executable``; fork-based multiprocessing works.
- Where init does not reap orphans (some containers), processes of a worker killed mid-call
  may remain as zombies; after a normal session the worker reaps them itself.
- Changes learned code makes to third-party modules it imported (monkeypatching) last as long
  as the warm worker.
"""

from fnreg.sandbox.limits import Limits
from fnreg.sandbox.pool import DEFAULT_ENV_ALLOW, ExecResult, Sandbox, Session

__all__ = ["DEFAULT_ENV_ALLOW", "ExecResult", "Limits", "Sandbox", "Session"]
