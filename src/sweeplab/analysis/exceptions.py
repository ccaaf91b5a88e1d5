"""Errors the analysis can raise because of what the user asked for.

All derive from :class:`sweeplab.errors.UserError`, so the CLI turns them into one message
and exit code 2.

::

    UserError
    ├── UnknownNameError            a parameter or metric name the sweep does not have
    │   ├── UnknownParameterError
    │   └── UnknownMetricError
    ├── NoSelfReportDataError       self-report analysis of a sweep without self-reports
    └── AnalysisInputError          the sweep's files exist but cannot be analysed as asked
"""

from __future__ import annotations

from ..errors import UserError

__all__ = [
    "UnknownNameError",
    "UnknownParameterError",
    "UnknownMetricError",
    "NoSelfReportDataError",
    "AnalysisInputError",
]


class UnknownNameError(UserError):
    """A name that matches none (or more than one) of the names the sweep has."""


class UnknownParameterError(UnknownNameError):
    """A parameter name that is not one of the sweep's parameters."""


class UnknownMetricError(UnknownNameError):
    """A metric name that no trial of the sweep reported."""


class NoSelfReportDataError(UserError):
    """The sweep's database holds no self-report data (e.g. a generic command runner)."""


class AnalysisInputError(UserError):
    """The sweep exists but its data cannot be analysed as asked (bad option, missing database...)."""
