"""One sweep's numbers: levels, per-parameter effects, configurations, interactions, self-reports.

>>> stats = SweepStatistics("sweep_demo", sweep_dir="logs/sweeps")          # doctest: +SKIP
>>> stats.compute_parameter_statistics("corruption_rate", "crash_rate")     # doctest: +SKIP
{0.0: {'mean': 0.05, 'std': 0.01, 'min': 0.04, 'max': 0.06, 'median': 0.05, 'count': 3}, ...}

Only completed trials contribute metric values. A sweep that is still running or was
interrupted is analysed as far as it got; :attr:`SweepStatistics.is_partial` says so.
Everything computed is cached on the instance, so a report that asks for the same effect
twice computes it once. The designed-experiment view (all parameters at once: the model,
importance, contrasts, value counts, objective, test family, power) comes from
:class:`~sweeplab.analysis.compute.sweep_design.DesignedExperimentView`. The presenters
(:mod:`sweeplab.analysis.present`) read these results;
:class:`~sweeplab.analysis.analyzer.SweepAnalyzer` adds the report shortcuts on top.
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...journal.reader import JournalReader
from ...journal.views import trial_rows, trials_frame
from ..exceptions import AnalysisInputError, NoSelfReportDataError
from .effects import (
    ConfigurationResult,
    ParameterEffect,
    configuration_result,
    measure_effect,
)
from .loader import SweepData, load_self_reports, load_sweep
from .names import level_index, order_levels, resolve_metric, resolve_parameter
from .sampled import SamplingInfo, bin_codes, read_search_result, sampling_info, should_bin
from .self_reports import (
    join_to_trials,
    keyword_mentions,
    matching_questions,
    responses_by_level,
)
from .sweep_design import DesignedExperimentView
from .thresholds import ChangePoint, relative_change_thresholds

__all__ = ["SweepStatistics"]

log = logging.getLogger(__name__)


def _stable_seed(*parts: str) -> list[int]:
    """Seed material that does not depend on Python's randomised string hashing."""
    return [zlib.crc32(p.encode("utf-8")) for p in parts]


