"""A search's side of the scheduler: it proposes trials, and hears how each one ended.

:class:`SearchSource` is what the coordinator hands the scheduler instead of a list of trials when
the strategy chooses its trials while it runs (bayesian, refine). Its contract:

* :meth:`~SearchSource.propose` returns the next (trial, attempt number) to start, or None when
  there is none *now* (a refine round waits for its last trial; the budget is spent).
  :attr:`~SearchSource.finished` says whether None means never again.
* Every trial is journaled (``pending``, with its number, key, parameters and seed) the moment it
  is chosen, before it starts (:meth:`~sweeplab.journal.writer.Journal.register_trials`).
* :meth:`~SearchSource.tell` is called with a trial's final result after that result is committed
  to the journal: what the search learns is always what the journal holds.
* Built from the journal: a resume (even after ``kill -9``) re-reads every journaled trial, tells
  the search the finished ones, and runs the unfinished ones again under their own numbers before
  anything new is chosen — no trial is repeated, none is lost.

Only the coordinator's thread uses a source; it is not thread-safe.
"""

from __future__ import annotations

import json
import logging
import math
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..journal.views import write_json_atomic
from ..planning.strategy import SEARCH_FILE
from ..trial import Trial, TrialResult, TrialStatus

if TYPE_CHECKING:
    from ..journal.reader import TrialRecord
    from ..journal.writer import Journal
    from ..planning.resolve import ResolvedSweep
    from ..planning.search_plan import SearchPlan

__all__ = ["SearchSource", "SEARCH_FILE", "metric_value"]

log = logging.getLogger(__name__)

def metric_value(metrics: dict[str, Any], name: str) -> float | None:
    """The finite number a trial reported as ``name``, or None."""
    value = metrics.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


class SearchSource:
    """Proposes a search's trials and learns their results (see the module docstring).

    Subclasses implement :meth:`_learn` (a finished trial, also those replayed from the journal),
    :meth:`_choose` (the next trials, or None) and :meth:`_exhausted`, and may add to :meth:`summary`.
    """

    def __init__(self, sweep: ResolvedSweep, plan: SearchPlan, journal: Journal) -> None:
        self.sweep = sweep
        self.plan = plan
        self.journal = journal
        self.sweep_id = sweep.sweep_id
        self._queue: deque[tuple[Trial, int]] = deque()  # chosen or unfinished, not started yet
        self._in_flight: dict[str, Trial] = {}  # started, final result not told yet
        self.registered = 0   # trials journaled (every number up to here is taken)
        self.told = 0         # final results learnt
        self.trials: dict[str, Trial] = {}  # every journaled trial by key

    # --- built from the journal ---------------------------------------------------------------
    def replay(self) -> None:
        """Learn every finished trial of the journal, queue the unfinished ones (call once, first)."""
        records = sorted(self.journal.trial_records(self.sweep_id), key=lambda r: r.idx)
        self.registered = max((r.idx for r in records), default=0)
        for record in records:
            trial = self._trial_of(record)
            self.trials[trial.key] = trial
            if record.status == TrialStatus.COMPLETED.value:
                self._learn(trial, TrialStatus.COMPLETED, json.loads(record.metrics_json or "{}"))
                self.told += 1
            else:  # unfinished, cancelled by a dead coordinator, or failed: it runs again, as a grid's would
                self._pending(trial)
                self._queue.append((trial, record.attempts + 1))
        log.info("search of sweep %s rebuilt from the journal: %d trial(s), %d to run again",
                 self.sweep_id, len(records), len(self._queue))

    def _trial_of(self, record: TrialRecord) -> Trial:
        params = json.loads(record.params_json)
        made = self.plan.trial(record.idx, params, record.repeat)
        # the journal's key and id win (a resume across an allowed drift moves keys)
        return Trial(index=record.idx, key=record.key, experiment_id=record.experiment_id, params=params,
                     repeat=record.repeat, seed=made.seed, label=record.label)

    # --- the scheduler's side ---------------------------------------------------------------------
    def propose(self) -> tuple[Trial, int] | None:
        """The next (trial, attempt) to start, or None when there is none now."""
        if not self._queue:
            chosen = self._choose()
            if chosen:
                self.journal.register_trials(self.sweep_id, chosen)
                self.registered = max(self.registered, *(t.index for t in chosen))
                for trial in chosen:
                    self.trials[trial.key] = trial
                    self._queue.append((trial, 1))
                self.write_summary()
        if not self._queue:
            return None
        trial, attempt = self._queue.popleft()
        self._in_flight[trial.key] = trial
        return trial, attempt

    @property
    def finished(self) -> bool:
        """Nothing queued, nothing running, and nothing more to choose."""
        return not self._queue and not self._in_flight and self._exhausted()

    @property
    def waiting(self) -> bool:
        """Trials are running whose results the search waits for."""
        return bool(self._in_flight)

    def tell(self, trial: Trial, result: TrialResult) -> None:
        """A trial's final result, as journaled. A cancelled trial (the sweep stopping) is not learnt:
        it runs again on resume."""
        if self._in_flight.pop(trial.key, None) is None:
            return
        if result.status is TrialStatus.CANCELLED:
            return
        self._learn(trial, result.status, dict(result.metrics))
        self.told += 1
        self.write_summary()

    def next_index(self) -> int:
        """The number of the next trial chosen (numbers are never reused)."""
        return self.registered + 1

    # --- for subclasses ----------------------------------------------------------------------------
    def _pending(self, trial: Trial) -> None:
        """A journaled trial that runs again (replay); subclasses may note it."""

    def _learn(self, trial: Trial, status: TrialStatus, metrics: dict[str, Any]) -> None:
        raise NotImplementedError

    def _choose(self) -> Sequence[Trial] | None:
        raise NotImplementedError

    def _exhausted(self) -> bool:
        raise NotImplementedError

    # --- the view --------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """What the search has found so far (written to ``search.json``)."""
        return {"sweep_id": self.sweep_id, "strategy": self.sweep.spec.strategy, "budget": self.plan.budget,
                "registered": self.registered, "told": self.told, "running": len(self._in_flight),
                "finished": self.finished}

    def write_summary(self) -> None:
        """Rewrite ``search.json`` in the sweep folder (a view: the journal is the truth)."""
        write_json_atomic(self.sweep.sweep_dir / SEARCH_FILE, self.summary())
