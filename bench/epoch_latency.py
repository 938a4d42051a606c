"""4. Epoch wall time vs LLM latency: evaluating 100 tasks at concurrency 1, 4, 16 and 64.

A throw-away repository holds a generated demo-like task set (100 unit conversions and
percentages) and a toolset with two learned functions (``convert_units``, ``percent_of``).
The scripted agent (``fnreg.testing.scripted_model``) answers from a loopback ``ChatServer``
with 200 ms of latency injected per completion; each task takes two completions (a tool call,
then the answer) and one sandboxed call. Each concurrency level runs in a fresh subprocess
(``TaskSetAdapter.evaluate``: sandbox start-up, agents, evaluator, the whole evaluation), so
its memory peak is its own; the server lives in the benchmark process and counts the calls.

The baseline is the ideal ``calls × latency / concurrency``: what the LLM waits alone cost.

    python -m bench.epoch_latency [--quick]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import Context, Row, Section, git, init_repo, ratio, secs, standalone, table
from fnreg.registry import Registry
from fnreg.testing.scripted_model import MODEL_NAME, scripted_policy
from fnreg.testing.scripted_optimizer import ADD_PERCENT, REVISE_V2
from fnreg.testing.server import ChatServer

TITLE = "Epoch wall time vs LLM latency"
TASK_TOML = """name = "latency"
description = "Generated for bench/epoch_latency.py: unit conversions and percentages"
toolset = "latency"
agent = "tools"
evaluator = "numeric"
train = "train.jsonl"
test = "test.jsonl"
prompt = '''
Solve the problem. Give the final answer as a number in \\\\boxed{{}}.

{question}'''
"""


def task_rows(count: int) -> list[dict]:
    """Deterministic demo-like questions with exact answers."""
    rows = []
    for i in range(count):
        value = round(1.5 + 0.75 * i, 2)
        kind = i % 3
        if kind == 0:
            question, answer = f"Convert {value} miles to kilometres.", value * 1.609344
        elif kind == 1:
            question, answer = f"Convert {value} pounds to kilograms.", value * 0.45359237
        else:
            percent = 5 + i % 40
            question, answer = f"What is {percent}% of {value}?", percent / 100 * value
        rows.append({"id": f"t{i:03d}", "question": question, "answer": answer})
    return rows


def make_repo(ctx: Context, tasks: int) -> Path:
    repo = init_repo(ctx.scratch("latency-repo"))
    folder = repo / "tasks" / "latency"
    folder.mkdir(parents=True)
    (folder / "task.toml").write_text(TASK_TOML)
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in task_rows(tasks)))
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in task_rows(3)))
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "task set")
    registry = Registry(repo)
    for proposal in (REVISE_V2, ADD_PERCENT):  # convert_units (both units) and percent_of
        registry.apply({**proposal.arguments, "action": "add_function"}, toolset="latency")
    return repo


# ---------------------------------------------------------------------------- the measured process


def _tree_rss_kib(root_pid: int) -> int:
    """RSS of a process and all its descendants, from /proc (0 where /proc is missing)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid and child not in tree]
        tree.update(children)
        frontier += children
    return sum(rss.get(pid, 0) for pid in tree)


