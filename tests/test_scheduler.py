"""The scheduler: slots, RAM and CPU budgets from each trial's config, oversize trials, retries, order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweeplab.engine.resources import GIB, Budget
from sweeplab.engine.scheduler import (
    RETRY_BACKOFF,
    RETRY_BACKOFF_MAX,
    Scheduler,
    Ticket,
    order_by_hints,
)
from sweeplab.runners.base import TrialResources
from sweeplab.runners.command import declared_resources
from sweeplab.trial import Trial


def trial(index: int) -> Trial:
    return Trial(index=index, key=f"k{index}", experiment_id=f"s_exp{index:04d}", params={"i": index})


def budget(slots: int = 8, memory_gb: float = 8.0, cpus: int | None = None) -> Budget:
    return Budget(slots=slots, memory_bytes=int(memory_gb * GIB), cpus=cpus, jetson=False)


def scheduler_for(configs: dict[int, dict], the_budget: Budget) -> Scheduler:
    """A scheduler over trials 1..n whose demand comes from each trial's config, as the coordinator does."""
    demand = lambda t: declared_resources(configs[t.index])  # noqa: E731
    return Scheduler(the_budget, demand, [(trial(i), 1) for i in sorted(configs)])


def indexes(tickets: list[Ticket]) -> list[int]:
    return [t.trial.index for t in tickets]


def test_slots_limit_how_many_run_at_once() -> None:
    scheduler = scheduler_for({i: {} for i in range(1, 6)}, budget(slots=2))
    first = scheduler.take(0.0)
    assert indexes(first) == [1, 2] and scheduler.running == 2
    assert scheduler.take(0.0) == []
    scheduler.release(first[0])
    assert indexes(scheduler.take(0.0)) == [3]
    assert not scheduler.exhausted(0.0)


def test_ram_budget_admits_by_each_trials_own_memory() -> None:
    configs = {1: {"resource_constraints": {"ram_limit_gb": 3}},
               2: {"resource_constraints": {"ram_limit_gb": 4}},
               3: {"resource_constraints": {"ram_limit_gb": 2}},
               4: {"resource_constraints": {"ram_limit_gb": 1}}}
    scheduler = scheduler_for(configs, budget(slots=8, memory_gb=8))
    first = scheduler.take(0.0)
    assert indexes(first) == [1, 2]  # 3 + 4 = 7 GB; trial 3 (2 GB) would make 9 and waits, in order
    assert [t.resources.memory_gb for t in first] == [3.0, 4.0]
    scheduler.release(first[0])  # 4 GB in use
    assert indexes(scheduler.take(0.0)) == [3, 4]  # 4 + 2 + 1 = 7 GB


def test_cpu_budget_admits_by_each_trials_threads() -> None:
    configs = {1: {"resource_constraints": {"cpu_threads": 2}},
               2: {"resource_constraints": {"cpu_threads": 1}},
               3: {"resource_constraints": {"cpu_threads": 2}},
               4: {}}
    scheduler = scheduler_for(configs, budget(slots=8, cpus=3))
    first = scheduler.take(0.0)
    assert indexes(first) == [1, 2]
    assert [t.resources.cpu_threads for t in first] == [2, 1]
    scheduler.release(first[1])  # 2 threads in use: trial 3 (2) does not fit yet
    assert scheduler.take(0.0) == []
    scheduler.release(first[0])
    assert indexes(scheduler.take(0.0)) == [3, 4]


def test_cpu_is_not_limited_when_the_budget_has_no_cpu_cap() -> None:
    configs = {i: {"resource_constraints": {"cpu_threads": 4}} for i in range(1, 4)}
    assert indexes(scheduler_for(configs, budget(slots=3, cpus=None)).take(0.0)) == [1, 2, 3]


@pytest.mark.parametrize("big", [{"ram_limit_gb": 20}, {"cpu_threads": 16}])
def test_a_trial_larger_than_the_budget_runs_alone_and_never_deadlocks(big: dict) -> None:
    configs = {1: {}, 2: {"resource_constraints": big}, 3: {}}
    scheduler = scheduler_for(configs, budget(slots=4, memory_gb=8, cpus=4))
    first = scheduler.take(0.0)
    assert indexes(first) == [1]  # the oversize trial waits for the machine to be empty
    scheduler.release(first[0])
    alone = scheduler.take(0.0)
    assert indexes(alone) == [2] and alone[0].alone
    assert scheduler.take(0.0) == []  # nothing joins it
    scheduler.release(alone[0])
    assert indexes(scheduler.take(0.0)) == [3]
    assert scheduler.exhausted(0.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.floats(0.1, 40)), st.integers(1, 12)), min_size=1, max_size=12),
       st.integers(1, 4), st.floats(1, 16), st.one_of(st.none(), st.integers(1, 8)))
