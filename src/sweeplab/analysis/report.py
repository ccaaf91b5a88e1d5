"""Reports as documents of blocks, rendered as plain text or Markdown.

A report is built once as a list of blocks (headings, paragraphs, tables) and rendered by
:func:`render`, so the text and Markdown forms always say the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .names import level_text, short_name

if TYPE_CHECKING:
    from .analyzer import SweepAnalyzer

__all__ = ["Heading", "Paragraph", "Table", "Block", "render", "fmt_num", "fmt_p", "p_equals", "comparison_table_text",
           "build_summary"]


@dataclass(frozen=True)
class Heading:
    """A section title; ``level`` 1 is the document title."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """Free text; lines are kept as they are."""

    text: str


@dataclass(frozen=True)
class Table:
    """Rows of cells; the first column is left-aligned, the others right-aligned."""

    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    left_columns: int = 1
    notes: list[str] = field(default_factory=list)


Block = Heading | Paragraph | Table


def fmt_num(value: float | int | None) -> str:
    """A number with a precision that suits its size; ``n/a`` for missing or nan."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    magnitude = abs(value)
    if magnitude != 0 and (magnitude >= 1e6 or magnitude < 1e-3):
        return f"{value:.3e}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 10:
        return f"{value:.2f}"
    return f"{value:.4f}"


def fmt_p(p: float | None) -> str:
    """A p-value: ``<0.001`` below a thousandth, three significant digits otherwise."""
    if p is None:
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3g}"


def p_equals(p: float | None) -> str:
    """``p<0.001`` or ``p=0.0123``."""
    text = fmt_p(p)
    return "p" + (text if text.startswith("<") else "=" + text)


def fmt_change(change: float) -> str:
    """A relative change as a signed percentage; from a zero baseline ``from 0``."""
    if math.isinf(change):
        return "from 0" if change > 0 else "from 0 (down)"
    return f"{change:+.0%}"


def _text_table(table: Table) -> list[str]:
    widths = [len(h) for h in table.headers]
    for row in table.rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.ljust(w) if i < table.left_columns else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return " | ".join(parts).rstrip()

    out = [table.caption] if table.caption else []
    out += [line(table.headers), "-" * max(len(line(table.headers)), 20)]
    out += [line(row) for row in table.rows]
    out += table.notes
    return out


def _markdown_table(table: Table) -> list[str]:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|")

    out = [f"*{table.caption}*", ""] if table.caption else []
    out.append("| " + " | ".join(esc(h) for h in table.headers) + " |")
    out.append("|" + "|".join(":---" if i < table.left_columns else "---:" for i in range(len(table.headers))) + "|")
    out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in table.rows]
    if table.notes:
        out += [""] + table.notes
    return out


def render(blocks: Sequence[Block], fmt: str = "text") -> str:
    """Render blocks as ``text`` or ``markdown``."""
    if fmt not in ("text", "markdown"):
        from .exceptions import AnalysisInputError

        raise AnalysisInputError(f"unknown report format {fmt!r}: expected 'text' or 'markdown'")
    lines: list[str] = []
    for block in blocks:
        if lines:
            lines.append("")
        if isinstance(block, Heading):
            if fmt == "markdown":
                lines.append("#" * block.level + " " + block.text)
            else:
                lines += [block.text, ("=" if block.level == 1 else "-") * len(block.text)]
        elif isinstance(block, Paragraph):
            lines.append(block.text)
        else:
            lines += _markdown_table(block) if fmt == "markdown" else _text_table(block)
    return "\n".join(lines) + "\n"


def comparison_table(analyzer: SweepAnalyzer, parameter_name: str, metrics: Sequence[str] | None = None) -> Table:
    """Means of each metric per level of the parameter, with the number of completed trials."""
    path = analyzer.parameter(parameter_name)
    metrics = [analyzer.metric(m) for m in (metrics or analyzer.metrics)]
    effects = [analyzer.parameter_effect(path, m) for m in metrics]
    levels, codes = analyzer.level_codes(path)
    counts = np.bincount(codes, minlength=len(levels))
    rows = []
    for level, count in zip(levels, counts):
        row = [level_text(level), str(int(count))]
        for effect in effects:
            by_level = {s.level: s for s in effect.summaries}
            row.append(fmt_num(by_level[level].mean) if level in by_level else "n/a")
        rows.append(row)
    return Table([short_name(path), "n", *(f"{m}_mean" for m in metrics)], rows)


def comparison_table_text(analyzer: SweepAnalyzer, parameter_name: str, metrics: Sequence[str] | None = None) -> str:
    """:func:`comparison_table` rendered as text, like the original spec's example."""
    return "\n".join(_text_table(comparison_table(analyzer, parameter_name, metrics)))


def build_summary(analyzer: SweepAnalyzer, metric: str | None = None, minimize: bool = True) -> list[Block]:
    """All sections of the summary report."""
    from .summary import summary_blocks

    return summary_blocks(analyzer, metric=metric, minimize=minimize)


def describe_any(value: Any) -> str:
    """A parameter value for prose."""
    return level_text(value)
