"""Sampled and searched sweeps: how the trials were chosen, binned levels, and the search's own result.

A grid gives each parameter a few levels with replicates. A sampled design (``strategy`` random,
lhs, sobol) or a search (bayesian) gives a continuous parameter a new value in almost every trial,
so "levels" would be one trial each: no interval, no test. Such a parameter is analysed by
quantile bins (:func:`bin_codes`), each bin holding at least :data:`MIN_PER_BIN` trials, labelled by
its range (``[0.12, 0.25)``) and placed on the axis at the mean of its raw values (the shape and
change-point fits use those positions). A refine sweep is never binned: its levels repeat.

:func:`sampling_info` says how the trials were chosen (a bayesian search chose them adaptively:
per-bin means describe where it looked, they are not an unbiased design), and
:func:`read_search_result` reads the ``search.json`` the search wrote in the sweep folder.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...planning.binning import DEFAULT_BINS, MAX_LEVELS, bin_label, needs_bins
from ...planning.distributions import SAMPLED_STRATEGIES
from ...planning.strategy import SEARCH_FILE, is_search

__all__ = ["SamplingInfo", "BinnedLevels", "sampling_info", "should_bin", "bin_codes", "read_search_result",
           "MIN_PER_BIN", "SEARCH_FILE"]

log = logging.getLogger(__name__)

#: a bin holds at least this many trials (fewer bins when there are fewer trials)
MIN_PER_BIN = 3
#: strategies whose values are drawn rather than gridded (a design drawn up front, or a bayesian search)
_DRAWN = (*SAMPLED_STRATEGIES, "bayesian")


@dataclass(frozen=True)
class SamplingInfo:
    """How a sweep chose its trials."""

    strategy: str
    #: the trials were chosen from earlier results (bayesian, refine): not a random sample
    adaptive: bool
    #: values were drawn rather than gridded (random, lhs, sobol, bayesian)
    sampled: bool


@dataclass(frozen=True)
class BinnedLevels:
    """A parameter's values grouped into quantile bins."""

    labels: list[Any]  # one per bin, in axis order (then None when some trials have no value)
    codes: np.ndarray  # per trial, the position of its bin in ``labels``
    positions: list[float | None]  # per label, the mean raw value of its trials (None for the null level)
    edges: list[float]


def sampling_info(config: dict[str, Any]) -> SamplingInfo:
    """The strategy of a stored sweep config (``grid`` when it names none)."""
    spec = config.get("spec") if isinstance(config.get("spec"), dict) else {}
    strategy = str(spec.get("strategy") or config.get("strategy") or "grid")
    return SamplingInfo(strategy, is_search(strategy), strategy in _DRAWN)


def should_bin(values: list[Any], strategy: str) -> bool:
    """Whether a parameter's values are analysed by bins: numbers, mostly distinct (more distinct
    values than half the trials: a grid with replicates keeps its levels) and more of them than
    :data:`~sweeplab.planning.binning.MAX_LEVELS` — or, in a sampled or searched sweep, enough for
    two bins of :data:`MIN_PER_BIN` (12 random trials are 12 "levels" of one trial otherwise).
    Never for a refine sweep, whose levels repeat by design."""
    if strategy == "refine":
        return False
    limit = 2 * MIN_PER_BIN - 1 if strategy in _DRAWN else MAX_LEVELS
    if not needs_bins(values, max_levels=limit):
        return False
    present = [v for v in values if v is not None]
    return len(set(present)) * 2 > len(present)


def bin_codes(values: list[Any], min_per_bin: int = MIN_PER_BIN, bins: int = DEFAULT_BINS) -> BinnedLevels:
    """Quantile bins of ``values`` with at least ``min_per_bin`` trials each (at most ``bins`` bins).

    ``None`` values keep a level of their own, after the bins.
    """
    numbers = [float(v) for v in values if v is not None]
    count = max(2, min(bins, len(numbers) // max(1, min_per_bin)))
    edges = _edges(numbers, count, min_per_bin)
    label_of = {}
    for v in sorted(set(numbers)):
        label_of[v] = bin_label(edges, v)
    labels = list(dict.fromkeys(label_of[v] for v in sorted(label_of)))
    index = {label: i for i, label in enumerate(labels)}
    has_null = any(v is None for v in values)
    codes = np.array([len(labels) if v is None else index[label_of[float(v)]] for v in values], dtype=np.intp)
    raw = np.array([np.nan if v is None else float(v) for v in values])
    positions: list[float | None] = []
    for i in range(len(labels)):
        positions.append(float(f"{raw[codes == i].mean():.6g}"))  # six digits: a place on the axis, shown as such
    if has_null:
        labels.append(None)
        positions.append(None)
    return BinnedLevels(labels, codes, positions, edges)


def _edges(numbers: list[float], count: int, min_per_bin: int) -> list[float]:
    """Quantile edges of ``count`` bins, then bins with fewer than ``min_per_bin`` values (ties at an
    edge, uneven quantiles) merged into their smaller neighbour until none is left (or two bins)."""
    ordered = np.sort(np.asarray(numbers, dtype=float))
    n = len(ordered)
    # the value that starts each bin of n // count or more values (the last bin is closed at the maximum)
    edges = sorted({float(ordered[0]), *(float(ordered[(i * n) // count]) for i in range(1, count)),
                    float(ordered[-1])})
    while len(edges) > 2:
        position = np.clip(np.searchsorted(edges, ordered, side="right") - 1, 0, len(edges) - 2)
        counts = np.bincount(position, minlength=len(edges) - 1)
        if counts.min() >= min_per_bin:
            break
        i = int(np.argmin(counts))
        if i == 0:
            del edges[1]
        elif i == len(counts) - 1 or counts[i - 1] <= counts[i + 1]:
            del edges[i]  # merge with the bin before
        else:
            del edges[i + 1]  # merge with the bin after
    return edges


def read_search_result(folder: Path) -> dict[str, Any] | None:
    """The ``search.json`` a bayesian or refine search wrote in the sweep folder, or None (absent or
    unreadable: a view of the journal, so the analysis goes on without it, with a log line)."""
    path = folder / SEARCH_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None
