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

from fnreg.errors import FnregError
from fnreg.evaluation.review import Review, render_review
from fnreg.evaluation.stats import Interval, wilson_interval
from fnreg.llm import Usage
from fnreg.registry import Registry
from fnreg.registry.history import SCORE, TASKS, percent, training_record
from fnreg.tables import markdown_table
from fnreg.training.notes import EpochNote, read_note
from fnreg.training.state import EpochRecord, RunState, load_state
from fnreg.training.workspace import Workspace

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
    #: The optimizer's stated reason for each action, in order (empty when it gave none).
    reasons: list[str] = field(default_factory=list)
    rejected: int = 0
    usage: Usage = field(default_factory=Usage)
    #: How learned code was isolated in this epoch's evaluation: {"mode": ..., "network": ...}.
    sandbox: dict[str, Any] = field(default_factory=dict)
    #: The validation score and the best's it was compared with (a task set with a validation split).
    val_score: float | None = None
    best_val_score: float | None = None
    decided_by: str = "train"


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
    #: With a test split: the starting functions against the best on it (None if the best is the start).
    test_review: Review | None = None
    test_usage: Usage = field(default_factory=Usage)
    #: The run's settings, from its baseline note (empty for runs of older fnreg versions).
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def has_val(self) -> bool:
        return any(row.val_score is not None for row in self.rows)

    @property
    def test_interval(self) -> Interval | None:
        """The test accuracy with its 95% Wilson interval."""
        if self.test_score is None or not self.test_tasks:
            return None
        return wilson_interval(round(self.test_score * self.test_tasks), self.test_tasks)

    @property
    def usage(self) -> Usage:
        """The whole run's: every epoch and the test evaluation (the tag and the summary say the same)."""
        return sum((row.usage for row in self.rows), self.test_usage)

    @property
    def sandbox_text(self) -> str | None:
        """How learned code ran, e.g. ``jail, no network``; says so when any epoch had network."""
        modes = sorted({row.sandbox["mode"] for row in self.rows if row.sandbox.get("mode")})
        if not modes:
            return None
        network = [row.epoch for row in self.rows if row.sandbox.get("network")]
        where = "with network access ([sandbox] network = true in task.toml)" if network else "no network"
        return f"{' and '.join(modes)}, {where}"


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
    test_note = read_note(git, state.test.sha) if state.test else None
    baseline_note = read_note(git, state.epochs[0].commit)
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
        test_review=_test_review(registry, workspace, state, test_note),
        test_usage=test_note.total_usage if test_note else Usage(),
        settings=dict(baseline_note.settings) if baseline_note else {},
    )


def _test_review(registry: Registry, workspace: Workspace, state: RunState, note: EpochNote | None) -> Review | None:
    """The starting functions against the best ones on the test split, from the test commit's note."""
    if note is None or note.start_results is None or state.start is None or state.best is None:
        return None
    start, best = note.start_results, note.results
    return Review(
        task_set=note.task_set or workspace.toolset,
        toolset=workspace.toolset,
        split="test",
        base_ref="starting functions",
        head_ref=f"epoch {state.best.epoch}",
        base=start,
        head=best,
        changes=registry.diff(state.start, state.best.commit, workspace.toolset)[workspace.toolset],
        base_commit=state.start,
        head_commit=state.best.commit,
        records=_records(registry, state.best.commit),
    )


def _records(registry: Registry, commit: str) -> dict[str, str]:
    found = registry.git.log([commit], max_count=1)
    record = training_record(found[0]) if found else None
    return {"head": record} if record else {}


def raise_no_epochs(run: str) -> None:
    raise FnregError(f"run {run!r} has no evaluated epoch yet; nothing to report")


