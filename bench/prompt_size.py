"""1. Optimizer prompt size vs training-set size: fnreg's request vs the reference AG2 AgentOptimizer's.

For 20, 200 and 2,000 recorded MATH-style conversations (``tests/optimizer/synthetic.py``:
python tool calls, outputs from one line to 20k-character dumps and tracebacks, ~40% failed),
both optimizers take their first step (no functions yet) against one loopback ``ChatServer``
that answers TERMINATE, and the request bodies *the server received* are counted with
``fnreg.llm.count_message_tokens`` (messages + tools, one encoding for both):

- fnreg: ``AgentOptimizer.step`` on a throw-away repository (prompt budget 96,000 tokens);
- reference: ``ag2[openai]==0.11.5`` in its own venv (``bench/ag2_venv.py``), driven by
  ``bench/ag2_driver.py`` in a subprocess: ``record_one_conversation`` per conversation, then
  ``step()``. If the install fails, the verbatim estimate (fnreg's request with every history
  pasted as ``str()`` of the messages, as the reference does) stands in, labelled as such.

    python -m bench.prompt_size [--quick]
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import ag2_venv
from bench.common import BENCH_DIR, Context, Row, Section, init_repo, ratio, secs, standalone, table
from fnreg.llm import LLMClient, LLMSettings, count_message_tokens
from fnreg.llm.tokens import encoder_name
from fnreg.optimizer import ACTION_TOOLS, AgentOptimizer, Experience, OptimizerInputs
from fnreg.registry import Registry
from fnreg.testing.server import ChatServer
from fnreg.training.launch import DEFAULT_PROMPT_BUDGET
from tests.optimizer.synthetic import math_histories

TITLE = "Optimizer prompt size vs training-set size"
MODEL = "gpt-4-1106-preview"  # the reference's default optimizer model; both requests use it
CONTEXT_WINDOW = 128_000  # gpt-4-1106-preview's


def tokens(body: dict[str, Any]) -> int:
    return count_message_tokens(body["messages"], body.get("tools"), MODEL)


def fnreg_request(ctx: Context, server: ChatServer, histories: list[Experience]) -> dict[str, Any]:
    """fnreg's first optimizer step on these conversations: the request the server received."""
    repo = init_repo(ctx.scratch("prompt-repo"))
    client = LLMClient(LLMSettings(base_url=server.base_url, model=MODEL, cache_path=None, max_retries=0))
    optimizer = AgentOptimizer(client, prompt_budget=DEFAULT_PROMPT_BUDGET)
    score = sum(h.satisfied for h in histories) / len(histories)
    inputs = OptimizerInputs(best_sources={}, best_score=score, histories=histories)
    started = time.perf_counter()
    built = optimizer.build_messages(inputs, {}, 0)
    build_seconds = time.perf_counter() - started
    before = len(server.requests)
    result = optimizer.step(Registry(repo), "math", inputs)
    client.close()
    sent = server.requests[before:]
    assert result.terminated and len(sent) == 1, f"expected one request, the server saw {len(sent)}"
    assert sent[0]["messages"] == built, "the request sent differs from build_messages()"
    body = sent[0]
    return {
        "tokens": tokens(body),
        "shown": body["messages"][1]["content"].count("### Conversation #"),
        "build_seconds": build_seconds,
    }


