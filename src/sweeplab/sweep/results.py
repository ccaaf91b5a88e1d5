"""What a sweep run from Python gives back: one :class:`SweepResult` per trial, in a :class:`SweepResults` list.

Every result carries the trial's parameters, ``metrics`` (the finite numbers it reported),
``extra`` (its other reported values: text, flags, ``"nan"``), its ``seed`` and ``replicate``.
The trials of the lab's phenomenology runner are :class:`LabSweepResult`, which adds the lab's
counters (``total_cycles``, ``total_crashes``, ``total_messages``); other runners have no such
fields. In a notebook a :class:`SweepResults` shows itself as a table, and
:meth:`SweepResults.to_dataframe` gives the typed pandas frame.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..journal.views import TrialRow, trials_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LAB_COUNTERS", "LAB_RUNNERS", "LabSweepResult", "SweepResult", "SweepResults", "result_of"]

#: runners whose trials report the lab's counters (named here, never imported: a plug-in)
LAB_RUNNERS = frozenset({"phenomenology"})
#: the lab's counters a :class:`LabSweepResult` adds, 0 when the trial did not report them
LAB_COUNTERS = ("total_cycles", "total_crashes", "total_messages")
#: rows a notebook table shows before it skips to the last few
HTML_ROWS = 20


@dataclass
class SweepResult:
    """One trial's outcome.

    ``status`` is the trial's state (completed, failed, timeout, crashed, cancelled, running);
    ``no_metrics`` marks a completed trial that reported nothing. ``replicate`` counts the
    replicates of a grid point from 0 and ``label`` is its name when the spec gives one. Times
    are UTC ISO 8601 text, ``duration`` seconds.
    """

    experiment_id: str
    parameters: dict[str, Any]
    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    replicate: int = 0
    label: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    duration: float | None = None
    attempts: int = 0
    error_message: str | None = None
    db_path: str = ""

    @property
    def no_metrics(self) -> bool:
        """True for a completed trial that reported no value at all."""
        return self.status == "completed" and not self.metrics and not self.extra

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)


@dataclass
class LabSweepResult(SweepResult):
    """A trial of the lab's phenomenology runner: a :class:`SweepResult` plus the lab's counters."""

    total_cycles: int = 0
    total_crashes: int = 0
    total_messages: int = 0


def result_of(row: TrialRow, db_path: str, *, lab: bool) -> SweepResult:
    """The :class:`SweepResult` (or, for the lab's runner, :class:`LabSweepResult`) of one journal row."""
    fields: dict[str, Any] = {
        "experiment_id": row.experiment_id, "parameters": row.parameters, "status": row.status,
        "metrics": row.metrics, "extra": row.extra, "seed": row.seed, "replicate": row.replicate,
        "label": row.label, "start_time": row.start_time, "end_time": row.end_time, "duration": row.duration,
        "attempts": row.attempts, "error_message": row.error_message, "db_path": db_path}
    if not lab:
        return SweepResult(**fields)
    counters = {name: row.metrics.get(name, 0) for name in LAB_COUNTERS}
    return LabSweepResult(**fields, **counters)


class SweepResults(list[SweepResult]):
    """The results of a sweep's trials, in plan order: a list, plus a table in notebooks and a DataFrame.

    ``parameters`` is the sweep's parameter order (the columns of the table and of the frame).
    """

    def __init__(self, results: Iterable[SweepResult] = (), *, sweep_id: str = "", parameters: Iterable[str] = (),
                 total: int | None = None, rows: Iterable[TrialRow] = ()) -> None:
        super().__init__(results)
        self.sweep_id = sweep_id
        self.parameters = list(parameters)
        self.total = len(self) if total is None else total
        self._rows = list(rows)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per trial: typed parameter columns in sweep order, metrics, seed, replicate, UTC times.

        See :func:`sweeplab.journal.views.trials_frame` for the columns.
        """
        return trials_frame(self._rows, self.parameters)

    @property
    def status_counts(self) -> dict[str, int]:
        """Trials per status (``no metrics`` counted apart from ``completed``)."""
        counts: dict[str, int] = {}
        for result in self:
            status = "no metrics" if result.no_metrics else result.status
            counts[status] = counts.get(status, 0) + 1
        return counts

    def _repr_html_(self) -> str:
        """A table of the trials for Jupyter: id, status, parameters, metrics, duration (long lists cut)."""
        escape = html.escape
        metrics: dict[str, None] = {}
        for result in self:
            metrics.update(dict.fromkeys(m for m in result.metrics if m not in metrics))
        names = list(metrics)[:8]
        params = self.parameters or list(dict.fromkeys(p for r in self for p in r.parameters))
        # a metric named like a parameter is labelled as the DataFrame labels it
        head = ["experiment", "status", *params, *(f"metric:{m}" if m in params else m for m in names), "seed",
                "duration"]
        shown: list[SweepResult | None] = list(self)
        if len(self) > HTML_ROWS + 5:
            shown = [*self[:HTML_ROWS], None, *self[-5:]]
        body = []
        for result in shown:
            if result is None:
                body.append(f"<tr><td colspan='{len(head)}'>… {len(self) - HTML_ROWS - 5} more …</td></tr>")
                continue
            cells = [result.experiment_id, result.status + (" (no metrics)" if result.no_metrics else ""),
                     *(_cell(result.parameters.get(p, "")) for p in params),
                     *(_cell(result.metrics.get(m, "")) for m in names), _cell(result.seed),
                     "" if result.duration is None else f"{result.duration:.2f}s"]
            body.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.status_counts.items())) or "no trials yet"
        caption = escape(f"{self.sweep_id}: {len(self)} of {self.total} trials ({counts})")
        return ("<table class='sweeplab-results'><caption style='text-align:left'>" + caption + "</caption><thead><tr>"
                + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead><tbody>" + "".join(body)
                + "</tbody></table>")


def _cell(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
