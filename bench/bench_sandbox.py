"""Kept for old links: the sandbox benchmark is now ``python -m bench.sandbox_calls``.

It is figure 2 of ``python -m bench`` (results in ``bench/RESULTS.md``).

    python bench/bench_sandbox.py [--quick]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import standalone  # noqa: E402
from bench.sandbox_calls import TITLE, run  # noqa: E402

if __name__ == "__main__":
    standalone(TITLE, run)
