"""Runners decide what a trial executes; see :mod:`sweeplab.runners.base`."""

from .base import Runner, TrialResources, available_runners, get_runner, register_runner

__all__ = ["Runner", "TrialResources", "available_runners", "get_runner", "register_runner"]