def peak_rss_kib() -> int:
    """This process's peak RSS: VmHWM, else getrusage.

    Not ``ru_maxrss`` first: on Linux it keeps the high-water mark of the memory a process had
    before ``exec``, and a subprocess started with vfork/fork from the benchmark process (grown by
    the earlier benchmarks) would report the benchmark's peak instead of its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(repo: str, base_url: str, concurrency: int) -> None:
    """Evaluate the training split once; print wall time, verdicts and memory peaks as JSON."""
    from fnreg.evaluation import TaskSetAdapter, load_task_set
    from fnreg.llm import LLMClient, LLMSettings

    task_set = load_task_set("latency", Path(repo))
    tasks = task_set.split("train")
    settings = LLMSettings(base_url=base_url, model=MODEL_NAME, concurrency=concurrency, cache_path=None, max_retries=0)
    client = LLMClient(settings)
    adapter = TaskSetAdapter(task_set, client, concurrency=concurrency)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            peak[0] = max(peak[0], _tree_rss_kib(os.getpid()))

    first_request: list[float] = []
    complete = client.complete

    def timed_complete(*args, **kwargs):  # notes when the first task reaches the LLM
        if not first_request:
            first_request.append(time.perf_counter())
        return complete(*args, **kwargs)

    client.complete = timed_complete  # type: ignore[method-assign]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    results = list(adapter.evaluate(Path(repo), tasks))
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    client.close()
    print(
        json.dumps(
            {
                "wall": wall,
                "startup": first_request[0] - started if first_request else 0.0,
                "tasks": len(results),
                "correct": sum(r.correct for r in results),
                "self_peak_kib": peak_rss_kib(),
                "tree_peak_kib": peak[0],
            }
        )
    )


# ---------------------------------------------------------------------------- the benchmark


def run(ctx: Context) -> Section:
    tasks, latency = ctx.pick((100, 0.2), (8, 0.02))
    levels = ctx.pick([1, 4, 16, 64], [1, 4])
    repo = make_repo(ctx, tasks)
    measured = []
    with ChatServer(policy=scripted_policy, latency=latency, model_names=(MODEL_NAME,)) as server:
        for concurrency in levels:
            ctx.log(f"epoch latency: {tasks} tasks, concurrency {concurrency}")
            before, server.max_in_flight = len(server.requests), 0
            proc = subprocess.run(
                [sys.executable, "-m", "bench.epoch_latency", "--worker", str(repo), server.base_url, str(concurrency)],
                capture_output=True,
                text=True,
                timeout=600,
                cwd=Path(__file__).resolve().parent.parent,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"worker at concurrency {concurrency} failed: {proc.stderr[-2000:]}")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            result.update(concurrency=concurrency, calls=len(server.requests) - before, in_flight=server.max_in_flight)
            assert result["tasks"] == tasks, result
            measured.append(result)

    sequential = measured[0]["wall"]
    section = Section(TITLE)
    rows = []
    for m in measured:
        ideal = m["calls"] * latency / m["concurrency"]
        m["ideal"] = ideal
        target = m["concurrency"] == 16
        section.rows.append(
            Row(
                f"evaluate {tasks} tasks, {latency * 1000:.0f} ms/completion, concurrency {m['concurrency']}",
                secs(m["wall"]),
                f"{secs(ideal)} (ideal: {m['calls']} calls × {latency:g} s / {m['concurrency']})",
                ratio(m["wall"], ideal, 2) + " of ideal",
                "≤ 1.3× ideal" if target else "",
                (m["wall"] <= 1.3 * ideal) if target else None,
            )
        )
        rows.append(
            (
                m["concurrency"],
                m["calls"],
                m["in_flight"],
                secs(m["wall"]),
                secs(m["startup"]),
                secs(ideal),
                ratio(m["wall"], ideal, 2),
                ratio(m["wall"] - m["startup"], ideal, 2),
                ratio(sequential, m["wall"], 1),
                f"{m['correct']}/{m['tasks']}",
                f"{m['self_peak_kib'] / 1024:,.0f} MiB",
                f"{m['tree_peak_kib'] / 1024:,.0f} MiB",
            )
        )
    section.details = "\n\n".join(
        [
            table(
                [
                    "concurrency",
                    "LLM calls",
                    "max in flight",
                    "wall",
                    "of which start-up",
                    "ideal",
                    "wall / ideal",
                    "(wall − start-up) / ideal",
                    "speed-up vs concurrency 1",
                    "correct",
                    "peak RSS, evaluating process",
                    "peak RSS, process + workers",
                ],
                rows,
            ),
            "Wall time is `TaskSetAdapter.evaluate` from call to last result, sandbox start-up included "
            "(a pool of min(concurrency, 64) warm workers); start-up is the time from the call to the first "
            "LLM request: copying the toolset and starting every worker of the pool before the first task. Ideal = calls × latency / concurrency; a task's two "
            f"completions are sequential, so with {tasks} tasks the best schedule is ceil(100 / c) × 2 × latency "
            f"({', '.join(f'c={c}: {secs(-(-tasks // c) * 2 * latency)}' for c in levels)}). Memory: "
            "the evaluating process's peak RSS (`VmHWM` of /proc/self/status, what `getrusage` "
            "`ru_maxrss` reports for a process started from a small parent; a fresh process per level, server and "
            "sandbox workers excluded), and the summed RSS of the process and its descendants from /proc, sampled every 0.25 s.",
        ]
    )
    return section


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        standalone(TITLE, run)
