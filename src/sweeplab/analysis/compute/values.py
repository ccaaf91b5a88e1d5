"""What the trials returned for each metric that is not a finite number, counted per level.

Interface:

* :class:`ValueCounts` (``finite``, ``nan``, ``inf`` (either sign), ``non_numeric``,
  ``absent``: completed trials that did not report the metric) for one metric at one level
  (or overall); ``unusable`` = nan + inf + non_numeric.
* :class:`MetricValueReport` (``metric``, ``overall``: ValueCounts, ``by_level``:
  {parameter: {level: ValueCounts}}, ``levels_without_values``: {parameter: [levels whose
  completed trials gave no finite value]}, ``note``).
* :func:`value_report` ``(frame, kinds, metric, parameters, level_orders)`` -> MetricValueReport.
  ``kinds`` is the loader's :attr:`SweepData.value_kinds` frame (one code per trial and metric).
* :func:`no_metric_trials` ``(frame, kinds)`` -> the number of completed trials that reported no metric at all.

The loader reads finite numbers from ``metrics_json`` and the others from ``extra_json``
(non-finite floats as ``"nan"``, ``"inf"``, ``"-inf"``; other values as JSON); a journal
written before ``extra_json`` existed may still hold NaN in ``metrics_json``, which counts as nan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .loader import ABSENT, FINITE, INFINITE, NAN, NON_NUMERIC
from .names import level_index

__all__ = ["ValueCounts", "MetricValueReport", "value_report", "count_kinds"]


@dataclass(frozen=True)
class ValueCounts:
    """How a metric's values came back from a set of completed trials."""

    finite: int = 0
    nan: int = 0
    inf: int = 0
    non_numeric: int = 0
    absent: int = 0

    @property
    def unusable(self) -> int:
        """Values returned that are not finite numbers (left out of means and tests)."""
        return self.nan + self.inf + self.non_numeric

    @property
    def total(self) -> int:
        """Completed trials counted."""
        return self.finite + self.unusable + self.absent

    def describe(self) -> str:
        """``3 nan, 1 inf, 2 not reported`` (empty when every value is a finite number)."""
        parts = [f"{n} {what}" for n, what in ((self.nan, "nan"), (self.inf, "inf"),
                                                (self.non_numeric, "non-numeric"), (self.absent, "not reported"))
                 if n]
        return ", ".join(parts)


@dataclass(frozen=True)
class MetricValueReport:
    """A metric's value counts overall and per level of every parameter."""

    metric: str
    overall: ValueCounts
    by_level: dict[str, dict[Any, ValueCounts]] = field(default_factory=dict)
    levels_without_values: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """True when every completed trial reported a finite number."""
        return self.overall.unusable == 0 and self.overall.absent == 0

    @property
    def note(self) -> str:
        """One sentence for the report ('' when clean)."""
        if self.clean:
            return ""
        text = f"{self.metric}: {self.overall.describe()} of {self.overall.total} completed trials left out"
        gaps = [f"{p} = {', '.join(map(repr, lv))}" for p, lv in self.levels_without_values.items() if lv]
        if gaps:
            text += f"; no finite value at {'; '.join(gaps)} (comparisons skip these levels)"
        return text


def count_kinds(codes: np.ndarray) -> ValueCounts:
    """Count an array of value-kind codes."""
    counts = np.bincount(codes.astype(np.intp), minlength=5)
    return ValueCounts(finite=int(counts[FINITE]), nan=int(counts[NAN]), inf=int(counts[INFINITE]),
                       non_numeric=int(counts[NON_NUMERIC]), absent=int(counts[ABSENT]))


def value_report(completed: pd.DataFrame, kinds: pd.DataFrame, metric: str, parameters: Sequence[str],
                 level_orders: Mapping[str, Sequence[Any]],
                 level_codes: Mapping[str, np.ndarray] | None = None) -> MetricValueReport:
    """Count what the completed trials returned for ``metric``, overall and per level.

    ``completed`` and ``kinds`` share their index (the completed rows of the loader's frames);
    ``level_orders`` gives each parameter's ordered levels and ``level_codes`` (optional) each
    completed trial's position in them, when the caller has them already.
    """
    if metric in kinds.columns:
        codes = kinds.loc[completed.index, metric].to_numpy(dtype=np.int8)
    else:
        codes = np.full(len(completed), FINITE if metric in completed.columns else ABSENT, dtype=np.int8)
        if metric in completed.columns:  # e.g. duration: a column without reported kinds
            codes[completed[metric].isna().to_numpy()] = ABSENT
    by_level: dict[str, dict[Any, ValueCounts]] = {}
    missing: dict[str, list[Any]] = {}
    for p in parameters:
        levels = list(level_orders[p])
        positions = (level_codes[p] if level_codes is not None and p in level_codes
                     else np.array(level_index(completed[p].tolist(), levels), dtype=np.intp))
        by_level[p] = {lvl: count_kinds(codes[positions == i]) for i, lvl in enumerate(levels)}
        missing[p] = [lvl for lvl, c in by_level[p].items() if c.finite == 0 and c.total > 0]
    return MetricValueReport(metric, count_kinds(codes), by_level, missing)
