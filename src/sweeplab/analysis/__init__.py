"""Read-only analysis of sweeps: statistics, tests, thresholds, reports and plots.

>>> from sweeplab.analysis import SweepAnalyzer
>>> analyzer = SweepAnalyzer("sweep_demo")                      # doctest: +SKIP
>>> print(analyzer.generate_summary_report())                  # doctest: +SKIP
"""

from __future__ import annotations

from .analyzer import ConfigurationResult, ParameterEffect, SweepAnalyzer
from .exceptions import (
    AnalysisInputError,
    NoSelfReportDataError,
    UnknownMetricError,
    UnknownNameError,
    UnknownParameterError,
)

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
