"""Which trial starts next: free slots, RAM and CPU budgets, retries with backoff, order.

The scheduler holds no processes and writes nothing; the coordinator asks it for trials to
launch (:meth:`Scheduler.take`) and tells it when one ends (:meth:`Scheduler.release`).

With a lookahead (:attr:`~sweeplab.engine.resources.Budget.ahead`, on a Dask cluster whose worker
threads cap what runs) it admits up to ``slots + ahead`` trials, and the RAM and CPU budgets it
checks grow in the same proportion, so that they do not cancel the lookahead: the cluster's threads
and its workers' ``MEMORY`` resources decide what actually runs at once. A trial larger than the
whole (unscaled) budget still runs alone. Past the first attempts, it admits trials only once
``budget.refill`` places are free, so that they go to the cluster together.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..runners.base import TrialResources
from ..trial import Trial
from .resources import GIB, Budget

__all__ = ["Scheduler", "Ticket", "TrialSource", "order_by_hints", "RETRY_BACKOFF", "RETRY_BACKOFF_MAX"]

log = logging.getLogger(__name__)

#: seconds before the first retry; doubles with every further attempt, up to the max
RETRY_BACKOFF = 0.5
RETRY_BACKOFF_MAX = 30.0
#: above this many pending trials, plan order is kept (sorting would build the plan in memory)
MAX_SORTED = 200_000


@dataclass(frozen=True)
class Ticket:
    """A trial admitted to run now, as its ``attempt``-th attempt, with the resources reserved."""

    trial: Trial
    attempt: int
    resources: TrialResources
    alone: bool = False  # larger than the whole budget: runs with nothing else


@runtime_checkable
class TrialSource(Protocol):
    """Trials chosen while the sweep runs (a search, :mod:`sweeplab.search`) instead of a fixed list.

    ``propose()`` gives the next (trial, attempt) or None when there is none now; ``finished`` says
    that None means never again. The coordinator tells the source each final result.
    """

    def propose(self) -> tuple[Trial, int] | None: ...

    @property
    def finished(self) -> bool: ...


def order_by_hints(pending: list[tuple[Trial, int]], hint: Callable[[Trial], float | None]) -> list[tuple[Trial, int]]:
    """Longest expected duration first for trials with a known duration; the rest after, in plan order."""
    known = [(hint(t), i, (t, a)) for i, (t, a) in enumerate(pending)]
    hinted = sorted((x for x in known if x[0] is not None), key=lambda x: (-x[0], x[1]))
    unknown = [x for x in known if x[0] is None]
    return [x[2] for x in hinted] + [x[2] for x in unknown]


class Scheduler:
    """Admission by slots and resources; retries come back after a backoff."""

    def __init__(self, budget: Budget, demand: Callable[[Trial], TrialResources],
                 pending: Iterable[tuple[Trial, int]] | TrialSource) -> None:
        self.budget = budget
        self._demand = demand
        # a search proposes its trials one by one, and may have none now but more later
        self._source = pending if isinstance(pending, TrialSource) else None
        self._pending: Iterator[tuple[Trial, int]] = iter(()) if self._source else iter(pending)  # type: ignore[arg-type]
        self._head: tuple[Trial, int] | None = None
        self._retries: list[tuple[float, int, Trial, int]] = []
        self._sequence = itertools.count()
        self._running = 0
        self._memory = 0.0
        self._cpus = 0
        self._ended = 0  # attempts released: the lookahead begins after budget.ahead_after of them
        self._alone = 0  # running trials larger than the whole budget: nothing else runs beside them
        self._warned: set[str] = set()
        self.closed = False  # no more launches (first Ctrl-C)

    @property
    def running(self) -> int:
        return self._running

    @property
    def admitted(self) -> int:
        """How many trials may be out at once now: the slots plus the lookahead.

        Until ``budget.ahead_after`` attempts have ended (the first attempts, which decide whether the
        sweep fails fast), no more trials start in all than without the lookahead by the time the last of
        them ends: ``ahead_after``, or the ended ones plus the slots.
        """
        budget = self.budget
        most = budget.slots + budget.ahead
        if self._ended >= budget.ahead_after:
            return most
        return max(budget.slots, min(most, budget.ahead_after - self._ended))

    def retry(self, trial: Trial, attempt: int, now: float) -> float:
        """Queue ``attempt`` of ``trial`` after a backoff; returns the delay."""
        delay = min(RETRY_BACKOFF_MAX, RETRY_BACKOFF * 2 ** max(0, attempt - 2))
        heapq.heappush(self._retries, (now + delay, next(self._sequence), trial, attempt))
        return delay

    def _peek(self, now: float) -> tuple[Trial, int, bool] | None:
        if self._retries and self._retries[0][0] <= now:
            _, _, trial, attempt = self._retries[0]
            return trial, attempt, True
        if self._head is None:
            self._head = self._source.propose() if self._source is not None else next(self._pending, None)
        if self._head is None:
            return None
        return self._head[0], self._head[1], False

    def peek(self, now: float) -> tuple[Trial, int] | None:
        """The trial (and attempt number) :meth:`take` would consider next, without taking it."""
        head = None if self.closed else self._peek(now)
        return None if head is None else (head[0], head[1])

    def _fits(self, need: TrialResources, admitted: int) -> tuple[bool, bool]:
        """(fits now, larger than the whole budget)."""
        memory = need.memory_gb * GIB if need.memory_gb else 0.0
        cpu_cap = self.budget.cpus
        oversize = memory > self.budget.memory_bytes or (cpu_cap is not None and need.cpu_threads > cpu_cap)
        if oversize:
            return self._running == 0, True
        if self._alone:  # (a scaled budget could make room beside it)
            return False, False
        # trials submitted ahead wait for a worker thread: the budgets grow with them (see the module docstring)
        scale = admitted / max(1, self.budget.slots)
        fits = self._memory + memory <= self.budget.memory_bytes * scale and (
            cpu_cap is None or self._cpus + need.cpu_threads <= cpu_cap * scale)
        return fits, False

    def take(self, now: float) -> list[Ticket]:
        """Trials to launch now, in order, as long as slots (plus the lookahead) and budgets allow."""
        tickets: list[Ticket] = []
        admitted = self.admitted
        if self._ended >= self.budget.ahead_after and self._running > admitted - self.budget.refill:
            return tickets  # (a lookahead: the next ones go out together, once ``refill`` places are free)
        while not self.closed and self._running < admitted:
            head = self._peek(now)
            if head is None:
                break
            trial, attempt, is_retry = head
            need = self._demand(trial)
            fits, oversize = self._fits(need, admitted)
            if not fits:
                break
            if is_retry:
                heapq.heappop(self._retries)
            else:
                self._head = None
            if oversize and trial.key not in self._warned:
                self._warned.add(trial.key)
                log.warning("trial %s needs more than the whole budget (%s GB RAM, %d threads); it runs alone",
                            trial.experiment_id, need.memory_gb, need.cpu_threads)
            self._running += 1
            self._alone += oversize
            self._memory += need.memory_gb * GIB if need.memory_gb else 0.0
            self._cpus += need.cpu_threads
            tickets.append(Ticket(trial, attempt, need, alone=oversize))
        return tickets

    def release(self, ticket: Ticket) -> None:
        """A launched trial ended: give its slot and resources back."""
        self._running -= 1
        self._ended += 1
        self._alone -= ticket.alone
        self._memory -= ticket.resources.memory_gb * GIB if ticket.resources.memory_gb else 0.0
        self._cpus -= ticket.resources.cpu_threads

    def next_retry_in(self, now: float) -> float | None:
        """Seconds until the earliest queued retry is due, if any."""
        return max(0.0, self._retries[0][0] - now) if self._retries else None

    def exhausted(self, now: float) -> bool:
        """Nothing left to launch, now or later."""
        return not self._retries and self._peek(now) is None and (self._source is None or self._source.finished)
