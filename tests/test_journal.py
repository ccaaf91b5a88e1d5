"""The journal on a real SQLite file: attempts, atomic merge of a trial's rows, recovery marks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sweeplab.errors import JournalError
from sweeplab.journal.writer import Journal
from sweeplab.trial import Trial, TrialResult, TrialStatus

SWEEP = "j"


def make_trial(index: int = 1) -> Trial:
    return Trial(index=index, key=f"key{index}", experiment_id=f"j_exp{index:04d}", params={"x": index}, seed=7)


def attempt_db(folder: Path, rows: list[tuple[str, float]], with_id: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "experiment.db"
    conn = sqlite3.connect(path)
    if with_id:
        conn.execute("CREATE TABLE results (id INTEGER PRIMARY KEY, experiment_id TEXT, value REAL)")
        conn.executemany("INSERT INTO results (experiment_id, value) VALUES (?, ?)", rows)
    else:
        conn.execute("CREATE TABLE results (experiment_id TEXT, value REAL)")
        conn.executemany("INSERT INTO results VALUES (?, ?)", rows)
    conn.commit()
    conn.close()
    return path


def result(trial: Trial, attempt: int, status: TrialStatus, folder: Path, **fields) -> TrialResult:
    return TrialResult(key=trial.key, attempt=attempt, status=status, metrics={"v": 1.0},
                       start_time="2026-01-01T00:00:00+00:00", end_time="2026-01-01T00:00:01+00:00",
                       duration=1.0, exit_code=0 if status is TrialStatus.COMPLETED else 1,
                       attempt_dir=str(folder), **fields)


def rows(journal: Journal, sql: str, *params: object) -> list[tuple]:
    return [tuple(row) for row in journal.conn.execute(sql, params)]


@pytest.fixture
def journal(tmp_path: Path):
    created = Journal(tmp_path / "main.db")
    created.save_sweep(SWEEP, description="", tags=[], spec={}, base_config={}, base_hash="h", sweep_dir="d",
                       total_trials=2)
    yield created
    created.close()


def test_a_completed_attempt_merges_its_rows_with_its_completed_mark(journal: Journal, tmp_path: Path) -> None:
    trial = make_trial()
    folder = tmp_path / "a1"
    journal.start_attempt(SWEEP, trial, 1, str(folder), "host")
    assert journal.trial_states(SWEEP)[trial.key][0] == "running"
    db = attempt_db(folder, [(trial.experiment_id, 1.5)], with_id=True)
    journal.finish_attempt(SWEEP, result(trial, 1, TrialStatus.COMPLETED, folder), final=True, merge_db=db)
    assert rows(journal, "SELECT experiment_id, value FROM results") == [(trial.experiment_id, 1.5)]
    assert journal.completed_keys(SWEEP) == {trial.key}
    assert journal.counts(SWEEP) == {"completed": 1}


def test_a_failed_attempt_merges_nothing_and_goes_back_to_pending_when_retried(journal: Journal,
                                                                               tmp_path: Path) -> None:
    trial = make_trial()
    folder = tmp_path / "a1"
    journal.start_attempt(SWEEP, trial, 1, str(folder), "host")
    db = attempt_db(folder, [(trial.experiment_id, 9.0)])
    journal.finish_attempt(SWEEP, result(trial, 1, TrialStatus.FAILED, folder), final=False, merge_db=db)
    tables = {r[0] for r in journal.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "results" not in tables
    assert journal.trial_states(SWEEP)[trial.key][:2] == ("pending", 1)
    assert rows(journal, "SELECT status FROM attempts WHERE key = ?", trial.key) == [("failed",)]


def test_a_merge_that_fails_half_way_records_nothing(journal: Journal, tmp_path: Path) -> None:
    trial = make_trial()
    journal.conn.execute("CREATE TABLE results (experiment_id TEXT, value REAL)")
    journal.conn.execute("CREATE TABLE later (n INTEGER NOT NULL)")
    folder = tmp_path / "a1"
    journal.start_attempt(SWEEP, trial, 1, str(folder), "host")
    db = attempt_db(folder, [(trial.experiment_id, 1.0)])
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE later (n INTEGER)")
    conn.execute("INSERT INTO later VALUES (NULL)")  # violates the main table's NOT NULL after results merged
    conn.commit()
    conn.close()
    with pytest.raises(JournalError):
        journal.finish_attempt(SWEEP, result(trial, 1, TrialStatus.COMPLETED, folder), final=True, merge_db=db)
    assert journal.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0
    assert journal.trial_states(SWEEP)[trial.key][0] == "running"
    # the database is usable afterwards (no transaction left open, attempt db detached)
    journal.abandon_attempt(SWEEP, trial.key, 1, "test")
    assert journal.trial_states(SWEEP)[trial.key][0] == "cancelled"


def test_running_attempts_are_found_and_abandoned(journal: Journal, tmp_path: Path) -> None:
    first, second = make_trial(1), make_trial(2)
    journal.start_attempt(SWEEP, first, 1, str(tmp_path / "f"), "host")
    journal.set_attempt_process(SWEEP, first.key, 1, 4242, 4242)
    journal.start_attempt(SWEEP, second, 1, str(tmp_path / "s"), "host")
    journal.finish_attempt(SWEEP, result(second, 1, TrialStatus.COMPLETED, tmp_path / "s"), final=True)
    running = journal.running_attempts(SWEEP)
    assert [(a["key"], a["attempt"], a["pgid"]) for a in running] == [(first.key, 1, 4242)]
    journal.abandon_attempt(SWEEP, first.key, 1, "its coordinator stopped")
    assert journal.running_attempts(SWEEP) == []
    assert journal.counts(SWEEP) == {"cancelled": 1, "completed": 1}
    # the next attempt reuses the trial row and counts attempts
    journal.start_attempt(SWEEP, first, 2, str(tmp_path / "f2"), "host")
    assert journal.trial_states(SWEEP)[first.key][:2] == ("running", 2)
