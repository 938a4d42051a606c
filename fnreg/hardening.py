"""Defence in depth for fnreg's own process (which holds API keys), on Linux.

``make_undumpable`` sets ``PR_SET_DUMPABLE`` to 0: no other process of the same uid can then read
this process's environment, memory or descriptors through /proc or attach a debugger (ptrace),
and no core dump is written. Called by the CLI at start and by every sandbox at start-up, so it
also holds for a notebook that only creates a ``Sandbox``. A debugger or profiler (py-spy) then
needs root.
"""

from __future__ import annotations

import sys
from functools import lru_cache

PR_SET_DUMPABLE = 4


@lru_cache(maxsize=1)
def make_undumpable() -> bool:
    """Make this process non-dumpable; True if it is now (False off Linux or if refused)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    except (ImportError, OSError, AttributeError):
        return False


def is_dumpable() -> bool | None:
    """Whether this process is dumpable (None off Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return bool(ctypes.CDLL(None, use_errno=True).prctl(3, 0, 0, 0, 0))  # PR_GET_DUMPABLE
    except (ImportError, OSError, AttributeError):
        return None
