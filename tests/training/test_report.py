"""The report of a run renders from git alone, with a real image file."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import pytest

from fnreg.errors import FnregError
from fnreg.registry import Registry
from fnreg.training.report import build_report, write_report
from tests.conftest import git
from tests.training.conftest import fnreg
from tests.training.test_engine import train
from fnreg.training import TrainConfig


@pytest.fixture
def trained(user_repo: Path, server) -> Path:
    train(user_repo, server, TrainConfig(epochs=10, patience=2, test=True))
    return user_repo


def test_markdown_report_and_png(trained: Path, tmp_path: Path):
    written = write_report(Registry(trained), "r1", tmp_path / "out")
    text = written["report"].read_text()
    assert (
        "Best: epoch 2, train accuracy **100.0%** on 8 tasks; test accuracy **100.0%** [61.0%, 100.0%] on 6 tasks "
        "(95% Wilson interval)." in text
    )
    assert "Protocol `fnreg`: ties rollback, patience 2; keep or roll back decided by the training score." in text
    assert "![learning curve](learning-curve.png)" in text and "xychart-beta" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [row.split("|")[1].strip() for row in rows] == ["0", "1", "2", "3", "4"]
    assert "| epoch | actions | train | best before | decision |" in text  # best *before* the epoch
    assert "add `convert_units`, add `mean_of`" in rows[1] and "**kept**: new best" in rows[1]
    assert "| 37.5% | — | baseline: the starting functions |" in rows[0]
    assert "rolled back (75.0% < 100.0%)" in rows[3] and "rolled back (100.0% = 100.0%)" in rows[4]
    assert "- `convert_units` — Convert a quantity between units" in text
    # Every action appears with the optimizer's reason, the rolled-back ones marked.
    assert "### Actions and the optimizer's reasons" in text
    assert "- epoch 3: revise `convert_units` (rolled back)" in text
    image = written["image"]
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(image)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 400


def test_pull_request_body_has_no_relative_image_and_ends_with_the_test_review(trained: Path, tmp_path: Path):
    written = write_report(Registry(trained), "r1", tmp_path / "out", task="demo")
    body = written["pull_request"].read_text()
    assert "![" not in body and "learning-curve.png" not in body  # a relative image is broken on GitHub
    assert "xychart-beta" in body
    review = body[body.index("Test split: starting functions → best") :]
    assert "(test split, 6 tasks)" in review.splitlines()[0]
    assert "| base `starting functions`" in review and "| head `epoch 2`" in review
    assert "### Tasks that flipped:" in review and "added `convert_units`" in review
    assert "fnreg review demo --base" in review  # and how to review it locally
    # The report, the tag message and the run's summary agree on the tokens spent.
    report = written["data"]
    tag_message = git(trained, "tag", "-l", "--format=%(contents)", "fnreg/demo/r1/best")
    assert f"{report.usage.total_tokens:,} tokens" in body
    assert f"usage: {report.usage.total_tokens:,} tokens" in tag_message


def test_html_report_via_cli(trained: Path, tmp_path: Path):
    result = fnreg(trained, "report", "r1", "--format", "html", "--output", str(tmp_path / "html"))
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "html" / "report.html").read_text()
    assert page.startswith("<!doctype html>") and '<img src="learning-curve.png"' in page
    assert (tmp_path / "html" / "learning-curve.png").stat().st_size > 1000


def test_report_data(trained: Path):
    report = build_report(Registry(trained), "fnreg/demo/r1")
    assert [r.decision for r in report.rows] == ["baseline", "improved", "improved", "rolled_back", "rolled_back"]
    assert report.best.epoch == 2 and report.tag == "fnreg/demo/r1/best"
    assert report.usage.calls > 0


def test_unknown_run(user_repo: Path):
    with pytest.raises(FnregError, match="no run 'nope'"):
        build_report(Registry(user_repo), "nope")


def test_html_escapes_what_the_history_says():
    from fnreg.training.report import EpochRow, Report, render_html

    row = EpochRow(0, "a" * 40, 0.5, 0.5, "baseline", 2, actions=["add `x<y>`"])
    report = Report(
        run="r<1>",
        toolset="math",
        branch="fnreg/math/r",
        tag=None,
        rows=[row],
        best=row,
        test_score=None,
        test_tasks=None,
        functions=[("evil", "<script>alert(1)</script> & more")],
    )
    page = render_html(report, image='curve.png" onerror="x')
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "fnreg run <code>r&lt;1&gt;</code>" in page and 'src="curve.png&#34; onerror=&#34;x"' in page
    assert "<td>add `x&lt;y&gt;`</td>" in page and "Best: epoch 0, train accuracy 50.0%." in page
