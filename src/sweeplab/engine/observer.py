"""What the engine tells the outside while a sweep runs (:class:`Observer`) and how a run ended
(:class:`SweepOutcome`).

The engine never draws: a screen (``sweeplab.console``) or a test implements the hooks. This module
imports nothing heavy, so that an observer can be written without loading the coordinator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..trial import Trial, TrialResult
    from .resources import Budget

__all__ = ["Observer", "SweepOutcome"]


class Observer:
    """Hooks the coordinator calls as a sweep runs, all from its one thread. The default does nothing.

    >>> class Count(Observer):
    ...     def __init__(self) -> None:
    ...         self.ended = 0
    ...     def trial_finished(self, trial, result, retry_in) -> None:
    ...         self.ended += 1
    """

    def started(self, total: int, done: int, budget: Budget) -> None:
        """The sweep starts: ``total`` trials in the plan, ``done`` of them completed before."""

    def trial_started(self, trial: Trial, attempt: int) -> None:
        """An attempt of ``trial`` was handed to the executor."""

    def trial_finished(self, trial: Trial, result: TrialResult, retry_in: float | None) -> None:
        """An attempt ended and is journaled; ``retry_in`` seconds until its retry, or None if final."""

    def stopping(self, force: bool, running: int) -> None:
        """An interrupt: no new trials start; with ``force`` the ``running`` ones are cancelled."""

    def attempts_running(self, count: int) -> None:
        """How many attempts run right now; called every round of the loop, after its launches.

        Exact, unlike counting hooks: an attempt's end is announced only once it is journaled, which
        may be after the next attempts have started in its slot.
        """

    def tick(self) -> None:
        """Called every round of the loop (at least once a second): a chance to redraw."""

    def finished(self, outcome: SweepOutcome) -> None:
        """The run is over and its views are written."""


@dataclass
class SweepOutcome:
    """How a run of the coordinator ended."""

    sweep_id: str
    counts: dict[str, int]
    total: int
    interrupted: bool = False
    warnings: list[str] = field(default_factory=list)
    plan_completed: int | None = None  # completed trials of this plan, when counts may include dropped ones

    @property
    def completed(self) -> int:
        """Completed trials of the plan."""
        return self.counts.get("completed", 0) if self.plan_completed is None else self.plan_completed

    @property
    def exit_code(self) -> int:
        """0 every trial completed; 1 some did not; 130 interrupted (resumable)."""
        if self.interrupted:
            return 130
        return 0 if self.completed == self.total else 1
