"""The text of ``sweeplab list``: sweep ids are never cut; the other columns wrap instead.

A sweep id is what one types next (``sweeplab status ID``), so it is printed whole whatever the
width. When the ids and the counts fit the width, one line per sweep (the description folded
into the space left, continued on indented lines); when they do not, the id has a line of its own
and the rest follows on an indented line.
"""

from __future__ import annotations

import textwrap
from typing import Any

__all__ = ["render_list"]

_COLUMNS = ("state", "completed", "failed", "total")
_GAP = "  "
_INDENT = "    "
#: below this many characters a description gets lines of its own
_MIN_DESCRIPTION = 16


def _cells(record: dict[str, Any]) -> list[str]:
    total = record.get("total")
    completed = str(record.get("completed", 0))
    if record.get("no_metrics"):
        completed += f" ({record['no_metrics']} no metrics)"
    return [str(record.get("state", "")), completed, str(record.get("failed", 0)), "?" if total is None else str(total)]


def render_list(records: list[dict[str, Any]], width: int) -> list[str]:
    """The lines of the listing of ``records`` (``_list_record`` dicts) for a screen ``width`` wide.

    >>> render_list([{"sweep_id": "s1", "state": "completed", "completed": 2, "failed": 0, "total": 2,
    ...               "description": ""}], 80)
    ['sweep  state      completed  failed  total  description', 's1     completed  2          0       2']
    """
    width = max(20, width)
    rows = [(str(r["sweep_id"]), _cells(r), str(r.get("description") or "")) for r in records]
    id_width = max(len("sweep"), *(len(row[0]) for row in rows))
    widths = [max(len(name), *(len(row[1][i]) for row in rows)) for i, name in enumerate(_COLUMNS)]
    fixed = id_width + sum(len(_GAP) + w for w in widths)
    lines: list[str] = []
    if fixed <= width:  # one line per sweep
        room = width - fixed - len(_GAP)
        header = ["sweep".ljust(id_width), *(name.ljust(w) for name, w in zip(_COLUMNS, widths))]
        lines.append(_GAP.join(header + ["description"]).rstrip() if room >= len("description") else
                     _GAP.join(header).rstrip())
        for sweep_id, cells, description in rows:
            line = _GAP.join([sweep_id.ljust(id_width), *(c.ljust(w) for c, w in zip(cells, widths))])
            if description and room >= _MIN_DESCRIPTION:
                parts = textwrap.wrap(description, room) or [""]
                lines.append((line + _GAP + parts[0]).rstrip())
                lines.extend(" " * (fixed + len(_GAP)) + part for part in parts[1:])
            else:
                lines.append(line.rstrip())
                if description:
                    lines.extend(textwrap.wrap(description, width - len(_INDENT), initial_indent=_INDENT,
                                               subsequent_indent=_INDENT))
        return lines
    for sweep_id, cells, description in rows:  # the ids alone are wide: each on its own line
        lines.append(sweep_id)
        details = ", ".join(f"{name} {cell}" for name, cell in zip(_COLUMNS, cells))
        lines.extend(textwrap.wrap(details, width - len(_INDENT), initial_indent=_INDENT, subsequent_indent=_INDENT))
        if description:
            lines.extend(textwrap.wrap(description, width - len(_INDENT), initial_indent=_INDENT,
                                       subsequent_indent=_INDENT))
    return lines
