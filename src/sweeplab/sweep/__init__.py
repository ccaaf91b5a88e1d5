"""The Python API: :class:`ExperimentSweep` and what its runs give back.

``api`` holds the sweep, ``results`` the per-trial records and the list that shows itself in a
notebook, ``inputs`` the turning of a function object or a dict base config into files a
resume finds again.
"""

from __future__ import annotations

from .api import ExperimentSweep
from .results import LabSweepResult, SweepResult, SweepResults

__all__ = ["ExperimentSweep", "LabSweepResult", "SweepResult", "SweepResults"]
