"""Render a report's blocks as plain text or Markdown.

>>> print(render([Heading("Title", 1), Paragraph("Hello.")]), end="")
Title
=====
<BLANKLINE>
Hello.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..exceptions import AnalysisInputError
from .document import Block, Heading, Paragraph, Table

__all__ = ["render", "text_table", "markdown_table"]


def text_table(table: Table) -> list[str]:
    """The table's lines as aligned plain text (caption, header, rule, rows, notes)."""
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


def markdown_table(table: Table) -> list[str]:
    """The table's lines as a Markdown pipe table (with its caption in italics and its notes)."""
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
            lines += markdown_table(block) if fmt == "markdown" else text_table(block)
    return "\n".join(lines) + "\n"