def test_every_trial_eventually_runs_within_the_budget(needs, slots, memory_gb, cpus) -> None:
    """Whatever the demands, the sweep drains, and only a lone oversize trial exceeds a budget."""
    demands = {i + 1: TrialResources(memory_gb=m, cpu_threads=c) for i, (m, c) in enumerate(needs)}
    the_budget = budget(slots=slots, memory_gb=memory_gb, cpus=cpus)
    scheduler = Scheduler(the_budget, lambda t: demands[t.index], [(trial(i), 1) for i in demands])
    running: list[Ticket] = []
    started: list[int] = []
    for _ in range(len(demands) * 2 + 2):
        running += scheduler.take(0.0)
        started = started + [t.trial.index for t in running if t.trial.index not in started]
        memory = sum((t.resources.memory_gb or 0) * GIB for t in running)
        threads = sum(t.resources.cpu_threads for t in running)
        assert len(running) <= slots
        if len(running) > 1:
            assert memory <= the_budget.memory_bytes
            assert cpus is None or threads <= cpus
        if not running:
            break
        scheduler.release(running.pop(0))
    assert scheduler.exhausted(0.0)
    assert sorted(started) == sorted(demands)


def test_retries_come_back_after_a_growing_capped_backoff() -> None:
    scheduler = scheduler_for({1: {}, 2: {}}, budget(slots=1))
    (ticket,) = scheduler.take(0.0)
    scheduler.release(ticket)
    delay = scheduler.retry(ticket.trial, 2, now=10.0)
    assert delay == RETRY_BACKOFF
    assert scheduler.next_retry_in(10.0) == pytest.approx(RETRY_BACKOFF)
    second = scheduler.take(10.0)
    assert indexes(second) == [2]  # the retry is not due: the next trial goes first
    scheduler.release(second[0])
    assert scheduler.take(10.0 + RETRY_BACKOFF / 2) == []
    assert not scheduler.exhausted(10.0 + RETRY_BACKOFF / 2)  # a retry is still queued
    again = scheduler.take(10.0 + RETRY_BACKOFF)
    assert [(t.trial.index, t.attempt) for t in again] == [(1, 2)]
    scheduler.release(again[0])
    assert scheduler.retry(trial(1), 3, now=20.0) == 2 * RETRY_BACKOFF
    assert scheduler.retry(trial(1), 30, now=20.0) == RETRY_BACKOFF_MAX
    assert scheduler.next_retry_in(20.0) == pytest.approx(2 * RETRY_BACKOFF)


def test_a_closed_scheduler_launches_nothing() -> None:
    scheduler = scheduler_for({1: {}, 2: {}}, budget(slots=2))
    scheduler.closed = True
    assert scheduler.take(0.0) == []


def test_order_by_hints_puts_the_longest_known_first_and_unknown_after_in_plan_order() -> None:
    pending = [(trial(i), 1) for i in range(1, 7)]
    hints = {1: 2.0, 3: 9.0, 4: None, 5: 5.0, 6: 9.0}
    ordered = order_by_hints(pending, lambda t: hints.get(t.index))
    assert [t.index for t, _ in ordered] == [3, 6, 5, 1, 2, 4]
    assert order_by_hints([], lambda t: 1.0) == []


# --- the lookahead on a cluster ------------------------------------------------------------------

def test_the_lookahead_admits_slots_plus_ahead_once_the_fail_fast_attempts_have_ended() -> None:
    from dataclasses import replace

    scheduler = scheduler_for({i: {} for i in range(1, 12)}, replace(budget(slots=2), ahead=2, ahead_after=3))
    first = scheduler.take(0.0)
    # the first 3 attempts decide max_failures: 3 may start, as many as would have by the third end without
    # the lookahead (2 at once, refilled after the first and second ends: 4), never more
    assert indexes(first) == [1, 2, 3]
    scheduler.release(first[0])
    assert scheduler.take(0.0) == []  # 1 ended, 2 out: 3 in all, not more
    scheduler.release(first[1])
    assert indexes(scheduler.take(0.0)) == [4]  # 2 ended: 2 out, as without the lookahead
    scheduler.release(first[2])  # the third ended attempt: from now on two more wait ahead
    assert indexes(scheduler.take(0.0)) == [5, 6, 7] and scheduler.running == 4
    assert scheduler.take(0.0) == []


