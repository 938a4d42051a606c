"""Markdown tables: the one helper for every table fnreg writes (reports, benchmark results)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

_MARKS = {"l": "---", "r": "---:", "c": ":---:"}


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str | None = None) -> str:
    """A GitHub Markdown table.

    ``align``: one letter per column, ``l``, ``r`` or ``c`` (default: the first column left, the
    others right, as for figures). A ``|`` inside a cell is escaped so it cannot split the row.
    """
    align = align or "l" + "r" * (len(headers) - 1)
    if len(align) != len(headers):
        raise ValueError(f"{len(headers)} columns but {len(align)} alignments")
    lines = [_row(headers), "| " + " | ".join(_MARKS[a] for a in align) + " |"]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"a row has {len(row)} cells for {len(headers)} columns: {row!r}")
        lines.append(_row(row))
    return "\n".join(lines)


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"
