"""A run's report, read entirely from git: the learning curve, a table per epoch, the functions.

Markdown for a pull-request body (with a mermaid chart GitHub draws inline, and the curve as a
PNG file beside it), or a standalone HTML page (``templates/report.html.j2``, jinja2 with
autoescaping: nothing from a run's history reaches the page unescaped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: reports are written on servers and CI runners
import matplotlib.pyplot as plt  # noqa: E402

from fnreg.errors import FnregError  # noqa: E402
from fnreg.llm import Usage  # noqa: E402
from fnreg.registry import Registry  # noqa: E402
from fnreg.registry.history import SCORE, TASKS, percent  # noqa: E402
from fnreg.tables import markdown_table  # noqa: E402
from fnreg.training.notes import read_note  # noqa: E402
from fnreg.training.state import EpochRecord, RunState, load_state  # noqa: E402
from fnreg.training.workspace import Workspace  # noqa: E402

CURVE_FILE = "learning-curve.png"


@dataclass
class EpochRow:
    """One line of the per-epoch table."""

    epoch: int
    commit: str
    score: float
    best_score: float
    decision: str
    tasks: int
    actions: list[str] = field(default_factory=list)
    rejected: int = 0
    usage: Usage = field(default_factory=Usage)


@dataclass
class Report:
    run: str
    toolset: str
    branch: str
    tag: str | None
    rows: list[EpochRow]
    best: EpochRow | None
    test_score: float | None
    test_tasks: int | None
    functions: list[tuple[str, str]]
    #: The commit the run started from.
    start: str | None = None
    commit_url: str | None = None

    @property
    def usage(self) -> Usage:
        return sum((row.usage for row in self.rows), Usage())


def build_report(registry: Registry, run: str) -> Report:
    """Everything a report shows, from the run's branch, trailers, notes and tag."""
    workspace = Workspace.find(registry, run)
    git = registry.git
    state = load_state(git, workspace.branch, workspace.run)
    if not state.epochs:
        raise_no_epochs(run)
    rows = [_row(git, epoch) for epoch in state.epochs]
    best = state.best
    tag = workspace.tag if workspace.tag in git.tags(workspace.tag) else None
    toolset = registry.toolset(workspace.toolset, tag or workspace.branch)
    return Report(
        run=workspace.run,
        toolset=workspace.toolset,
        branch=workspace.branch,
        tag=tag,
        rows=rows,
        best=next((r for r in rows if best is not None and r.epoch == best.epoch), None),
        test_score=_test_score(state),
        test_tasks=int(state.test.trailer(TASKS) or 0) if state.test else None,
        functions=[(f.name, _one_line(f.description)) for f in toolset],
        start=state.start,
        commit_url=_commit_url(git),
    )


def raise_no_epochs(run: str) -> None:
    raise FnregError(f"run {run!r} has no evaluated epoch yet; nothing to report")


def _row(git, epoch: EpochRecord) -> EpochRow:
    note = read_note(git, epoch.commit)
    actions = [f"{a.kind.removesuffix('_function')} `{a.name}`" for a in note.actions] if note else []
    return EpochRow(
        epoch=epoch.epoch,
        commit=epoch.commit,
        score=epoch.score,
        best_score=epoch.best_score,
        decision=epoch.decision,
        tasks=epoch.tasks,
        actions=actions,
        rejected=len(note.rejected) if note else 0,
        usage=note.total_usage if note else Usage(),
    )


def _test_score(state: RunState) -> float | None:
    return float(state.test.trailer(SCORE) or 0) if state.test is not None else None


def _one_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _commit_url(git) -> str | None:
    """``https://github.com/o/r/commit/`` when origin is on GitHub, so the table can link commits."""
    try:
        url = git.run("remote", "get-url", "origin")
    except Exception:
        return None
    match = re.match(r"(?:git@github\.com:|https://github\.com/)([^/]+/[^/]+?)(?:\.git)?$", url.strip())
    return f"https://github.com/{match.group(1)}/commit/" if match else None


# ----------------------------------------------------------------------------- rendering


def plot_curve(report: Report, path: Path) -> Path:
    """The learning curve as a PNG: train accuracy per epoch, roll-backs and best marked."""
    epochs = [r.epoch for r in report.rows]
    scores = [r.score * 100 for r in report.rows]
    best_line = [r.best_score * 100 if r.decision != "improved" else r.score * 100 for r in report.rows]
    figure, axes = plt.subplots(figsize=(7, 3.6), dpi=110)
    axes.plot(epochs, scores, marker="o", color="#1f77b4", label="train accuracy (epoch's functions)")
    axes.step(epochs, best_line, where="post", color="#2ca02c", alpha=0.6, label="best so far")
    rolled = [r for r in report.rows if r.decision in ("rolled_back", "no_change")]
    if rolled:
        axes.scatter(
            [r.epoch for r in rolled],
            [r.score * 100 for r in rolled],
            marker="x",
            s=70,
            color="#d62728",
            zorder=3,
            label="rolled back / no change",
        )
    if report.best is not None:
        axes.scatter(
            [report.best.epoch], [report.best.score * 100], marker="*", s=220, color="#ff7f0e", zorder=4, label="best"
        )
        if report.test_score is not None:
            axes.scatter(
                [report.best.epoch],
                [report.test_score * 100],
                marker="D",
                s=60,
                color="#9467bd",
                zorder=4,
                label="test accuracy (best)",
            )
    axes.set_xlabel("epoch")
    axes.set_ylabel("accuracy (%)")
    axes.set_ylim(-5, 105)
    axes.set_xticks(epochs)
    axes.set_title(f"fnreg run {report.run} ({report.toolset})")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path


