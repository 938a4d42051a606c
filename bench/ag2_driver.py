"""Drive the reference AG2 ``AgentOptimizer`` for one step; run with the ag2 venv's Python.

    bench/.venv-ag2/bin/python bench/ag2_driver.py CONVERSATIONS.json BASE_URL [--max-actions 3]

CONVERSATIONS.json is a list of ``{"messages": [...], "satisfied": bool}``. Every conversation
is recorded with ``record_one_conversation`` and ``step()`` is called once; the server at
BASE_URL sees the reference's real requests. Run it in a scratch folder: anything ag2 writes
lands in the working directory. Prints one JSON line: what ``step()`` returned.
This file imports only the standard library and ``autogen``: never fnreg.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

MODEL = "gpt-4-1106-preview"  # the reference's default optimizer_model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conversations")
    parser.add_argument("base_url")
    parser.add_argument("--max-actions", type=int, default=3)
    args = parser.parse_args()
    with open(args.conversations, encoding="utf-8") as handle:
        conversations = json.load(handle)

    from autogen.agentchat.contrib.agent_optimizer import AgentOptimizer

    llm_config = {"config_list": [{"model": MODEL, "base_url": args.base_url, "api_key": "x"}], "cache_seed": None}
    optimizer = AgentOptimizer(max_actions_per_step=args.max_actions, llm_config=llm_config, optimizer_model=MODEL)
    for conversation in conversations:
        optimizer.record_one_conversation(conversation["messages"], is_satisfied=conversation["satisfied"])
    started = time.perf_counter()
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # the reference prints as it validates; keep stdout for our JSON
    try:
        register_for_llm, register_for_executor = optimizer.step()
    finally:
        sys.stdout = real_stdout
    print(
        json.dumps(
            {
                "recorded": len(conversations),
                "step_seconds": time.perf_counter() - started,
                "register_for_llm": register_for_llm,
                "functions": sorted(register_for_executor),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
