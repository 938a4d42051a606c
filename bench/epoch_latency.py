"""4. Epoch wall time vs LLM latency: evaluating 100 tasks at concurrency 1, 4, 16 and 64.

Sandbox v2 (a zygote per pool, a forked session per task; the jail where it starts) side by side
with the previous pool (a warm worker subprocess per pool slot, all booted at the start; taken
from git by ``bench/old_pool.py``) in the same run, v2 in process mode at 16 and 64, and the floor:
the same evaluation with no isolation at all (the demo functions called in-process).

A throw-away repository holds a generated demo-like task set (100 unit conversions and
percentages) and a toolset with two learned functions (``convert_units``, ``percent_of``).
The scripted agent (``fnreg.testing.scripted_model``) answers from a loopback ``ChatServer``
with 200 ms of latency injected per completion; each task takes two completions (a tool call,
then the answer) and one sandboxed call. Each concurrency level runs in a fresh subprocess
(``TaskSetAdapter.evaluate``: sandbox start-up, agents, evaluator, the whole evaluation), so
its memory peak is its own; the server lives in the benchmark process and counts the calls.

Ideal: the LLM waits alone. A task's two completions are sequential, so the best schedule of
100 tasks is ``ceil(100 / c) × 2 × latency`` (0.8 s at c = 64, where ``calls × latency / c``
would be 0.625 s, which no schedule of 100 two-turn tasks can reach); the targets are ratios to
the best schedule, and both ratios are shown.

    python -m bench.epoch_latency [--quick]
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common import Context, Row, Section, git, init_repo, ratio, secs, standalone, table
from fnreg.registry import Registry
from fnreg.sandbox import ExecResult
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
        applied = registry.apply({**proposal.arguments, "action": "add_function"}, toolset="latency")
        # As training leaves them: the optimizer keeps each derived schema in .fnreg/.
        registry.keep_derived(applied.module, create=True)
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


class InProcessTools:
    """No isolation at all: the generated demo functions called in the evaluating process.

    Only for this benchmark's own trusted code, to measure the harness's floor (the scripted
    LLM's HTTP round trips, the agents, the evaluator, the threads) on this machine. fnreg itself
    never runs learned code in its own process.
    """

    def __init__(self, root: Path, *, package: str, toolset: str | None, **_: object) -> None:
        self.root, self.package, self.toolset = root, package, toolset
        self.mode, self.network = "none (in-process)", False

    @contextlib.contextmanager
    def session(self) -> Iterator[InProcessTools]:
        yield self

    def call_function(self, name: str, arguments: dict) -> ExecResult:
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))
        function = getattr(importlib.import_module(f"{self.package}.{self.toolset}.{name}"), name)
        started = time.perf_counter()
        try:
            value = function(**arguments)
        except Exception as exc:  # noqa: BLE001 - reported to the agent as the sandbox would
            return ExecResult(False, "", None, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
        text = value if isinstance(value, str) else json.dumps(value)
        return ExecResult(True, "", text, None, time.perf_counter() - started)

    def run_python(self, code: str) -> ExecResult:
        raise RuntimeError("the in-process floor runs only the toolset's functions")

    def __enter__(self) -> InProcessTools:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def worker(repo: str, base_url: str, concurrency: int, kind: str = "jail") -> None:
    """Evaluate the training split once; print wall time, verdicts and memory peaks as JSON.

    ``kind``: "jail" or "process" (sandbox v2), "old" (the previous pool), or "none" (no isolation:
    :class:`InProcessTools`, the floor).
    """
    from fnreg.evaluation import TaskSetAdapter, load_task_set
    from fnreg.llm import LLMClient, LLMSettings

    if kind == "old":
        import fnreg.evaluation.adapter as adapter_module
        from bench.old_pool import old_sandbox_class

        adapter_module.Sandbox = old_sandbox_class()  # type: ignore[misc]
    elif kind == "none":
        import fnreg.evaluation.adapter as adapter_module

        adapter_module.Sandbox = InProcessTools  # type: ignore[misc]

    task_set = load_task_set("latency", Path(repo))
    tasks = task_set.split("train")
    settings = LLMSettings(base_url=base_url, model=MODEL_NAME, concurrency=concurrency, cache_path=None, max_retries=0)
    client = LLMClient(settings)
    adapter = TaskSetAdapter(
        task_set,
        client,
        concurrency=concurrency,
        sandbox_mode=kind if kind in ("jail", "process") else None,
        schema_cache=Registry(repo).derivation_cache(),  # as `fnreg eval` and `fnreg train` read the tools
    )
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
                "sandbox": adapter.sandbox_record.get("mode"),
            }
        )
    )


# ---------------------------------------------------------------------------- the benchmark


def measure(ctx: Context, repo: Path, server: ChatServer, concurrency: int, kind: str, old: Path) -> dict:
    ctx.log(f"epoch latency: concurrency {concurrency}, {kind}")
    before, server.max_in_flight = len(server.requests), 0
    path = os.pathsep.join([str(Path(__file__).resolve().parent.parent), str(old)])
    proc = subprocess.run(
        [sys.executable, "-m", "bench.epoch_latency", "--worker", str(repo), server.base_url, str(concurrency), kind],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONPATH": path},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker at concurrency {concurrency} ({kind}) failed: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(concurrency=concurrency, calls=len(server.requests) - before, in_flight=server.max_in_flight)
    return result


TARGETS = {64: 1.15, 16: 1.1}


def run(ctx: Context) -> Section:
    from bench.old_pool import extract
    from fnreg.sandbox.jail import jail_support

    tasks, latency = ctx.pick((100, 0.2), (8, 0.02))
    levels = ctx.pick([1, 4, 16, 64], [1, 4])
    new_kind = "jail" if jail_support().available else "process"
    repo = make_repo(ctx, tasks)
    old = extract(ctx.scratch("old-pool"))
    plan = [(c, new_kind) for c in levels] + [(c, "old") for c in levels]
    plan += [(c, "process") for c in ctx.pick([16, 64], [4]) if new_kind != "process"]
    plan += [(c, "none") for c in ctx.pick([16, 64], [4])]
    measured: dict[tuple[int, str], dict] = {}
    with ChatServer(policy=scripted_policy, latency=latency, model_names=(MODEL_NAME,)) as server:
        for concurrency, kind in plan:
            result = measure(ctx, repo, server, concurrency, kind, old)
            assert result["tasks"] == tasks, result
            measured[(concurrency, kind)] = result

    def best(m: dict) -> float:  # the best schedule of two-turn tasks
        return -(-tasks // m["concurrency"]) * 2 * latency

    section = Section(TITLE)
    for concurrency in levels:
        new, base = measured[(concurrency, new_kind)], measured[(concurrency, "old")]
        target = TARGETS.get(concurrency)
        ideal = best(new)
        section.rows.append(
            Row(
                f"evaluate {tasks} tasks, {latency * 1000:.0f} ms/completion, concurrency {concurrency}",
                f"{secs(new['wall'])} (v2, {new_kind})",
                f"{secs(base['wall'])} (previous pool); ideal {secs(ideal)}",
                f"{ratio(new['wall'], ideal, 2)} of ideal (previous pool: {ratio(base['wall'], ideal, 2)})",
                f"≤ {target}× ideal" if target else "",
                (new["wall"] <= target * ideal) if target else None,
            )
        )
        floor = measured.get((concurrency, "none"))
        if floor is not None:
            section.rows.append(
                Row(
                    "… the same with no isolation at all (the demo functions called in-process): "
                    "the harness's floor on this machine",
                    secs(floor["wall"]),
                    f"ideal {secs(ideal)}",
                    f"{ratio(floor['wall'], ideal, 2)} of ideal",
                )
            )
    rows = []
    sequential = measured[(levels[0], new_kind)]["wall"]
    names = {"jail": "v2, jail", "process": "v2, process mode", "old": "previous pool", "none": "none (the floor)"}
    for (concurrency, kind), m in sorted(measured.items(), key=lambda item: (item[0][0], item[0][1] != new_kind)):
        naive = m["calls"] * latency / concurrency
        rows.append(
            (
                concurrency,
                names[kind],
                m["calls"],
                m["in_flight"],
                secs(m["wall"]),
                secs(m["startup"]),
                secs(best(m)),
                ratio(m["wall"], best(m), 2),
                ratio(m["wall"], naive, 2),
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
                    "sandbox",
                    "LLM calls",
                    "max in flight",
                    "wall",
                    "of which start-up",
                    "ideal (best schedule)",
                    "wall / ideal",
                    "wall / (calls × latency / c)",
                    "speed-up vs concurrency 1",
                    "correct",
                    "peak RSS, evaluating process",
                    "peak RSS, process + sandbox",
                ],
                rows,
            ),
            "Wall time is `TaskSetAdapter.evaluate` from call to last result, sandbox start-up included (a pool of "
            "min(concurrency, 64) sessions); start-up is the time from the call to the first LLM request: reading "
            "the toolset's tools (through the schemas kept in .fnreg/, as training leaves them), copying the "
            "toolset and starting the pool (v2 starts the jail and its zygote in the background, during the first "
            "LLM turn; the previous pool boots every worker subprocess first). Ideal = the best schedule, "
            f"ceil({tasks} / c) × 2 × latency ({', '.join(f'c={c}: {secs(-(-tasks // c) * 2 * latency)}' for c in levels)}); "
            "`calls × latency / c` is shown too: for c = 64 it is below what any schedule of "
            f"{tasks} two-turn tasks can reach. Memory: the evaluating process's peak RSS (`VmHWM`; a fresh process "
            "per measurement), and the summed RSS of the process and its descendants from /proc, sampled every "
            "0.25 s (the jail's processes are descendants too). "
            "The floor (`none`): the same evaluation with the two demo functions called in the evaluating process, "
            "no isolation at all (`InProcessTools`, this benchmark's own trusted code only): what the scripted "
            "LLM's round trips, the agents, the evaluator and the threads cost on this machine; a sandbox can "
            "only add to it.",
        ]
    )
    return section


if __name__ == "__main__":
    if len(sys.argv) in (5, 6) and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), *sys.argv[5:])
    else:
        standalone(TITLE, run)
