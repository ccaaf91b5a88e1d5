"""The designed-experiment view of one sweep: all parameters at once, for every metric.

:class:`DesignedExperimentView` is the part of
:class:`~sweeplab.analysis.compute.sweep_statistics.SweepStatistics` that looks at the sweep as a
designed experiment rather than one parameter at a time: the type-II model of each metric
(:mod:`.design`), the parameters' importance, nominal contrasts, what trials returned that is
not a number, the report's objective, the family of tests with its FDR control and what the
design can detect. It reads the statistics' loaded trials and caches its models on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .contrasts import LevelContrast, level_contrasts
from .design import DesignAnalysis, analyze_design, parameter_importance
from .multiplicity import TestFamily, build_family
from .objective import ObjectiveChoice, choose_objective
from .power import PowerNote, power_note
from .thresholds import RelativeChange, relative_change_interval
from .values import MetricValueReport, value_report

if TYPE_CHECKING:
    from .loader import SweepData

__all__ = ["DesignedExperimentView"]


class DesignedExperimentView:
    """Whole-design statistics; mixed into ``SweepStatistics``, which provides the trials and names."""

    if TYPE_CHECKING:  # what SweepStatistics provides (declared for type checkers only)
        _data: SweepData
        _completed: pd.DataFrame
        _designs: dict[str, Any]
        _grams: dict[Any, Any]

        @property
        def parameters(self) -> list[str]: ...
        @property
        def metrics(self) -> list[str]: ...
        def metric(self, name: str) -> str: ...
        def parameter(self, name: str) -> str: ...
        def levels(self, parameter_name: str) -> list[Any]: ...
        def level_codes(self, parameter_name: str) -> tuple[list[Any], np.ndarray]: ...
        def binned_parameters(self) -> dict[str, int]: ...
        def _groups(self, path: str, metric: str) -> tuple[list[Any], list[np.ndarray]]: ...
        def detect_threshold_effects(self, parameter_name: str, metric_name: str,
                                     threshold_change: float = 0.5) -> list[tuple[Any, Any, float]]: ...

    # ------------------------------------------------------------ designed-experiment view
    def design_analysis(self, metric_name: str) -> DesignAnalysis:
        """Type-II ANOVA of the metric on every parameter, pairwise interactions and the replicate block."""
        metric = self.metric(metric_name)
        cached = self._designs.get(metric)
        if cached is None:
            orders = {p: self.levels(p) for p in self.parameters}
            cached = analyze_design(self._completed, self.parameters, metric, level_orders=orders,
                                    cache=self._grams, linear=set(self.binned_parameters()))
            self._designs[metric] = cached
        return cached

    def importance(self, metric_name: str) -> dict[str, float]:
        """Each parameter's (and interaction's, and the replicate block's) share of the metric's variance."""
        return parameter_importance(self.design_analysis(metric_name))

    def importances(self) -> dict[str, dict[str, float]]:
        """:meth:`importance` for every metric (``duration`` included)."""
        return {m: self.importance(m) for m in self.metrics}

    def completed_trials(self) -> pd.DataFrame:
        """The completed trials as the statistics group them: parameter values as the spec gave them
        (``None`` for null), one float column per metric (nan where a trial gave no finite value)."""
        return self._completed.copy()

    def level_contrasts(self, parameter_name: str, metric_name: str, *, reference: Any = None,
                        all_pairs: bool = False) -> list[LevelContrast]:
        """Levels against a reference (or all pairs) with the other parameters held fixed (nominal parameters)."""
        path, metric = self.parameter(parameter_name), self.metric(metric_name)
        orders = {p: self.levels(p) for p in self.parameters}
        return level_contrasts(self._completed, path, metric, self.parameters, reference=reference,
                               all_pairs=all_pairs, level_orders=orders, linear=set(self.binned_parameters()))

    def value_report(self, metric_name: str) -> MetricValueReport:
        """What the completed trials returned for the metric that is not a finite number, per level."""
        name = metric_name if metric_name in self._data.non_numeric_metrics else self.metric(metric_name)
        coded = {p: self.level_codes(p) for p in self.parameters}
        return value_report(self._completed, self._data.value_kinds, name, self.parameters,
                            {p: levels for p, (levels, _) in coded.items()},
                            {p: codes for p, (_, codes) in coded.items()})

    @property
    def non_numeric_metrics(self) -> list[str]:
        """Reported names that no completed trial gave as a finite number."""
        return list(self._data.non_numeric_metrics)

    @property
    def no_metric_trials(self) -> int:
        """Completed trials that reported nothing at all."""
        return self._data.no_metric_trials

    def objective(self, metric_name: str | None = None, minimize: bool | None = None) -> ObjectiveChoice:
        """The metric the report centres on (argument, the spec's objective, or the first metric) and why."""
        return choose_objective(self._data.config, self.metrics, metric=metric_name, minimize=minimize)

    def test_family(self, metrics: list[str] | None = None) -> TestFamily:
        """Every metric × term test of the design models, Benjamini-Hochberg adjusted as one family."""
        chosen = [self.metric(m) for m in metrics] if metrics else [m for m in self.metrics if m != "duration"]
        p_values: dict[tuple[str, str], float | None] = {}
        for metric in chosen:
            for term in self.design_analysis(metric).terms:
                if term.kind != "block":
                    p_values[(metric, term.term)] = term.p_value
        return build_family(p_values)

    def power_note(self, parameter_name: str | None = None, alpha: float = 0.05) -> PowerNote | None:
        """Smallest attainable p and minimal detectable effect for one parameter's levels (default: the
        parameter with the most levels; None without parameters). A level holds the replicates of every
        combination of the other parameters, so its n is the completed trials over the levels."""
        if not self.parameters:
            return None
        path = (self.parameter(parameter_name) if parameter_name
                else max(self.parameters, key=lambda p: len(self.levels(p))))
        levels = max(2, len(self.levels(path)))
        replicates = int(self._data.config.get("repeats") or 1)
        per_level = max(1, len(self._completed) // levels)
        return power_note(levels, replicates, alpha, blocks=replicates > 1, per_level=per_level)

    def threshold_intervals(self, parameter_name: str, metric_name: str,
                            threshold_change: float = 0.5) -> list[RelativeChange]:
        """The pairs of :meth:`detect_threshold_effects`, each with a 95 % interval of its relative change."""
        path, metric = self.parameter(parameter_name), self.metric(metric_name)
        levels, groups = self._groups(path, metric)
        by_level = dict(zip(map(repr, levels), groups))
        return [relative_change_interval(a, b, by_level[repr(a)], by_level[repr(b)], threshold_change)
                for a, b, _ in self.detect_threshold_effects(path, metric, threshold_change)]