def _decision_text(row: EpochRow) -> str:
    return {
        "baseline": "baseline",
        "improved": "**kept** (best)",
        "rolled_back": f"rolled back ({percent(row.score)} ≤ {percent(row.best_score)})",
        "no_change": "no change",
    }.get(row.decision, row.decision)


def _actions_text(row: EpochRow) -> str:
    actions = ", ".join(row.actions) or "—"
    return actions + (f" ({row.rejected} rejected)" if row.rejected else "")


def _commit_ref(report: Report, sha: str) -> str:
    return f"[`{sha[:10]}`]({report.commit_url}{sha})" if report.commit_url else f"`{sha[:10]}`"


def render_markdown(report: Report, image: str | None = CURVE_FILE) -> str:
    best = report.best
    lines = [f"## fnreg training run `{report.run}` — toolset `{report.toolset}`", ""]
    if best is not None:
        summary = f"Best: epoch {best.epoch}, train accuracy **{percent(best.score)}** on {best.tasks} tasks"
        if report.test_score is not None:
            summary += f"; test accuracy **{percent(report.test_score)}** on {report.test_tasks} tasks"
        lines += [summary + ".", ""]
    lines += [
        f"Branch `{report.branch}`"
        + (f", best tag `{report.tag}`" if report.tag else " (not finished: no best tag yet)"),
        f"— {len(report.rows) - 1} epochs, {report.usage.total_tokens:,} tokens, cost {report.usage.cost_text()}.",
        "",
    ]
    lines += _mermaid(report)
    if image:
        lines += [f"![learning curve]({image})", ""]
    lines.append(
        markdown_table(
            ["epoch", "actions", "score", "best", "decision", "tokens", "cost", "commit"],
            [
                (
                    row.epoch,
                    _actions_text(row),
                    percent(row.score),
                    percent(row.best_score),
                    _decision_text(row),
                    f"{row.usage.total_tokens:,}",
                    row.usage.cost_text(),
                    _commit_ref(report, row.commit),
                )
                for row in report.rows
            ],
            "rlrrlrrl",
        )
    )
    lines += ["", f"### Functions at the best epoch ({len(report.functions)})", ""]
    lines += [f"- `{name}` — {description}" for name, description in report.functions] or ["- (none)"]
    target = report.tag or report.branch
    lines += [
        "",
        f"Review: `fnreg diff {(report.start or 'HEAD')[:10]} {target}` (the functions' code), "
        f"`fnreg log --run {report.run}`; per-task conversations: `git notes --ref=fnreg show <epoch commit>`.",
        "",
    ]
    return "\n".join(lines)


def _mermaid(report: Report) -> list[str]:
    epochs = ", ".join(str(r.epoch) for r in report.rows)
    scores = ", ".join(f"{r.score * 100:.1f}" for r in report.rows)
    return [
        "```mermaid",
        "xychart-beta",
        '  title "Train accuracy per epoch (%)"',
        f"  x-axis [{epochs}]",
        '  y-axis "accuracy" 0 --> 100',
        f"  line [{scores}]",
        "```",
        "",
    ]


def render_html(report: Report, image: str = CURVE_FILE) -> str:
    """The report as a standalone page (the template escapes every value)."""
    from jinja2 import Environment, PackageLoader, select_autoescape  # only HTML reports need it

    environment = Environment(
        loader=PackageLoader("fnreg.training", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    best = report.best
    summary = f"Best: epoch {best.epoch}, train accuracy {percent(best.score)}" if best else ""
    if report.test_score is not None:
        summary += f"; test accuracy {percent(report.test_score)}"
    rows = [
        {
            "epoch": r.epoch,
            "actions": ", ".join(r.actions) or "—",
            "score": percent(r.score),
            "best": percent(r.best_score),
            "decision": _decision_text(r).replace("**", ""),
            "tokens": f"{r.usage.total_tokens:,}",
            "cost": r.usage.cost_text(),
            "commit": r.commit[:10],
        }
        for r in report.rows
    ]
    return environment.get_template("report.html.j2").render(report=report, summary=summary, rows=rows, image=image)


def write_report(registry: Registry, run: str, output: Path, fmt: str = "md") -> dict[str, Any]:
    """Write the report and its image under ``output``; returns the paths written."""
    report = build_report(registry, run)
    image = plot_curve(report, output / CURVE_FILE)
    page = output / ("report.md" if fmt == "md" else "report.html")
    page.write_text(render_markdown(report) if fmt == "md" else render_html(report), encoding="utf-8")
    return {"report": page, "image": image, "data": report}
