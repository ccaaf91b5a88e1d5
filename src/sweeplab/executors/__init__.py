"""Executors decide where a trial's process runs; see :mod:`sweeplab.executors.base`."""

from .base import Capacity, Executor, Job

__all__ = ["Capacity", "Executor", "Job"]
