"""Read-only analysis of sweeps: statistics, tests, thresholds, reports and plots.

>>> from sweeplab.analysis import SweepAnalyzer
>>> analyzer = SweepAnalyzer("sweep_demo")                      # doctest: +SKIP
>>> print(analyzer.generate_summary_report())                  # doctest: +SKIP

The package has two halves and a facade above them: :mod:`.compute` (loading the journal,
statistics, effects, thresholds), :mod:`.present` (report documents, text and Markdown, plot
data, figures) and :mod:`.analyzer` (:class:`SweepAnalyzer`, the seed API). The public names
below are imported on first use, so ``sweeplab analyze --help`` does not load pandas or SciPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .exceptions import (
    AnalysisInputError,
    NoSelfReportDataError,
    UnknownMetricError,
    UnknownNameError,
    UnknownParameterError,
)

if TYPE_CHECKING:
    from .analyzer import SweepAnalyzer
    from .compute.effects import ConfigurationResult, ParameterEffect

__all__ = [
    "SweepAnalyzer",
    "ParameterEffect",
    "ConfigurationResult",
    "UnknownNameError",
    "UnknownParameterError",
    "UnknownMetricError",
    "NoSelfReportDataError",
    "AnalysisInputError",
]

# Imported on first use: they pull in pandas, NumPy and SciPy.
_LAZY = {
    "SweepAnalyzer": "sweeplab.analysis.analyzer:SweepAnalyzer",
    "ParameterEffect": "sweeplab.analysis.compute.effects:ParameterEffect",
    "ConfigurationResult": "sweeplab.analysis.compute.effects:ConfigurationResult",
}


def __getattr__(name: str) -> object:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'sweeplab.analysis' has no attribute '{name}'")
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
