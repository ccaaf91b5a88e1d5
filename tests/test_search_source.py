"""A search as the scheduler sees it, and a search rebuilt from the journal (in process, real SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sweeplab.engine.resources import GIB, Budget
from sweeplab.engine.scheduler import Scheduler
from sweeplab.journal.writer import AttemptEnd, AttemptStart, Journal
from sweeplab.planning.resolve import resolve
from sweeplab.planning.search_plan import SearchPlan, plan_for
from sweeplab.planning.spec import spec_from_mapping
from sweeplab.runners.base import TrialResources
from sweeplab.search import open_search
from sweeplab.search.bayesian import BayesianSearch
from sweeplab.search.refine_source import RefineSearch
from sweeplab.trial import Trial, TrialResult, TrialStatus


class Rounds:
    """A source that proposes trials in rounds: none while a round runs, then the next round."""

    def __init__(self, rounds: list[list[Trial]]) -> None:
        self.rounds = rounds
        self.current: list[Trial] = []
        self.running = 0

    def propose(self) -> tuple[Trial, int] | None:
        if not self.current and not self.running and self.rounds:
            self.current = self.rounds.pop(0)
        if not self.current:
            return None
        self.running += 1
        return self.current.pop(0), 1

    @property
    def finished(self) -> bool:
        return not self.rounds and not self.current and not self.running


def _trial(index: int) -> Trial:
    return Trial(index=index, key=f"k{index}", experiment_id=f"e{index}", params={"x": index})


def test_the_scheduler_waits_for_a_search_between_rounds_and_ends_when_it_is_finished() -> None:
    source = Rounds([[_trial(1), _trial(2), _trial(3)], [_trial(4)]])
    budget = Budget(slots=2, memory_bytes=8 * GIB, cpus=None, jetson=False)
    scheduler = Scheduler(budget, lambda trial: TrialResources(), source)
    first = scheduler.take(0.0)
    assert [t.trial.index for t in first] == [1, 2]
    for ticket in first:
        scheduler.release(ticket)
        source.running -= 1
    second = scheduler.take(0.0)
    assert [t.trial.index for t in second] == [3]
    assert scheduler.take(0.0) == [] and not scheduler.exhausted(0.0)  # round 1 waits for trial 3
    scheduler.release(second[0])
    source.running -= 1
    third = scheduler.take(0.0)
    assert [t.trial.index for t in third] == [4]
    scheduler.release(third[0])
    source.running -= 1
    assert scheduler.exhausted(0.0)


def _sweep(tmp_path: Path, **keys: object):
    (tmp_path / "base.json").write_text(json.dumps({"x": 0.5, "y": 0.5}))
    spec = spec_from_mapping({"sweep_id": "s", "base_config": str(tmp_path / "base.json"), "runner": "command",
                              "command": ["true"], "output_dir": str(tmp_path / "out"),
                              "db_path": str(tmp_path / "db.sqlite"), **keys})
    sweep = resolve(spec)
    sweep.sweep_dir.mkdir(parents=True)
    return sweep


def _finish(journal: Journal, trial: Trial, metrics: dict[str, float], status: TrialStatus) -> None:
    start = AttemptStart(trial, 1, "", "host", "2026-01-01T00:00:00")
    result = TrialResult(key=trial.key, attempt=1, status=status, metrics=metrics)
    journal.record("s", starts=[start], ends=[AttemptEnd(result, final=True)])


def test_a_bayesian_search_is_rebuilt_from_the_journal(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path, strategy="bayesian", n_trials=6, objective={"metric": "m", "direction": "maximize"},
                   sweep={"x": {"uniform": [0, 1]}, "y": {"choice": [0.25, 0.5, 0.75]}})
    plan = plan_for(sweep)
    assert isinstance(plan, SearchPlan) and len(plan) == 6 and list(plan) == []
    journal = Journal(sweep.db_path)
    first = open_search(sweep, plan, journal)
    chosen = [first.propose() for _ in range(4)]  # four asked, as four free slots would
    trials = [trial for trial, attempt in chosen if attempt == 1]
    assert [t.index for t in trials] == [1, 2, 3, 4]
    _finish(journal, trials[0], {"m": 0.7}, TrialStatus.COMPLETED)
    _finish(journal, trials[1], {}, TrialStatus.FAILED)
    # the coordinator dies here: trials 3 and 4 are journaled as chosen, never finished
    again = open_search(sweep, plan, journal)
    assert isinstance(again, BayesianSearch)
    states = [t.state.name for t in again.study.trials]
    assert states.count("COMPLETE") == 1 and states.count("RUNNING") == 3  # 2 failed, 3 and 4 pending: run again
    rerun = [again.propose() for _ in range(3)]
    assert [(t.index, a) for t, a in rerun] == [(2, 2), (3, 1), (4, 1)]  # the failed one's second attempt
    assert {t.key: t.params for t, _ in rerun} == {t.key: t.params for t in trials[1:]}
    new = again.propose()
    assert new is not None and new[0].index == 5 and new[1] == 1
    assert again.propose() is not None and again.propose() is None  # the budget of 6 is spent
    assert not again.finished


def test_a_refine_search_rebuilds_its_rounds_and_its_next_decision(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path, strategy="refine", n_trials=30, repeats=2,
                   refine={"metric": "m", "resolution": 0.05}, sweep={"x": [0.0, 0.25, 0.5, 0.75, 1.0]})
    plan = plan_for(sweep)
    journal = Journal(sweep.db_path)
    search = open_search(sweep, plan, journal)
    coarse = [search.propose() for _ in range(10)]
    assert search.propose() is None and not search.finished  # the next round waits for the coarse grid
    for trial, _ in coarse:
        value = 1.0 if trial.params["x"] >= 0.6 else 0.0
        _finish(journal, trial, {"m": value + 0.01 * trial.repeat}, TrialStatus.COMPLETED)
        search.tell(trial, TrialResult(key=trial.key, attempt=1, status=TrialStatus.COMPLETED,
                                       metrics={"m": value + 0.01 * trial.repeat}))
    live = search.propose()
    assert live is not None and 0.5 < live[0].params["x"] < 0.75 and live[0].index == 11
    rebuilt = open_search(sweep, plan, journal)  # as after kill -9: the round just chosen is in the journal
    assert isinstance(rebuilt, RefineSearch)
    rounds = rebuilt.history()
    assert [r["trials"] for r in rounds] == [10, 6] and rounds[0]["interval"] == [0.5, 0.75]
    assert rounds[1]["levels"] == [0.5625, 0.625, 0.6875]
    again = [rebuilt.propose() for _ in range(6)]
    assert {t.key for t, _ in again} == {t.key for t in search.trials.values() if t.index > 10}


@pytest.mark.parametrize("strategy", ["random", "lhs", "sobol", "grid"])
def test_designs_and_grids_keep_a_plan_of_every_trial(tmp_path: Path, strategy: str) -> None:
    keys = {"n_trials": 5, "sweep": {"x": {"uniform": [0, 1]}}} if strategy != "grid" else {"sweep": {"x": [1, 2]}}
    sweep = _sweep(tmp_path, strategy=strategy, **keys)
    plan = plan_for(sweep)
    assert not isinstance(plan, SearchPlan) and len(list(plan)) == len(plan) == (5 if strategy != "grid" else 2)
