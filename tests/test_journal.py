"""The journal on a real SQLite file: attempts, atomic merge of a trial's rows, recovery marks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sweeplab.journal.writer import AttemptEnd, Journal
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


def test_a_merge_that_fails_half_way_fails_the_trial_and_merges_nothing(journal: Journal, tmp_path: Path) -> None:
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
    refused = journal.record(SWEEP, ends=[AttemptEnd(result(trial, 1, TrialStatus.COMPLETED, folder), True, db)])
    assert [end.result.status for end in refused] == [TrialStatus.FAILED]
    assert "NOT NULL constraint failed: later.n" in refused[0].result.error
    assert journal.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0
    assert journal.trial_states(SWEEP)[trial.key][:2] == ("failed", 1)
    (error,) = rows(journal, "SELECT error_message FROM trials WHERE key = ?", trial.key)[0]
    assert "could not be merged" in error and str(db) in error
    # the database is usable afterwards (no transaction left open, attempt db detached)
    journal.start_attempt(SWEEP, trial, 2, str(tmp_path / "a2"), "host")
    assert journal.trial_states(SWEEP)[trial.key][:2] == ("running", 2)
    assert [r[1] for r in journal.conn.execute("PRAGMA database_list")] == ["main"]


def finish_completed(journal: Journal, trial: Trial, folder: Path) -> list[AttemptEnd]:
    journal.start_attempt(SWEEP, trial, 1, str(folder), "host")
    return journal.record(SWEEP, ends=[AttemptEnd(result(trial, 1, TrialStatus.COMPLETED, folder), True,
                                                  folder / "experiment.db")])


def own_db(folder: Path, *statements: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / "experiment.db")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_two_trials_writing_the_same_primary_key_fail_the_second_one_only(journal: Journal, tmp_path: Path) -> None:
    first, second = make_trial(1), make_trial(2)
    for trial in (first, second):
        own_db(tmp_path / trial.key, "CREATE TABLE summary (name TEXT PRIMARY KEY, value REAL)",
               f"INSERT INTO summary VALUES ('best', {trial.index})")
    assert finish_completed(journal, first, tmp_path / first.key) == []
    (refused,) = finish_completed(journal, second, tmp_path / second.key)
    assert refused.result.status is TrialStatus.FAILED and refused.final
    assert "two trials wrote the same key" in refused.result.error
    assert "UNIQUE constraint failed: summary.name" in refused.result.error
    assert rows(journal, "SELECT name, value FROM summary") == [("best", 1.0)]
    assert journal.counts(SWEEP) == {"completed": 1, "failed": 1}
    assert rows(journal, "SELECT status, error_tail LIKE '%same key%' FROM attempts WHERE key = ?",
                second.key) == [("failed", 1)]


def test_a_table_with_more_columns_gets_them_added_and_loses_nothing(journal: Journal, tmp_path: Path) -> None:
    first, second = make_trial(1), make_trial(2)
    own_db(tmp_path / first.key, "CREATE TABLE results (experiment_id TEXT, value REAL)",
           "INSERT INTO results VALUES ('one', 1)")
    own_db(tmp_path / second.key, "CREATE TABLE results (experiment_id TEXT, value REAL, extra TEXT)",
           "INSERT INTO results VALUES ('two', 2, 'more')")
    assert finish_completed(journal, first, tmp_path / first.key) == []
    assert finish_completed(journal, second, tmp_path / second.key) == []
    assert rows(journal, "SELECT experiment_id, value, extra FROM results ORDER BY value") == [
        ("one", 1.0, None), ("two", 2.0, "more")]


def test_a_table_and_column_with_quotes_in_their_names_merge(journal: Journal, tmp_path: Path) -> None:
    trial = make_trial()
    own_db(tmp_path / "a", 'CREATE TABLE "we""ird" ("col""umn" TEXT, "id" INTEGER)',
           'CREATE INDEX "in""dex" ON "we""ird" ("col""umn")', """INSERT INTO "we""ird" VALUES ('x', 7)""")
    assert finish_completed(journal, trial, tmp_path / "a") == []
    assert rows(journal, 'SELECT "col""umn", id FROM "we""ird"') == [("x", 7)]
    assert rows(journal, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", 'we"ird') == [
        ('in"dex',)]


@pytest.mark.parametrize(("content", "reason"), [
    ("text", "is not an SQLite database"),
    ("corrupt", "is corrupt"),
    ("reserved", "names the sweep journal uses for itself"),
])
def test_an_unmergeable_database_fails_its_trial_with_the_reason(journal: Journal, tmp_path: Path, content: str,
                                                                 reason: str) -> None:
    trial = make_trial()
    folder = tmp_path / "a"
    if content == "text":
        folder.mkdir()
        (folder / "experiment.db").write_text("no database here\n" * 100)
    elif content == "reserved":
        own_db(folder, "CREATE TABLE attempts (x TEXT)", "INSERT INTO attempts VALUES ('mine')")
    else:
        own_db(folder, "CREATE TABLE results (x TEXT)",
               *[f"INSERT INTO results VALUES ('{'y' * 400}')" for _ in range(100)])
        with open(folder / "experiment.db", "r+b") as handle:
            handle.seek(4096)
            handle.write(b"\xff" * 20000)
    (refused,) = finish_completed(journal, trial, folder)
    assert reason in refused.result.error
    assert journal.trial_states(SWEEP)[trial.key][:2] == ("failed", 1)
    assert rows(journal, "SELECT COUNT(*) FROM attempts WHERE status = 'completed'") == [(0,)]
    assert "results" not in journal.tables()


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