def _row(git, epoch: EpochRecord) -> EpochRow:
    note = read_note(git, epoch.commit)
    noted = note.actions if note else ()
    actions = [f"{a.kind.removesuffix('_function')} `{a.name}`" for a in noted]
    reasons = [(a.reason or "").strip() for a in noted]
    return EpochRow(
        epoch=epoch.epoch,
        commit=epoch.commit,
        score=epoch.score,
        best_score=epoch.best_score,
        decision=epoch.decision,
        tasks=epoch.tasks,
        actions=actions,
        reasons=reasons,
        rejected=len(note.rejected) if note else 0,
        usage=note.total_usage if note else Usage(),
        sandbox=dict(note.results.meta.get("sandbox") or {}) if note else {},
        val_score=epoch.val_score,
        best_val_score=epoch.best_val_score,
        decided_by=epoch.decided_by,
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
    import matplotlib  # a third of a second to import: only when a curve is drawn

    matplotlib.use("Agg")  # no display: reports are written on servers and CI runners
    import matplotlib.pyplot as plt

    epochs = [r.epoch for r in report.rows]
    scores = [r.score * 100 for r in report.rows]
    best_line = [r.best_score * 100 if r.decision not in ("improved", "kept") else r.score * 100 for r in report.rows]
    figure, axes = plt.subplots(figsize=(7, 3.6), dpi=110)
    axes.plot(epochs, scores, marker="o", color="#1f77b4", label="train accuracy (epoch's functions)")
    if report.has_val:
        axes.plot(
            epochs,
            [(r.val_score or 0) * 100 for r in report.rows],
            marker="s",
            color="#8c564b",
            label="validation accuracy (decides)",
        )
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


def _deciding(row: EpochRow) -> tuple[float, float, str]:
    """(score, best score, split) that decided the row: validation when it did, else train."""
    if row.decided_by == "val" and row.val_score is not None and row.best_val_score is not None:
        return row.val_score, row.best_val_score, "val "
    return row.score, row.best_score, ""


def _decision_text(row: EpochRow) -> str:
    score, best, split = _deciding(row)
    relation = "<" if round(score, 6) < round(best, 6) else "="
    return {
        "baseline": "baseline: the starting functions",
        "improved": "**kept**: new best",
        "kept": f"**kept** without improving ({split}{percent(score)} {relation} {percent(best)})",
        "rolled_back": f"rolled back ({split}{percent(score)} {relation} {percent(best)})",
        "no_change": "no actions: nothing to evaluate",
    }.get(row.decision, row.decision)


def _actions_text(row: EpochRow) -> str:
    actions = ", ".join(row.actions) or ("—" if row.decision == "baseline" else "none")
    return actions + (f" ({row.rejected} rejected)" if row.rejected else "")


def _best_before(row: EpochRow) -> str:
    if row.decision == "baseline":
        return "—"
    if row.best_val_score is not None:
        return f"{percent(row.best_score)} / val {percent(row.best_val_score)}"
    return percent(row.best_score)


def _settings_text(settings: dict[str, Any]) -> str | None:
    """``protocol paper: ties keep, batch rule paper, ...; decided by val``, from the baseline note."""
    if not settings:
        return None
    parts = [f"ties {settings.get('ties', 'rollback')}"]
    if settings.get("batch_size"):
        parts.append(f"batches of {settings['batch_size']} ({settings.get('batch_rule', 'paired')} rule)")
    parts.append(f"patience {settings.get('patience')}" if settings.get("early_stop", True) else "no early stop")
    if not settings.get("rollback", True):
        parts.append("no roll-back")
    if settings.get("update") == "one_shot":
        parts.append("one-shot update")
    if settings.get("show_answers"):
        parts.append("answers shown to the optimizer")
    if settings.get("clip") == "over_budget":
        parts.append("cut only over budget")
    decided = "the validation split" if settings.get("decided_by") == "val" else "the training score"
    return (
        f"Protocol `{settings.get('protocol', 'fnreg')}`: {', '.join(parts)}; keep or roll back decided by {decided}."
    )


def _commit_ref(report: Report, sha: str) -> str:
    return f"[`{sha[:10]}`]({report.commit_url}{sha})" if report.commit_url else f"`{sha[:10]}`"


def render_markdown(report: Report, image: str | None = CURVE_FILE, task: str | None = None) -> str:
    """The report as Markdown; ``image=None`` for a pull-request body (a relative image would break there)."""
    best = report.best
    lines = [f"## fnreg training run `{report.run}` — toolset `{report.toolset}`", ""]
    if best is not None:
        summary = f"Best: epoch {best.epoch}, train accuracy **{percent(best.score)}** on {_tasks(best.tasks)}"
        if best.val_score is not None:
            summary += f", validation accuracy **{percent(best.val_score)}**"
        interval = report.test_interval
        if interval is not None:
            summary += (
                f"; test accuracy **{percent(interval.value)}** [{percent(interval.low)}, {percent(interval.high)}] "
                f"on {_tasks(report.test_tasks)} (95% Wilson interval)"
            )
        lines += [summary + ".", ""]
    settings = _settings_text(report.settings)
    if settings:
        lines += [settings, ""]
    epochs = len(report.rows) - 1
    lines += [
        f"Branch `{report.branch}`"
        + (f", best tag `{report.tag}`" if report.tag else " (not finished: no best tag yet)")
        + f" — {epochs} epoch{'s' if epochs != 1 else ''}, {report.usage.total_tokens:,} tokens, "
        f"cost {report.usage.cost_text()}.",
        "",
    ]
    if report.sandbox_text:
        lines += [f"Learned code ran in the sandbox: {report.sandbox_text}.", ""]
    lines += _mermaid(report)
    if image:
        lines += [f"![learning curve]({image})", ""]
    headers = ["epoch", "actions", "train", *(["val"] if report.has_val else []), "best before", "decision"]
    lines.append(
        markdown_table(
            [*headers, "tokens", "cost", "commit"],
            [
                (
                    row.epoch,
                    _actions_text(row),
                    percent(row.score),
                    *([percent(row.val_score) if row.val_score is not None else "—"] if report.has_val else []),
                    _best_before(row),
                    _decision_text(row),
                    f"{row.usage.total_tokens:,}",
                    row.usage.cost_text(),
                    _commit_ref(report, row.commit),
                )
                for row in report.rows
            ],
            "rlr" + ("r" if report.has_val else "") + "rlrrl",
        )
    )
    lines += ["", *_reasons(report)]
    lines += [f"### Functions at the best epoch ({len(report.functions)})", ""]
    lines += [f"- `{name}` — {description}" for name, description in report.functions] or ["- (none)"]
    lines.append("")
    if report.test_review is not None:
        lines += [render_review(report.test_review, title="Test split: starting functions → best", heading="###")]
    lines += _review_commands(report, task)
    return "\n".join(lines)


def _reasons(report: Report) -> list[str]:
    """Every action with the optimizer's reason for it (kept or rolled back)."""
    lines = []
    for row in report.rows:
        for action, reason in zip(row.actions, row.reasons):
            kept = "" if row.decision in ("improved", "kept") else " (rolled back)"
            lines.append(f"- epoch {row.epoch}: {action}{kept}" + (f" — {_one_line(reason)}" if reason else ""))
    return (["### Actions and the optimizer's reasons", "", *lines, ""]) if lines else []


def _review_commands(report: Report, task: str | None) -> list[str]:
    target = report.tag or report.branch
    start = (report.start or "HEAD")[:10]
    lines = [
        "### Review locally",
        "",
        "```bash",
        f"git fetch origin {report.branch} 'refs/notes/*:refs/notes/*' && git checkout {report.branch}",
        f"fnreg diff {start} {target}              # the functions' code",
        f"fnreg log --run {report.run}            # the training history",
    ]
    if task:
        lines.append(f"fnreg review {task} --base {start} --head {target}   # both on the test split")
    lines += ["git notes --ref=fnreg show <epoch commit>   # every task's conversation in that epoch", "```", ""]
    return lines


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
    from jinja2 import (  # only HTML reports need it
        Environment,
        PackageLoader,
        select_autoescape,
    )

    environment = Environment(
        loader=PackageLoader("fnreg.training", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    best = report.best
    summary = f"Best: epoch {best.epoch}, train accuracy {percent(best.score)}" if best else ""
    if best is not None and best.val_score is not None:
        summary += f", validation accuracy {percent(best.val_score)}"
    if report.test_score is not None:
        summary += f"; test accuracy {percent(report.test_score)}"
    rows = [
        {
            "epoch": r.epoch,
            "actions": _actions_text(r),
            "score": percent(r.score),
            "val": percent(r.val_score) if r.val_score is not None else "—",
            "best": _best_before(r),
            "decision": _decision_text(r).replace("**", ""),
            "tokens": f"{r.usage.total_tokens:,}",
            "cost": r.usage.cost_text(),
            "commit": r.commit[:10],
        }
        for r in report.rows
    ]
    return environment.get_template("report.html.j2").render(report=report, summary=summary, rows=rows, image=image)


PULL_REQUEST_FILE = "pull-request.md"


def write_report(
    registry: Registry, run: str, output: Path, fmt: str = "md", task: str | None = None
) -> dict[str, Any]:
    """Write the report, its image and a pull-request body under ``output``; returns the paths written."""
    report = build_report(registry, run)
    image = plot_curve(report, output / CURVE_FILE)
    page = output / ("report.md" if fmt == "md" else "report.html")
    page.write_text(render_markdown(report, task=task) if fmt == "md" else render_html(report), encoding="utf-8")
    body = output / PULL_REQUEST_FILE
    body.write_text(render_markdown(report, image=None, task=task), encoding="utf-8")
    return {"report": page, "image": image, "pull_request": body, "data": report}


def _tasks(count: object) -> str:
    return f"{count} task{'' if str(count) == '1' else 's'}"
