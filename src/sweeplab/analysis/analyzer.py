"""The researcher's view of one sweep: what each parameter did, where it tips, what is best.

>>> analyzer = SweepAnalyzer("sweep_demo", sweep_dir="logs/sweeps")      # doctest: +SKIP
>>> analyzer.compute_parameter_statistics("corruption_rate", "crash_rate")  # doctest: +SKIP
{0.0: {'mean': 0.05, 'std': 0.01, 'min': 0.04, 'max': 0.06, 'median': 0.05, 'count': 3}, ...}
>>> print(analyzer.generate_summary_report())                            # doctest: +SKIP

:class:`SweepAnalyzer` is the seed API's facade over the two halves of the package: it is a
:class:`~sweeplab.analysis.compute.sweep_statistics.SweepStatistics` (every number and table)
that also hands its results to the presenters (:mod:`sweeplab.analysis.present`) for the
report, the comparison table and the plot data. Only completed trials contribute metric
values; :attr:`SweepAnalyzer.is_partial` says whether the sweep is finished, and the report
states it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .compute.effects import ConfigurationResult, ParameterEffect
from .compute.sweep_statistics import SweepStatistics
from .present.plot_data import build_plot_data, write_plot_data
from .present.render import render
from .present.summary import comparison_table_text, summary_blocks

__all__ = ["SweepAnalyzer", "ParameterEffect", "ConfigurationResult"]


class SweepAnalyzer(SweepStatistics):
    """Read-only analysis of the sweep ``sweep_id`` stored under ``sweep_dir``, with its reports.

    Every number comes from :class:`SweepStatistics` (same arguments: ``seed`` fixes every
    bootstrap, ``n_boot`` is the number of bootstrap replicates); the methods below hand those
    results to the presenters.
    """

    def generate_comparison_table(self, parameter_name: str, metrics: list[str] | None = None) -> str:
        """A text table of metric means per level of the parameter (all metrics by default)."""
        return comparison_table_text(self, parameter_name, metrics)

    def generate_summary_report(self, fmt: str = "text", metric: str | None = None, minimize: bool = True) -> str:
        """The full report as text (``fmt="text"``) or Markdown (``fmt="markdown"``).

        ``metric`` chooses the metric for the optimum and the interaction tables (default: the first).
        """
        return render(summary_blocks(self, metric=metric, minimize=minimize), fmt)

    def export_for_plotting(self, output_path: str | Path) -> dict[str, Any]:
        """Write the plot data JSON to ``output_path`` and return it."""
        data = build_plot_data(self)
        write_plot_data(data, Path(output_path))
        return data
