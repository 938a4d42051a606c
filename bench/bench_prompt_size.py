"""Kept for old links: the prompt-size benchmark is now ``python -m bench.prompt_size``.

It is figure 1 of ``python -m bench`` (results in ``bench/RESULTS.md``) and measures the
reference AG2 AgentOptimizer's real requests instead of estimating them.

    python bench/bench_prompt_size.py [--quick]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import standalone  # noqa: E402
from bench.prompt_size import TITLE, run  # noqa: E402

if __name__ == "__main__":
    standalone(TITLE, run)
