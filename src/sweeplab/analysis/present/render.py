"""Render a report's blocks as plain text that fits a width, or as Markdown.

>>> print(render([Heading("Title", 1), Paragraph("Hello.")]), end="")
Title
=====
<BLANKLINE>
Hello.

Text output never has a line longer than ``width`` columns (default :data:`DEFAULT_WIDTH`):
paragraphs are wrapped, tables are drawn by rich (which wraps long cells, folding dot paths
that have no spaces) and a table with more columns than fit is split into several tables
that repeat its key columns. Markdown keeps every table whole: its readers scroll or wrap.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

from ..exceptions import AnalysisInputError
from .document import Block, Heading, Paragraph, Table

__all__ = ["DEFAULT_WIDTH", "MIN_WIDTH", "render", "text_table", "markdown_table", "column_chunks"]

#: the widest line text output has (a report written to a file, or a wide terminal)
DEFAULT_WIDTH = 120
#: narrower than this the tables cannot be read; the width is raised to it
MIN_WIDTH = 60
#: " | " between two columns
_SEPARATOR = 3


def _natural_widths(table: Table) -> list[int]:
    widths = [len(h) for h in table.headers]
    for row in table.rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    return widths


def column_chunks(table: Table, width: int) -> list[list[int]]:
    """Column indices of the tables ``table`` is split into so that each fits ``width``.

    The key (left-aligned) columns open every chunk; the other columns are packed in order.
    A table that fits is one chunk. Text cells (with spaces, so rich can wrap them) count as at
    most a quarter of the width: rich wraps them to fit; key columns keep their width.
    """
    widths = _natural_widths(table)
    for i, header in enumerate(table.headers):
        if i >= _key_count(table) and any(" " in row[i] and len(row[i]) > 20 for row in table.rows):
            widths[i] = min(widths[i], max(20, width // 4))
    keys = list(range(min(table.left_columns, len(widths))))
    if sum(widths) + _SEPARATOR * (len(widths) - 1) <= width or len(keys) == len(widths):
        return [list(range(len(widths)))]
    key_width = sum(widths[i] + _SEPARATOR for i in keys)
    chunks: list[list[int]] = []
    current: list[int] = []
    used = key_width
    for i in range(len(keys), len(widths)):
        need = widths[i] + _SEPARATOR
        if current and used + need > width:
            chunks.append(keys + current)
            current, used = [], key_width
        current.append(i)
        used += need
    chunks.append(keys + current)
    return chunks


#: rich's box parts (top, head, head rule, cells, row rule, foot rule, foot, bottom): columns apart
#: by " | ", a rule of dashes under the header, as the seed's tables were drawn
_BOX_LINES = "+--+\n| ||\n|--|\n| ||\n|--|\n|--|\n| ||\n+--+\n"


def _rich_lines(table: Table, columns: list[int], width: int) -> list[str]:
    from rich.box import Box
    from rich.console import Console
    from rich.table import Table as RichTable

    drawn = RichTable(box=Box(_BOX_LINES, ascii=True), show_edge=False, pad_edge=False, expand=False)
    keys = _key_count(table)
    key_total = sum(_natural_widths(table)[:keys]) + _SEPARATOR * keys
    for i in columns:
        left = table.is_left(i)
        # Key columns keep their width when they take at most half the line (text_table draws the
        # table as records otherwise); other text wraps, and words longer than the column (dot
        # paths) are folded.
        drawn.add_column(table.headers[i], justify="left" if left else "right", overflow="fold",
                         no_wrap=i < keys and key_total <= width // 2)
    for row in table.rows:
        drawn.add_row(*(row[i] for i in columns))
    console = Console(width=width, file=io.StringIO(), color_system=None, force_terminal=False,
                      force_jupyter=False, highlight=False, markup=False, emoji=False, soft_wrap=False)
    console.print(drawn)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return [line.rstrip() for line in text.splitlines()]


def _wrap(text: str, width: int) -> list[str]:
    """Wrap each line of ``text``; continuation lines of an indented or bulleted line keep its indent."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        stripped = line.lstrip(" ")
        indent = " " * (len(line) - len(stripped) + (2 if stripped.startswith(("- ", "* ")) else 0))
        out += textwrap.wrap(line, width=width, subsequent_indent=indent, break_on_hyphens=False,
                             break_long_words=True, drop_whitespace=True) or [""]
    return out


