"""A report as a document of blocks (headings, paragraphs, tables), and how its values are written.

A report is built once as a list of blocks and rendered by
:func:`sweeplab.analysis.present.render.render`, so the text and Markdown forms always say the
same thing. The ``fmt_*`` helpers and :func:`level_text` give every number and parameter value
one spelling across reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Heading", "Paragraph", "Table", "Block", "fmt_num", "fmt_p", "p_equals", "fmt_change", "fmt_interval",
           "level_text"]


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
    #: the columns that name a row (repeated when text splits a wide table); default: the left ones
    key_columns: int | None = None
    #: this many last columns hold text (notes) and are left-aligned too
    trailing_left: int = 0

    def is_left(self, column: int) -> bool:
        """True when the column is left-aligned (the leading key/text columns and the trailing notes)."""
        return column < self.left_columns or column >= len(self.headers) - self.trailing_left


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


def p_equals(p: float | None, name: str = "p") -> str:
    """``p<0.001`` or ``p=0.0123`` (``name``: ``q`` for an FDR-adjusted value)."""
    text = fmt_p(p)
    return name + (text if text.startswith("<") else "=" + text)


def fmt_change(change: float) -> str:
    """A relative change as a signed percentage; from a zero baseline ``from 0``."""
    if math.isinf(change):
        return "from 0" if change > 0 else "from 0 (down)"
    return f"{change:+.0%}"


def fmt_interval(low: float | None, high: float | None) -> str:
    """``[low, high]``, or ``n/a`` when the interval does not exist (n < 2)."""
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)):
        return "n/a"
    return f"[{fmt_num(low)}, {fmt_num(high)}]"


def level_text(value: Any) -> str:
    """A parameter value as it is shown in tables: ``None`` -> ``null``, floats without noise."""
    # NaN is never a swept value (specs refuse it): a NaN level is a null that pandas turned into NaN.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value) or abs(value) >= 1e16:
            return repr(value)
        return f"{value:.1f}"
    return str(value)