def test_past_the_fail_fast_attempts_the_lookahead_is_refilled_in_groups() -> None:
    """With refill 2, trials are admitted once two places are free, two at a time (one message to the
    cluster); before the fail-fast attempts have ended, every end may start the next, as without it."""
    from dataclasses import replace

    scheduler = scheduler_for({i: {} for i in range(1, 30)}, replace(budget(slots=2), ahead=4, ahead_after=2,
                                                                      refill=2))
    first = scheduler.take(0.0)
    assert indexes(first) == [1, 2]  # (the fail-fast attempts: no more out than without the lookahead)
    scheduler.release(first[0])
    assert indexes(scheduler.take(0.0)) == [3]  # one end, one start: the group rule waits for the decision
    scheduler.release(first[1])
    out = scheduler.take(0.0)
    assert indexes(out) == [4, 5, 6, 7, 8] and scheduler.running == 6
    scheduler.release(out[0])
    assert scheduler.take(0.0) == []  # one place free: not yet
    scheduler.release(out[1])
    assert indexes(scheduler.take(0.0)) == [9, 10] and scheduler.running == 6


@pytest.mark.parametrize(("slots", "ahead", "after"), [(2, 2, 5), (2, 2, 1), (4, 4, 3), (1, 1, 5), (3, 3, 0)])
def test_before_the_fail_fast_decision_the_lookahead_starts_no_more_trials_than_without_it(
        slots: int, ahead: int, after: int) -> None:
    """Trials end one at a time; whenever ``after`` attempts have not all ended yet, the trials started in all
    are at most what the same ends would have started without the lookahead."""
    from dataclasses import replace

    with_ahead = scheduler_for({i: {} for i in range(1, 40)}, replace(budget(slots=slots), ahead=ahead,
                                                                      ahead_after=after))
    without = scheduler_for({i: {} for i in range(1, 40)}, budget(slots=slots))
    out_with, out_without = with_ahead.take(0.0), without.take(0.0)
    started_with, started_without = len(out_with), len(out_without)
    for ended in range(1, 30):
        if ended <= after:  # the start before this end: what the guard can still stop
            assert started_with <= max(started_without, after), (ended, started_with, started_without)
        with_ahead.release(out_with.pop(0))
        without.release(out_without.pop(0))
        more_with, more_without = with_ahead.take(0.0), without.take(0.0)
        out_with += more_with
        out_without += more_without
        started_with += len(more_with)
        started_without += len(more_without)
    assert with_ahead.running == slots + ahead and without.running == slots


def test_the_lookahead_scales_the_ram_and_cpu_budgets_but_not_the_oversize_limit() -> None:
    from dataclasses import replace

    # 2 slots + 2 ahead: 4 trials of 3 GB out at once against an 8 GB budget (the cluster's MEMORY
    # resources decide what runs); a 9 GB trial is still larger than the whole budget and runs alone
    configs = {i: {"resource_constraints": {"ram_limit_gb": 3, "cpu_threads": 1}} for i in range(1, 7)}
    configs[7] = {"resource_constraints": {"ram_limit_gb": 9}}
    configs[8] = {"resource_constraints": {"ram_limit_gb": 1}}
    scheduler = scheduler_for(configs, replace(budget(slots=2, memory_gb=8, cpus=2), ahead=2))
    first = scheduler.take(0.0)
    assert indexes(first) == [1, 2, 3, 4]  # 12 GB <= 8 GB x 4/2, 4 threads <= 2 x 4/2
    for ticket in first:
        scheduler.release(ticket)
    second = scheduler.take(0.0)
    assert indexes(second) == [5, 6]  # trial 7 is larger than the whole (unscaled) budget: it waits to run alone
    for ticket in second:
        scheduler.release(ticket)
    (alone,) = scheduler.take(0.0)
    assert alone.trial.index == 7 and alone.alone
    assert scheduler.take(0.0) == []  # nothing beside it
    scheduler.release(alone)
    assert indexes(scheduler.take(0.0)) == [8]


def test_without_a_lookahead_the_budgets_are_as_given() -> None:
    configs = {i: {"resource_constraints": {"ram_limit_gb": 3}} for i in range(1, 5)}
    scheduler = scheduler_for(configs, budget(slots=4, memory_gb=8))
    assert indexes(scheduler.take(0.0)) == [1, 2]