def _list_lines(table: Table, width: int) -> list[str]:
    """Rows as records: the key cells on one line, then ``header: value`` pairs, indented."""
    keys = _key_count(table)
    out: list[str] = []
    for row in table.rows:
        if keys == 1:
            title = row[0]
        else:
            title = ", ".join(f"{h}={c}" for h, c in zip(table.headers[:keys], row[:keys]))
        out += _wrap(title, width)
        pairs = "; ".join(f"{h}: {c}" for h, c in zip(table.headers[keys:], row[keys:]))
        if pairs:
            out += _wrap("  " + pairs, width)
    return out


def _key_count(table: Table) -> int:
    keys = table.key_columns if table.key_columns is not None else table.left_columns
    return max(1, min(keys, len(table.headers)))


def text_table(table: Table, width: int = DEFAULT_WIDTH) -> list[str]:
    """The table's lines as plain text no wider than ``width`` (caption, header, rule, rows, notes).

    A table that fits is drawn whole; one whose key columns fit in half the width is drawn in
    parts that repeat them (rich wraps text cells); otherwise each row is written as a record
    (its key, then ``header: value`` pairs), which keeps long names whole.
    """
    widths = _natural_widths(table)
    keys = _key_count(table)
    fits = sum(widths) + _SEPARATOR * (len(widths) - 1) <= width
    if not fits and sum(widths[:keys]) + _SEPARATOR * (keys - 1) > width // 2:
        out = _wrap(table.caption, width) if table.caption else []
        out += _list_lines(table, width)
        for note in table.notes:
            out += _wrap(note, width)
        return out
    chunks = column_chunks(table, width)
    out = []
    for n, columns in enumerate(chunks, 1):
        if n > 1:
            out.append("")
        caption = table.caption
        if len(chunks) > 1:
            caption = f"{caption} (part {n} of {len(chunks)})" if caption else f"(part {n} of {len(chunks)})"
        if caption:
            out += _wrap(caption, width)
        out += _rich_lines(table, columns, width)
    for note in table.notes:
        out += _wrap(note, width)
    return out


def markdown_table(table: Table) -> list[str]:
    """The table's lines as a Markdown pipe table (with its caption in italics and its notes)."""
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|")

    out = [f"*{table.caption}*", ""] if table.caption else []
    out.append("| " + " | ".join(esc(h) for h in table.headers) + " |")
    out.append("|" + "|".join(":---" if table.is_left(i) else "---:" for i in range(len(table.headers))) + "|")
    out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in table.rows]
    if table.notes:
        out += [""] + table.notes
    return out


def render(blocks: Sequence[Block], fmt: str = "text", width: int = DEFAULT_WIDTH) -> str:
    """Render blocks as ``text`` (no line wider than ``width``) or ``markdown``."""
    if fmt not in ("text", "markdown"):
        raise AnalysisInputError(f"unknown report format {fmt!r}: expected 'text' or 'markdown'")
    if isinstance(width, bool) or not isinstance(width, int):
        raise AnalysisInputError(f"width must be a whole number of columns, got {width!r}")
    width = max(width, MIN_WIDTH)
    lines: list[str] = []
    for block in blocks:
        if lines:
            lines.append("")
        if isinstance(block, Heading):
            if fmt == "markdown":
                lines.append("#" * block.level + " " + block.text)
            else:
                title = _wrap(block.text, width)
                lines += [*title, ("=" if block.level == 1 else "-") * max(len(t) for t in title)]
        elif isinstance(block, Paragraph):
            lines += [block.text] if fmt == "markdown" else _wrap(block.text, width)
        else:
            lines += markdown_table(block) if fmt == "markdown" else text_table(block, width)
    return "\n".join(lines) + "\n"
