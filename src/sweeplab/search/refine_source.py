"""``strategy: refine`` in the engine: rounds of trials chosen by :mod:`.refine`, run by the scheduler.

Round 0 is the spec's coarse grid with its replicates (the very trials of a grid sweep with the
same spec, same keys: refining a finished grid in place reuses them all). Each next round is
decided once every trial of the round before has a final result, from every completed trial
so far; a round's trials are journaled together when it is decided. A resume rebuilds the
observations from the journal, runs the unfinished trials of the current round, and decides the
next round from there — the same decision an uninterrupted run makes, as it depends on the
journaled results alone.

The history of rounds is recomputed from the journal in the same way (:meth:`RefineSearch.history`)
and written with the threshold and its interval to ``search.json``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..planning.strategy import swept_paths
from ..trial import Trial, TrialStatus
from .refine import Decision, next_round
from .source import SearchSource, metric_value

if TYPE_CHECKING:
    from ..journal.writer import Journal
    from ..planning.resolve import ResolvedSweep
    from ..planning.search_plan import SearchPlan

__all__ = ["RefineSearch"]

log = logging.getLogger(__name__)


class RefineSearch(SearchSource):
    """Rounds of a threshold refinement over one parameter (see the module docstring)."""

    def __init__(self, sweep: ResolvedSweep, plan: SearchPlan, journal: Journal) -> None:
        super().__init__(sweep, plan, journal)
        spec = sweep.spec
        options = spec.refine
        self.path = swept_paths(spec)[0]
        self.metric = (options.metric if options and options.metric else spec.objectives[0].metric)
        self.resolution = options.resolution if options else 0.0
        self.levels_per_round = options.levels_per_round if options else 3
        self.replicates = sweep.replicates
        self.coarse = [row[0] for row in sweep.axes[0].rows]
        self.integer = all(isinstance(x, int) for x in self.coarse)  # whole-number levels stay whole
        self.values: dict[str, float] = {}   # key -> metric value of a completed trial
        self.missing = 0                     # completed trials without the metric
        self.stopped: str | None = None
        self.replay()

    # --- observations ----------------------------------------------------------------------------
    def _learn(self, trial: Trial, status: TrialStatus, metrics: dict[str, Any]) -> None:
        if status is not TrialStatus.COMPLETED:
            return
        value = metric_value(metrics, self.metric)
        if value is None:
            self.missing += 1
            log.warning("trial %s completed without the metric '%s' as a finite number: refine cannot use it",
                        trial.experiment_id, self.metric)
            return
        self.values[trial.key] = value

    def _level(self, trial: Trial) -> float:
        return trial.params[self.path]

    def _observations(self, trials: Sequence[Trial]) -> tuple[dict[float, list[float]], dict[float, int]]:
        observations: dict[float, list[float]] = {}
        registered: dict[float, int] = {}
        for trial in trials:
            level = self._level(trial)
            registered[level] = max(registered.get(level, 0), trial.repeat + 1)
            if trial.key in self.values:
                observations.setdefault(level, []).append(self.values[trial.key])
        return observations, registered

    def _decide(self, trials: Sequence[Trial], within: tuple[float, float] | None) -> Decision:
        observations, registered = self._observations(trials)
        return next_round(observations, registered, resolution=self.resolution,
                          levels_per_round=self.levels_per_round, replicates=self.replicates,
                          budget_left=self.plan.budget - len(trials), within=within, integer=self.integer)

    def _replay(self) -> tuple[list[dict[str, Any]], Decision | None]:
        """The rounds so far and the last decision, recomputed from the journaled trials in their order.

        Round 0 is the coarse grid; each round's decision (from the results of every round up to it,
        narrowed to the interval the round before located) says how many trials the next round
        holds. The last decision is the one to act on when every journaled trial has finished.
        """
        ordered = sorted(self.trials.values(), key=lambda t: t.index)
        coarse = {(x, r) for x in self.coarse for r in range(self.replicates)}
        start, size = 0, sum(1 for t in ordered if (self._level(t), t.repeat) in coarse)
        rounds: list[dict[str, Any]] = []
        within: tuple[float, float] | None = None
        decision: Decision | None = None
        while 0 < size <= len(ordered):
            included, new = ordered[:size], ordered[start:size]
            decision = self._decide(included, within)
            located = decision.located
            earlier = {self._level(t) for t in ordered[:start]}
            rounds.append({"round": len(rounds), "trials": len(new),
                           "levels": sorted({self._level(t) for t in new} - earlier),
                           "more_replicates": sorted({self._level(t) for t in new} & earlier),
                           "interval": [located.low, located.high] if located else None,
                           "estimate": located.estimate if located else None,
                           "step_z": _finite(located.step_z) if located else None,
                           "decision": decision.stop or f"{len(decision.add)} more trials"})
            if decision.stop is not None or not decision.add or located is None:
                break
            within = (located.low, located.high)
            if size + len(decision.add) > len(ordered):
                break  # the next round is decided but not journaled yet
            start, size = size, size + len(decision.add)
        return rounds, decision

    # --- SearchSource ---------------------------------------------------------------------------
    def _choose(self) -> Sequence[Trial] | None:
        if self._in_flight or self.stopped is not None:
            return None  # a round is decided on the whole of the round before
        known = {(self._level(t), t.repeat) for t in self.trials.values()}
        wanted = [(x, r) for x in self.coarse for r in range(self.replicates) if (x, r) not in known]
        if not wanted:
            _, decision = self._replay()
            if decision is None or decision.stop is not None:
                self.stopped = decision.stop if decision is not None else "no change"
                log.info("refine of sweep %s stops: %s", self.sweep_id, self.stopped)
                return None
            wanted = [item for item in decision.add if item not in known]
            for note in decision.notes:
                log.info("refine of sweep %s: %s", self.sweep_id, note)
        wanted = wanted[: max(0, self.plan.budget - self.registered)]
        if not wanted:
            self.stopped = "budget"
            return None
        first = self.next_index()
        return [self.plan.trial(first + i, {self.path: x}, r) for i, (x, r) in enumerate(wanted)]

    def _exhausted(self) -> bool:
        return self.stopped is not None

    # --- the result ---------------------------------------------------------------------------------
    def history(self) -> list[dict[str, Any]]:
        """The rounds so far (see :meth:`_replay`)."""
        return self._replay()[0]

    def summary(self) -> dict[str, Any]:
        summary = super().summary()
        rounds, decision = self._replay()
        located = decision.located if decision is not None else None
        summary.update(parameter=self.path, metric=self.metric, resolution=self.resolution,
                       stopped=self.stopped, missing_metric=self.missing,
                       threshold=None if located is None else {
                           "estimate": located.estimate, "interval": [located.low, located.high],
                           "width": located.width, "below": located.below, "above": located.above,
                           "step_z": _finite(located.step_z), "established": located.established},
                       rounds=rounds)
        return summary


def _finite(value: float) -> float | None:
    return None if value != value or value in (float("inf"), float("-inf")) else round(value, 3)