def ag2_request(ctx: Context, python: Path, server: ChatServer, histories: list[Experience]) -> dict[str, Any]:
    """The reference's first step on the same conversations, run in its venv: what the server received."""
    data = ctx.tmp / f"conversations-{len(histories)}.json"
    data.write_text(json.dumps([{"messages": h.messages, "satisfied": h.satisfied} for h in histories]))
    before = len(server.requests)
    proc = subprocess.run(
        [str(python), str(BENCH_DIR / "ag2_driver.py"), str(data), server.base_url, "--max-actions", "3"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ctx.scratch("ag2-cwd"),  # anything the reference writes stays in the scratch space
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ag2_driver failed: {proc.stderr[-2000:]}")
    sent = server.requests[before:]
    # TERMINATE is a valid "no action": the reference asks once per action slot, the same prompt but
    # for "after {k} actions"; the first request is the one to compare with fnreg's.
    assert len(sent) == 3, f"expected 3 requests from the reference, the server saw {len(sent)}"
    return {"tokens": tokens(sent[0]), "requests": len(sent)}


def verbatim_estimate(ctx: Context, histories: list[Experience]) -> int:
    """Fallback without ag2: fnreg's request with every history pasted as the reference pastes it."""
    client = LLMClient(LLMSettings(base_url="http://127.0.0.1:9/v1", model=MODEL, cache_path=None))
    messages = AgentOptimizer(client, prompt_budget=DEFAULT_PROMPT_BUDGET).build_messages(
        OptimizerInputs({}, 0.5, histories), {}, 0
    )
    user = messages[1]["content"]
    start, end = user.index("## Conversations with List A"), user.index("## Your action")
    pasted = [{f"Conversation {i}": h.messages} for i, h in enumerate(histories)]
    stats = "\n".join(str({f"Conversation {i}": int(h.satisfied)}) for i, h in enumerate(histories))
    section = f"Here are {len(histories)} conversation histories.\nHistory:\n{pasted}\n\n{stats}\n\n"
    estimate = [messages[0], {"role": "user", "content": user[:start] + section + user[end:]}]
    return count_message_tokens(estimate, ACTION_TOOLS, MODEL)


def run(ctx: Context) -> Section:
    sizes = ctx.pick([20, 200, 2_000], [5])
    python, how = ag2_venv.ensure(ctx)
    count_message_tokens([{"role": "user", "content": "warm-up"}], None, MODEL)  # load the encoding untimed
    measured = []
    with ChatServer(policy=lambda body: "TERMINATE") as server:
        for size in sizes:
            ctx.log(f"prompt size: {size} conversations")
            histories = math_histories(size)
            mine = fnreg_request(ctx, server, histories)
            if python is not None:
                theirs = ag2_request(ctx, python, server, histories)["tokens"]
            else:
                theirs = verbatim_estimate(ctx, histories)
            measured.append((size, mine, theirs))

    baseline = "AG2 0.11.5 AgentOptimizer" if python else "verbatim estimate (ag2 install failed)"
    section = Section(TITLE)
    for size, mine, theirs in measured:
        section.rows.append(
            Row(
                measured=f"optimizer request tokens, {size:,} conversations",
                fnreg=f"{mine['tokens']:,} ({mine['shown']} shown)",
                baseline=f"{theirs:,} ({baseline})",
                ratio=ratio(theirs, mine["tokens"]) + " smaller",
                target=f"fnreg ≤ budget {DEFAULT_PROMPT_BUDGET:,}",
                met=mine["tokens"] <= DEFAULT_PROMPT_BUDGET,
            )
        )
    rows = [
        (
            f"{size:,}",
            f"{mine['tokens']:,}",
            mine["shown"],
            secs(mine["build_seconds"]),
            f"{theirs:,}",
            f"{theirs / size:,.0f}",
            ratio(theirs, mine["tokens"]),
            "yes" if theirs > CONTEXT_WINDOW else "no",
        )
        for size, mine, theirs in measured
    ]
    reference = (
        f"The reference ran for real: {how}; its requests were captured by the loopback server."
        if python
        else f"**The reference could not be installed ({how}); its column is the verbatim estimate, not a measurement.**"
    )
    section.details = "\n\n".join(
        [
            table(
                [
                    "conversations",
                    "fnreg tokens",
                    "shown",
                    "fnreg build",
                    f"{'AG2' if python else 'estimate'} tokens",
                    "per conversation",
                    "ratio",
                    f"> {CONTEXT_WINDOW // 1000}k window",
                ],
                rows,
            ),
            f"Tokens: `count_message_tokens` (messages + tools) with encoding `{encoder_name(MODEL)}` for model "
            f"`{MODEL}`, on the bodies the server received. Both optimizers take their first step (no functions "
            f"yet); the reference sends the same prompt once per action slot (3 requests), the first is counted. "
            f"fnreg's budget is {DEFAULT_PROMPT_BUDGET:,} tokens (fnreg shows failed tasks first and truncates long "
            f"tool output); the reference pastes every history verbatim, so its size grows linearly "
            f"(constant tokens per conversation). {reference}",
        ]
    )
    return section


if __name__ == "__main__":
    standalone(TITLE, run)
