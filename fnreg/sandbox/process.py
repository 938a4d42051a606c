"""What fnreg hands its sandbox processes: their environment, and borrowed uids when fnreg is root."""

from __future__ import annotations

import fcntl
import grp
import os
import pwd
import random
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from fnreg.errors import SandboxError

DEFAULT_ENV_ALLOW: tuple[str, ...] = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
# Never handed to learned code, even if someone widens the allowlist by mistake.
SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE"
    r"|^(AWS|AZURE|GCP|GOOGLE|OPENAI|ANTHROPIC|HF|HUGGING|GITHUB|GH|GITLAB|NPM|PYPI|TWINE"
    r"|DOCKER|SSH|GPG|KUBE|VAULT)",
    re.IGNORECASE,
)

UID_RANGE = range(40_000, 60_000)  # inside the 65536 ids a rootless container usually maps
UID_LOCK_DIR = Path("/tmp/fnreg-sandbox-uids")


def drops_privileges() -> bool:
    """Whether workers run as a dedicated unprivileged uid (fnreg runs as root)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def worker_env(allow: Sequence[str], work: Path) -> dict[str, str]:
    """The environment of a worker: allowlisted, secrets removed, home and temp in ``work``."""
    env = {name: os.environ[name] for name in allow if name in os.environ and not SECRET_NAME.search(name)}
    env.setdefault("PATH", os.defpath)
    for name in ("HOME", "TMPDIR", "TEMP", "TMP"):
        env[name] = str(work)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # for Python processes learned code starts
    # One thread per numeric library: workers run side by side, and each thread counts
    # towards max_processes and (through its stack and malloc arena) memory_bytes.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    env["MALLOC_ARENA_MAX"] = "2"
    return env


class UidLease:
    """Exclusive use of an otherwise unused uid (and gid) for the workers of one pool slot.

    A dedicated uid makes RLIMIT_NPROC count only this worker's processes, lets ``kill(-1)``
    end everything the worker started, and keeps workers from signalling each other.
    The lease is a lock file held with flock, so concurrent fnreg processes never share a uid.
    """

    def __init__(self) -> None:
        UID_LOCK_DIR.mkdir(mode=0o755, exist_ok=True)
        info = os.lstat(UID_LOCK_DIR)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0:
            raise SandboxError(f"{UID_LOCK_DIR} is not a directory owned by root; remove it")
        rng = random.SystemRandom()
        for _ in range(200):
            uid = rng.choice(UID_RANGE)
            if not known_id(uid) and self._lock(uid):
                self.uid = self.gid = uid
                self.dirty = False  # a worker was killed and may have left processes behind
                return
        raise SandboxError(f"no free uid for the sandbox in {UID_RANGE.start}-{UID_RANGE.stop - 1}")

    def _lock(self, uid: int) -> bool:
        fd = os.open(UID_LOCK_DIR / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        os.close(self._fd)


def known_id(uid: int) -> bool:
    """Whether ``uid`` is a user or group the system knows (such an id is never borrowed)."""
    for lookup in (pwd.getpwuid, grp.getgrgid):
        try:
            lookup(uid)
            return True
        except KeyError:
            pass
    return False
