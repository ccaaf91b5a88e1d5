"""Faults of a trial itself, by real ``sweeplab`` processes: a trial's database that cannot be merged
fails that trial (never the coordinator), and every process a trial started ends with it."""

from __future__ import annotations

import pytest
from helpers.engine_support import Workspace
from helpers.fault_support import fault_spec, no_traceback, runs_of


@pytest.mark.parametrize("bad", ["same_key", "not_sqlite", "corrupt", "reserved"])
def test_a_trial_whose_database_cannot_be_merged_fails_alone_and_resume_does_not_wedge(workspace: Workspace,
                                                                                      bad: str) -> None:
    sweep_id = f"merge_{bad}"
    # every trial writes the same key under 'same_key': the first one merged wins, the others fail
    spec = fault_spec(workspace, sweep_id, {"value": [1.0, 2.0, 3.0], "db": ["ok", bad]}, parallel=2)
    done = workspace.run("run", spec)
    no_traceback(done.stderr)
    assert done.returncode == 1, done.stderr  # some trials did not complete: not a crash of the sweep
    rows = workspace.trial_rows(sweep_id)
    assert len(rows) == 6
    statuses = sorted(status for status, _ in rows.values())
    failed = [eid for eid, (status, _) in rows.items() if status == "failed"]
    expected_failures = 2 if bad == "same_key" else 3
    assert statuses.count("failed") == expected_failures and statuses.count("completed") == 6 - expected_failures
    assert "running" not in statuses
    for eid in failed:
        (error,) = workspace.query("SELECT error_message FROM trials WHERE experiment_id = ?", eid)[0]
        assert "could not be merged" in error, error
        assert len(runs_of(workspace, eid)) == 1  # a bad database is not retried: it would be as bad again
    assert workspace.query("SELECT COUNT(*) FROM attempts WHERE sweep_id = ? AND status = 'running'",
                           sweep_id) == [(0,)]
    status = workspace.run("status", sweep_id, "--sweep-dir", workspace.output_rel)
    assert status.returncode == 0 and "could not be merged" in status.stdout, status.stdout + status.stderr

    before = {eid: len(runs_of(workspace, eid)) for eid in rows}
    resumed = workspace.resume(sweep_id)
    no_traceback(resumed.stderr)
    assert resumed.returncode == 1, resumed.stderr
    after = workspace.trial_rows(sweep_id)
    for eid, (status_before, _) in rows.items():
        # completed trials never run again; the failed ones run once more and fail the same way
        assert len(runs_of(workspace, eid)) == before[eid] + (status_before == "failed")
        assert after[eid][0] == status_before


def test_tables_of_other_shapes_and_odd_names_merge_without_losing_a_row(workspace: Workspace) -> None:
    sweep_id = "shapes"
    spec = fault_spec(workspace, sweep_id, {"value": [1.0, 2.0], "db": ["ok", "wide", "weird"]}, parallel=2)
    done = workspace.run("run", spec)
    assert done.returncode == 0, done.stderr
    assert sorted(workspace.query("SELECT value, COALESCE(extra, '') FROM results")) == [
        (1.0, ""), (1.0, "wide"), (2.0, ""), (2.0, "wide")]
    assert workspace.query('SELECT COUNT(*) FROM "we""ird"') == [(2,)]