class SweepStatistics(DesignedExperimentView):
    """The statistics of the sweep ``sweep_id`` stored under ``sweep_dir`` (read-only, cached).

    The database is found through the sweep's ``sweep_config.json``. ``seed`` fixes every
    bootstrap, so the same data always gives the same report; ``n_boot`` is the number of
    bootstrap replicates. Parameters may be named by dot path or an unambiguous last part.
    """

    def __init__(self, sweep_id: str, sweep_dir: str | Path = "logs/sweeps", *, seed: int = 0,
                 n_boot: int = 1000) -> None:
        self._data: SweepData = load_sweep(sweep_id, sweep_dir)
        self._completed = self._data.trials[self._data.trials["status"] == "completed"]
        self.seed = seed
        self.n_boot = n_boot
        self._self_reports: pd.DataFrame | None = None
        self._effects: dict[tuple[str, str], ParameterEffect] = {}
        self._codes: dict[str, tuple[list[Any], np.ndarray]] = {}
        self._positions: dict[str, list[float | None]] = {}  # binned parameters: each bin's place on the axis
        self.sampling: SamplingInfo = sampling_info(self._data.config)
        self._designs: dict[str, Any] = {}
        self._grams: dict[Any, Any] = {}  # the design's X'X and factorizations per set of trials, shared by metrics

    # ----------------------------------------------------------------- what the sweep is
    @property
    def sweep_id(self) -> str:
        """The sweep's id."""
        return self._data.sweep_id

    @property
    def folder(self) -> Path:
        """The sweep's folder (where plot data and figures are written)."""
        return self._data.folder

    @property
    def config(self) -> dict[str, Any]:
        """The stored ``sweep_config.json``."""
        return dict(self._data.config)

    @property
    def db_path(self) -> Path:
        """The journal database the trials were read from."""
        return self._data.db_path

    @property
    def status(self) -> str:
        """The sweep's journal status: running, completed, incomplete, interrupted (or unknown)."""
        return self._data.status

    @property
    def parameters(self) -> list[str]:
        """The swept parameters' dot paths."""
        return list(self._data.parameters)

    @property
    def metrics(self) -> list[str]:
        """Every metric a completed trial reported, plus ``duration``."""
        return list(self._data.metrics)

    @property
    def total_planned(self) -> int:
        """How many trials the plan has: for a search that finished before its budget (a refine that
        reached its resolution), the trials it registered."""
        search = self.search_result()
        if search is not None and search.get("finished") and isinstance(search.get("registered"), int):
            return min(self._data.total_planned, search["registered"])
        return self._data.total_planned

    @property
    def status_counts(self) -> dict[str, int]:
        """Trials per status, plus ``not started`` for planned trials without a row."""
        counts = {str(k): int(v) for k, v in self._data.trials["status"].value_counts().sort_index().items()}
        missing = self.total_planned - len(self._data.trials)
        if missing > 0:
            counts["not started"] = missing
        return counts

    @property
    def is_partial(self) -> bool:
        """True when the sweep is not finished or not every planned trial completed."""
        return self.status != "completed" or len(self._completed) < self.total_planned

    @property
    def has_self_reports(self) -> bool:
        """True when the database has a self_reports table."""
        return self._data.has_self_reports

    def parameter(self, name: str) -> str:
        """Resolve a parameter name (dot path or unambiguous last part) to its dot path."""
        return resolve_parameter(name, self._data.parameters)

    def metric(self, name: str) -> str:
        """Resolve a metric name, raising an error that lists the available ones."""
        return resolve_metric(name, self._data.metrics)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per started trial, typed: see :func:`sweeplab.journal.views.trials_frame`."""
        with JournalReader.open(self.db_path) as reader:
            return trials_frame(trial_rows(reader, self.sweep_id), self.parameters)

    def levels(self, parameter_name: str) -> list[Any]:
        """The parameter's values that have completed trials, in order."""
        return self.level_codes(parameter_name)[0]

    def level_codes(self, parameter_name: str) -> tuple[list[Any], np.ndarray]:
        """The ordered levels and, per completed trial (in row order), the position of its level.

        Computed once per parameter: every grouping by level reuses it. A numeric parameter whose
        values are mostly distinct (a sampled or searched sweep) has quantile bins as its levels,
        labelled by their range (see :mod:`.sampled` and :meth:`binned_parameters`).
        """
        path = self.parameter(parameter_name)
        cached = self._codes.get(path)
        if cached is None:
            values = self._completed[path].tolist()
            if should_bin(values, self.sampling.strategy):
                binned = bin_codes(values)
                cached = (binned.labels, binned.codes)
                self._positions[path] = binned.positions
            else:
                levels = order_levels(values, self._data.spec_values.get(path))
                cached = (levels, np.array(level_index(values, levels), dtype=np.intp))
            self._codes[path] = cached
        return cached

    def binned_parameters(self) -> dict[str, int]:
        """The parameters analysed by bins rather than by value, each with its number of bins."""
        for path in self.parameters:
            self.level_codes(path)
        return {p: sum(1 for x in self._positions[p] if x is not None) for p in self.parameters
                if p in self._positions}

    def bin_positions(self, parameter_name: str) -> list[float | None] | None:
        """Each bin's mean raw value (in the order of :meth:`levels`), or None when not binned."""
        path = self.parameter(parameter_name)
        self.level_codes(path)
        return list(self._positions[path]) if path in self._positions else None

    def search_result(self) -> dict[str, Any] | None:
        """The search's own summary (``search.json`` of a bayesian or refine sweep: best trials,
        threshold and rounds), or None. Read once."""
        if not hasattr(self, "_search"):
            self._search = read_search_result(self.folder)
        return self._search

    def _rng(self, *parts: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, *_stable_seed(*parts)])

    def _groups(self, path: str, metric: str) -> tuple[list[Any], list[np.ndarray]]:
        """The metric's values per level, for the levels where it has any."""
        levels, codes = self.level_codes(path)
        values = self._completed[metric].to_numpy(dtype=float)
        present = ~np.isnan(values)
        order = np.argsort(codes[present], kind="stable")
        sorted_values = values[present][order]
        bounds = np.searchsorted(codes[present][order], np.arange(len(levels) + 1))
        groups = [(lvl, sorted_values[bounds[i]:bounds[i + 1]]) for i, lvl in enumerate(levels)]
        kept = [(lvl, g) for lvl, g in groups if len(g)]
        return [lvl for lvl, _ in kept], [g for _, g in kept]

    # -------------------------------------------------------------------- original API
    def compare_by_parameter(self, parameter_name: str, metric_name: str) -> dict[Any, list[float]]:
        """The metric's values in each level of the parameter: ``{value: [metric values]}``."""
        levels, groups = self._groups(self.parameter(parameter_name), self.metric(metric_name))
        return {lvl: g.tolist() for lvl, g in zip(levels, groups)}

    def compute_parameter_statistics(self, parameter_name: str, metric_name: str) -> dict[Any, dict[str, float]]:
        """``{value: {mean, std, min, max, median, count}}``; std is the sample std (nan if n < 2)."""
        effect = self.parameter_effect(parameter_name, metric_name)
        return {s.level: s.as_dict() for s in effect.summaries}

    def detect_threshold_effects(self, parameter_name: str, metric_name: str,
                                 threshold_change: float = 0.5) -> list[tuple[Any, Any, float]]:
        """Consecutive levels ``(before, after, change)`` whose means change by >= ``threshold_change``.

        ``change`` is relative to the earlier mean (0.5 = +50 %); from a zero mean a jump is ±inf.
        """
        if threshold_change < 0:
            raise AnalysisInputError(f"threshold_change must be >= 0, got {threshold_change}")
        effect = self.parameter_effect(parameter_name, metric_name)
        return relative_change_thresholds(effect.levels, [s.mean for s in effect.summaries], threshold_change)

    def find_optimal_parameters(self, metric_name: str, minimize: bool = True) -> tuple[dict[str, Any], float]:
        """The parameter combination with the best mean metric over its replicates, and that mean."""
        best = self.rank_configurations(metric_name, minimize=minimize, top=1)
        return best[0].parameters, best[0].mean

    # ----------------------------------------------------------------- beyond the original
    def parameter_effect(self, parameter_name: str, metric_name: str) -> ParameterEffect:
        """Level statistics with bootstrap CIs, omnibus test, adjacent tests and change point."""
        path, metric = self.parameter(parameter_name), self.metric(metric_name)
        cached = self._effects.get((path, metric))
        if cached is not None:
            return cached
        levels, groups = self._groups(path, metric)
        positions = None
        if path in self._positions:  # binned: the shape and change point place each bin at its mean value
            place = dict(zip(map(repr, self.levels(path)), self._positions[path]))
            positions = [place[repr(lvl)] for lvl in levels]
        effect = measure_effect(path, metric, levels, groups, self._rng(path, metric),
                                self._rng(path, metric, "change-point"), self.n_boot, self.levels(path),
                                positions=positions)
        self._effects[(path, metric)] = effect
        return effect

    def estimate_change_point(self, parameter_name: str, metric_name: str) -> ChangePoint | None:
        """The single-step tipping point with its bootstrap interval (None for non-numeric levels)."""
        return self.parameter_effect(parameter_name, metric_name).change_point

    def configuration_table(self, metric_name: str) -> pd.DataFrame:
        """One row per parameter combination: the parameters, count, mean, std, min, max of the metric."""
        metric = self.metric(metric_name)
        frame = self._completed[[*self.parameters, metric]].dropna(subset=[metric])
        if not self.parameters:
            stats = frame[metric].agg(["count", "mean", "std", "min", "max"])
            return pd.DataFrame([stats.to_dict()])
        table = (frame.groupby(self.parameters, sort=False, dropna=False)[metric]
                 .agg(["count", "mean", "std", "min", "max"]).reset_index())
        table["count"] = table["count"].astype(int)
        return table

    def rank_configurations(self, metric_name: str, minimize: bool = True, top: int = 3) -> list[ConfigurationResult]:
        """The ``top`` best combinations (best first), with their spread and bootstrap CI of the mean."""
        metric = self.metric(metric_name)
        table = self.configuration_table(metric)
        if table.empty or table["count"].sum() == 0:
            raise AnalysisInputError(f"no completed trial of sweep {self.sweep_id!r} reported {metric!r} yet")
        ranked = table.sort_values("mean", ascending=minimize, kind="stable").head(top)
        results = []
        # Column lists keep parameter values as the Python objects they are (row access would upcast).
        columns = {p: ranked[p].tolist() for p in self.parameters}
        for i in range(len(ranked)):
            # groupby gives a null level back as NaN (never a swept value): it is the null level
            params = {p: None if isinstance(columns[p][i], float) and columns[p][i] != columns[p][i] else columns[p][i]
                      for p in self.parameters}
            mask = np.ones(len(self._completed), dtype=bool)
            for p, v in params.items():
                mask &= (self._completed[p] == v).to_numpy() if v is not None else self._completed[p].isna().to_numpy()
            values = self._completed.loc[mask, metric].dropna().to_numpy(dtype=float)
            results.append(configuration_result(params, values, self._rng("config", metric, repr(params)),
                                                self.n_boot))
        return results

    def interaction_table(self, first: str, second: str, metric_name: str,
                          statistic: str = "mean") -> pd.DataFrame:
        """Rows: levels of ``first``; columns: levels of ``second``; cells: the metric's mean (or count)."""
        p1, p2, metric = self.parameter(first), self.parameter(second), self.metric(metric_name)
        if p1 == p2:
            raise AnalysisInputError(f"an interaction needs two different parameters, got {p1!r} twice")
        if statistic not in ("mean", "count"):
            raise AnalysisInputError(f"interaction statistic must be 'mean' or 'count', got {statistic!r}")
        rows, row_codes = self.level_codes(p1)
        cols, col_codes = self.level_codes(p2)
        values = self._completed[metric].to_numpy(dtype=float)
        present = ~np.isnan(values)
        cells = (row_codes * len(cols) + col_codes)[present]
        size = len(rows) * len(cols)
        counts = np.bincount(cells, minlength=size).astype(float)
        if statistic == "count":
            grid = counts
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                grid = np.bincount(cells, weights=values[present], minlength=size) / counts
        # Positional construction: level values such as True/False must not be taken as masks.
        table = pd.DataFrame(grid.reshape(len(rows), len(cols)),
                             index=pd.Index(rows, name=p1, dtype=object), columns=pd.Index(cols, name=p2, dtype=object))
        return table

    # ---------------------------------------------------------------------- self-reports
    def self_reports(self) -> pd.DataFrame:
        """The sweep's self-reports joined with their trial's parameters (one query, cached)."""
        if not self._data.has_self_reports:
            runner = self._data.config.get("runner", "unknown")
            raise NoSelfReportDataError(
                f"sweep {self.sweep_id!r} has no self-report data: its database {self.db_path} has no "
                f"self_reports table (runner {runner!r} records none)")
        if self._self_reports is None:
            reports = load_self_reports(self.db_path, self.sweep_id)
            self._self_reports = join_to_trials(reports, self._completed, self.parameters)
        if self._self_reports.empty:
            raise NoSelfReportDataError(
                f"sweep {self.sweep_id!r} has no self-report data: none of its {len(self._completed)} "
                f"completed trials recorded a self-report in {self.db_path}")
        return self._self_reports

    def _reports_by_level(self, parameter_name: str, reports: pd.DataFrame) -> dict[Any, pd.Series]:
        levels, codes = self.level_codes(parameter_name)
        return responses_by_level(levels, codes, reports)

    def compare_self_report_responses(self, question_text_pattern: str, parameter_name: str) -> dict[Any, list[str]]:
        """Responses to questions containing ``question_text_pattern`` (case-insensitive), per level."""
        chosen = matching_questions(self.self_reports(), question_text_pattern)
        if chosen.empty:
            log.warning("no self-report question of sweep %s contains %r", self.sweep_id, question_text_pattern)
        return {lvl: s.tolist() for lvl, s in self._reports_by_level(parameter_name, chosen).items()}

    def analyze_belief_evolution(self, parameter_name: str, belief_keyword: str) -> dict[Any, dict[str, float]]:
        """Per level: how many responses mention ``belief_keyword`` (case-insensitive substring).

        ``mention_rate`` is mention_count / total_responses (nan when a level has no responses).
        """
        return keyword_mentions(self._reports_by_level(parameter_name, self.self_reports()), belief_keyword)
