"""Faults of a trial itself, by real ``sweeplab`` processes: a trial's database that cannot be merged
fails that trial (never the coordinator), and every process a trial started ends with it."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import psutil
import pytest
from helpers.engine_support import Workspace, finish, kill_session, pid_gone, wait_until
from helpers.fault_support import FAULT_TRIAL, fault_spec, no_traceback, runs_of


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


def escaped_pid(workspace: Workspace, experiment_id: str) -> int:
    return int((workspace.state / f"{experiment_id}.escaped").read_text())


@pytest.mark.parametrize("end", ["normal", "timeout", "double Ctrl-C"])
def test_a_process_that_left_the_trials_session_ends_with_the_trial(workspace: Workspace, end: str) -> None:
    """The trial forks a grandchild that calls setsid() and is daemonised (its parent exits): it is
    in no process group of the trial and no longer its descendant, yet it must not outlive it."""
    sweep_id = "escape_" + end.split()[-1].lower().replace("-", "")
    keys = {"timeout": 2, "max_retries": 0} if end == "timeout" else {}
    sweep = {"value": [1.0], "escape": [True], "hang": [end != "normal"]}
    workspace.write_base(gate="go")  # the normal end waits until the escape is seen
    spec = fault_spec(workspace, sweep_id, sweep, **keys)
    experiment_id = f"{sweep_id}_exp0001_value=1.0_escape=true_hang={str(end != 'normal').lower()}"
    process = workspace.start("run", spec)
    try:
        marker = workspace.state / f"{experiment_id}.escaped"
        wait_until(lambda: marker.exists() or process.poll() is not None, "the grandchild to escape")
        stray = escaped_pid(workspace, experiment_id)
        (run,) = (workspace.state / "runs").glob(f"{experiment_id}.*")
        trial_pid = int(run.name.rsplit(".", 1)[1])
        # another session and group than the trial's: signalling the trial's group misses it
        assert os.getsid(stray) != trial_pid and os.getpgid(stray) != trial_pid
        (workspace.state / "go").touch()
        if end == "double Ctrl-C":
            assert process.poll() is None
            os.kill(process.pid, signal.SIGINT)
            wait_until(lambda: workspace.count_events(sweep_id, "stopping") >= 1, "the first Ctrl-C to be seen")
            os.kill(process.pid, signal.SIGINT)
        code, out, err = finish(process)
    finally:
        kill_session(process)
    assert code == {"normal": 0, "timeout": 1, "double Ctrl-C": 130}[end], out + err
    if end == "timeout":
        assert workspace.trial_rows(sweep_id)[experiment_id][0] == "timeout"
    # gone once the coordinator has exited: no waiting for it
    assert pid_gone(stray), psutil.Process(stray).as_dict(["status", "ppid", "cmdline"])


def test_a_remote_workers_attempt_ends_what_left_its_session_too(tmp_path: Path) -> None:
    """run_attempt (what a Dask worker runs; the worker is no subreaper) finds the escaped process by
    the attempt folder in its environment."""
    from sweeplab.executors.attempt import run_attempt
    from sweeplab.trial import TrialLaunch, TrialStatus

    state = tmp_path / "state"
    state.mkdir()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"state_dir": str(state), "escape": True}))
    attempt_dir = tmp_path / "attempt-1"
    attempt_dir.mkdir()
    launch = TrialLaunch(sweep_id="s", key="k", experiment_id="e", attempt=1, cwd=str(tmp_path),
                         argv=(sys.executable, str(FAULT_TRIAL), str(config), str(attempt_dir / "experiment.db"),
                               "e", str(attempt_dir)), attempt_dir=str(attempt_dir))
    result = run_attempt(launch)
    assert result.status is TrialStatus.COMPLETED, result.error
    stray = int((state / "e.escaped").read_text())
    wait_until(lambda: pid_gone(stray), "the escaped process to die")
    try:  # reaped by init, or (were this process a subreaper) by us
        os.waitpid(stray, os.WNOHANG)
    except ChildProcessError:
        pass
