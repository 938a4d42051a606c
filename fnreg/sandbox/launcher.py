"""Start bubblewrap as an unprivileged uid when fnreg runs as root (stdlib only).

Run by :mod:`fnreg.sandbox.jail` as ``python -I -B launcher.py CONFIG`` while fnreg is root.
In a private mount namespace (the host's mounts are untouched) it bind-mounts each directory the
jail needs but the sandbox uid cannot reach (say a Python under a 0700 ``/root``) onto a
world-readable "view" directory, drops to the sandbox uid for good and executes bwrap, which
then builds the jail from those views. The views exist only in this process's mount namespace,
which the jail leaves behind when bwrap pivots into its own root.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000


def mount(libc, source, target, flags) -> None:
    if libc.mount(source, target, None, flags, None) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"mount {source!r} on {target!r}: {os.strerror(number)}")


def main() -> None:
    config = json.loads(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    if config["views"]:
        if libc.unshare(CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
        mount(libc, None, b"/", MS_REC | MS_PRIVATE)
        for source, view in config["views"]:
            mount(libc, os.fsencode(source), os.fsencode(view), MS_BIND | MS_REC)
    os.setgroups([])
    os.setgid(config["gid"])
    os.setuid(config["uid"])
    if os.getuid() != config["uid"] or os.geteuid() != config["uid"]:
        raise PermissionError(f"could not switch to uid {config['uid']}")
    os.execv(config["argv"][0], config["argv"])


if __name__ == "__main__":
    main()
