"""Markdown tables: aligned columns, escaped pipes, one row per item."""

from __future__ import annotations

import pytest

from fnreg.tables import markdown_table


def test_a_table_with_default_alignment() -> None:
    assert markdown_table(["name", "calls", "ms"], [("add", 3, "0.1"), ("mul", 12, "1.5")]) == (
        "| name | calls | ms |\n| --- | ---: | ---: |\n| add | 3 | 0.1 |\n| mul | 12 | 1.5 |"
    )


def test_alignment_and_a_pipe_inside_a_cell() -> None:
    text = markdown_table(["a", "b", "c"], [("x|y", "left", "mid")], "rlc")
    assert text.splitlines()[1:] == ["| ---: | --- | :---: |", "| x\\|y | left | mid |"]


def test_no_rows_is_a_header() -> None:
    assert markdown_table(["only"], []) == "| only |\n| --- |"


@pytest.mark.parametrize(("headers", "rows", "align"), [(["a", "b"], [(1,)], None), (["a", "b"], [], "l")])
def test_a_row_or_an_alignment_of_the_wrong_width_is_refused(headers, rows, align) -> None:
    with pytest.raises(ValueError):
        markdown_table(headers, rows, align)
