"""The researcher's view of one sweep: what each parameter did, where it tips, what is best.

>>> analyzer = SweepAnalyzer("sweep_demo", sweep_dir="logs/sweeps")      # doctest: +SKIP
>>> analyzer.compute_parameter_statistics("corruption_rate", "crash_rate")  # doctest: +SKIP
{0.0: {'mean': 0.05, 'std': 0.01, 'min': 0.04, 'max': 0.06, 'median': 0.05, 'count': 3}, ...}
>>> print(analyzer.generate_summary_report())                            # doctest: +SKIP
>>> fig = analyzer.plot_parameter("corruption_rate")                      # doctest: +SKIP

:class:`SweepAnalyzer` is the seed API's facade over the two halves of the package: it is a
:class:`~sweeplab.analysis.compute.sweep_statistics.SweepStatistics` (every number and table)
that also hands its results to the presenters (:mod:`sweeplab.analysis.present`) for the
report, the comparison table, the plot data and the figures. Only completed trials contribute
metric values; :attr:`SweepAnalyzer.is_partial` says whether the sweep is finished, and the
report states it. In Jupyter an analyzer shows itself as a compact HTML summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .compute.effects import ConfigurationResult, ParameterEffect
from .compute.sweep_statistics import SweepStatistics
from .exceptions import AnalysisInputError
from .present.html import analyzer_html
from .compute.objective import ObjectiveChoice
from .present.objective import choose_objective, has_results
from .present.plot_data import build_plot_data, write_plot_data
from .present.render import DEFAULT_WIDTH, render
from .present.summary import comparison_table_text, summary_blocks

__all__ = ["SweepAnalyzer", "ParameterEffect", "ConfigurationResult"]

FORMATS = ("text", "markdown")


class SweepAnalyzer(SweepStatistics):
    """Read-only analysis of the sweep ``sweep_id`` stored under ``sweep_dir``, with its reports.

    Every number comes from :class:`SweepStatistics` (same arguments: ``seed`` fixes every
    bootstrap, ``n_boot`` is the number of bootstrap replicates); the methods below hand those
    results to the presenters.
    """

    def objective(self, metric: str | None = None, minimize: bool | None = None) -> ObjectiveChoice:
        """The metric the report centres on and its direction, and why (see
        :func:`~sweeplab.analysis.present.objective.choose_objective`): ``metric``/``minimize``
        when given, else the spec's ``objective``, else a chosen metric. Unlike
        :meth:`SweepStatistics.objective`, a spec objective that no completed trial reported yet
        falls back to a chosen metric (the reason says so), so a running sweep still gets a report."""
        return choose_objective(self, metric, minimize)

    def generate_comparison_table(self, parameter_name: str, metrics: list[str] | None = None,
                                  width: int | None = None) -> str:
        """A text table of metric means per level of the parameter (all metrics by default); one
        table however wide, or parts no wider than ``width`` columns."""
        return comparison_table_text(self, parameter_name, metrics, width)

    def generate_summary_report(self, fmt: str = "text", metric: str | None = None, minimize: bool | None = None,
                                width: int = DEFAULT_WIDTH) -> str:
        """The full report as text (``fmt="text"``, no line wider than ``width``) or Markdown.

        ``metric`` and ``minimize`` set the objective (full detail, best configurations); by
        default the spec's ``objective``, else a chosen metric, named in the report with the reason.
        """
        if fmt not in FORMATS:
            raise AnalysisInputError(f"fmt must be one of {', '.join(map(repr, FORMATS))}, got {fmt!r}")
        return render(summary_blocks(self, metric=metric, minimize=minimize), fmt, width)

    def export_for_plotting(self, output_path: str | Path, all_metrics: bool = True) -> dict[str, Any]:
        """Write the plot data JSON to ``output_path`` and return it (every metric, or only the objective's)."""
        objective = self.objective() if has_results(self) else None
        metrics = [] if objective is None else (None if all_metrics else [objective.metric])
        data = build_plot_data(self, metrics, objective)
        write_plot_data(data, Path(output_path))
        return data

    # ------------------------------------------------------------------------ figures
    def _figure_metric(self, metric: str | None) -> str:
        return self.metric(metric) if metric is not None else self.objective().metric

    def plot_parameter(self, parameter_name: str, metric: str | None = None,
                       path: str | Path | None = None) -> Any:
        """The figure of ``metric`` (default: the objective) per level of the parameter, as a
        :class:`matplotlib.figure.Figure`; also saved as PNG to ``path`` when given."""
        from .present.figures import draw_metric

        parameter, chosen = self.parameter(parameter_name), self._figure_metric(metric)
        data = build_plot_data(self, [chosen], self.objective() if metric is None else None)
        figure = draw_metric(data, parameter, chosen)
        if path is not None:
            figure.savefig(Path(path))
        return figure

    def plot_interaction(self, first: str, second: str, metric: str | None = None,
                         path: str | Path | None = None) -> Any:
        """The heatmap of ``metric``'s mean (default: the objective) over two parameters, as a
        :class:`matplotlib.figure.Figure`; also saved as PNG to ``path`` when given."""
        from .present.figures import draw_heatmap
        from .present.plot_data import interaction_data

        rows, columns = self.parameter(first), self.parameter(second)
        if rows == columns:
            raise AnalysisInputError(f"an interaction needs two different parameters, got {rows!r} twice")
        chosen = self._figure_metric(metric)
        data = {"sweep_id": self.sweep_id, "partial": self.is_partial,
                "parameter_info": {p: {"label": p.rsplit(".", 1)[-1]} for p in (rows, columns)}}
        figure = draw_heatmap(data, interaction_data(self, rows, columns, chosen))
        if path is not None:
            figure.savefig(Path(path))
        return figure

    def plot_all(self, folder: str | Path | None = None, all_metrics: bool = False) -> list[Path]:
        """Write the objective's figures (every metric's with ``all_metrics``) and ``plot_data.json``
        into ``folder`` (default: the sweep's folder); return the PNG paths."""
        from .present.plots import write_plots

        objective = self.objective() if has_results(self) else None
        metrics = [] if objective is None else (None if all_metrics else [objective.metric])
        return write_plots(self, Path(folder) if folder is not None else None, metrics, objective)[1]

    # --------------------------------------------------------------------------- Jupyter
    def _repr_html_(self) -> str:
        """A compact HTML summary for Jupyter: status, objective, best configuration, effects."""
        return analyzer_html(self)
