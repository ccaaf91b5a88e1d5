"""Interrupting a real coordinator: SIGINT once drains, SIGINT twice or SIGTERM cancels; both resume."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from helpers.engine_support import Workspace, finish, kill_session, pid_gone, wait_until

from sweeplab.engine.folder import config_file_name
from sweeplab.engine.staging import trial_folders

TRIALS = 6


def start_gated(workspace: Workspace, sweep_id: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start a sweep whose trials wait for the file ``state/open``; return it once two trials run."""
    workspace.write_base(gate="open")
    spec = workspace.spec(sweep_id, {"value": [float(v) for v in range(TRIALS)]}, parallel=2)
    process = workspace.start("run", spec)
    def two_running() -> list[str] | None:
        assert process.poll() is None, process.communicate()
        started = [e["experiment_id"] for e in workspace.events(sweep_id) if e["event"] == "started"]
        if len(started) == 2 and all((workspace.state / f"{i}.1.pid").exists() for i in started):
            return started
        return None
    return process, wait_until(two_running, "two trials to run")


def wait_stopping(workspace: Workspace, sweep_id: str, process: subprocess.Popen[str], force: bool) -> None:
    wait_until(lambda: process.poll() is not None or workspace.count_events(sweep_id, "stopping", force=force),
               f"the coordinator to announce stopping (force={force})")


def resume_completes_everything(workspace: Workspace, sweep_id: str) -> None:
    (workspace.state / "open").touch()
    resumed = workspace.resume(sweep_id)
    assert resumed.returncode == 0, resumed.stderr
    rows = workspace.trial_rows(sweep_id)
    assert len(rows) == TRIALS and {s for s, _ in rows.values()} == {"completed"}
    assert workspace.result_counts(sweep_id + "_") == {experiment_id: 1 for experiment_id in rows}


def test_one_sigint_stops_launching_lets_running_trials_finish_and_resumes(workspace: Workspace) -> None:
    process, running = start_gated(workspace, "drain")
    try:
        os.kill(process.pid, signal.SIGINT)
        wait_stopping(workspace, "drain", process, force=False)
        (workspace.state / "open").touch()  # only now may the running trials end
        code, out, err = finish(process)
    finally:
        kill_session(process)
    assert code == 130, err
    assert "no new trials will start" in err
    rows = workspace.trial_rows("drain")
    assert rows == {experiment_id: ("completed", 1) for experiment_id in running}  # nothing else started
    assert workspace.count_events("drain", "started") == 2
    assert workspace.query("SELECT status FROM sweeps WHERE sweep_id = 'drain'") == [("interrupted",)]
    # the trial prepared ahead of its start (folder, config) leaves no trace when it never starts
    folder = workspace.sweep_dir("drain")
    started_keys = {key for (key,) in workspace.query("SELECT key FROM trials WHERE sweep_id = 'drain'")}
    assert set(trial_folders(str(folder / "trials"))) == started_keys
    assert sorted(p.name for p in folder.glob("exp*_config.json")) == sorted(
        config_file_name("drain", experiment_id) for experiment_id in running)
    resume_completes_everything(workspace, "drain")


@pytest.mark.parametrize("how", ["sigint-twice", "sigterm"])
def test_forced_stop_cancels_running_trials_and_resume_completes(workspace: Workspace, how: str) -> None:
    sweep_id = how.replace("-", "_")
    process, running = start_gated(workspace, sweep_id)
    pids = [workspace.pid_of(experiment_id, 1) for experiment_id in running]
    try:
        if how == "sigterm":
            os.kill(process.pid, signal.SIGTERM)
        else:
            os.kill(process.pid, signal.SIGINT)
            wait_stopping(workspace, sweep_id, process, force=False)
            assert process.poll() is None  # one Ctrl-C waits for the gated trials
            os.kill(process.pid, signal.SIGINT)
        code, out, err = finish(process)
    finally:
        kill_session(process)
    assert code == 130, err
    assert workspace.count_events(sweep_id, "stopping", force=True) == 1
    assert all(pid_gone(pid) for pid in pids)
    assert workspace.trial_rows(sweep_id) == {experiment_id: ("cancelled", 1) for experiment_id in running}
    assert workspace.query("SELECT status FROM attempts WHERE sweep_id = ?", sweep_id) == [("cancelled",)] * 2
    resume_completes_everything(workspace, sweep_id)
    for experiment_id in running:
        assert workspace.trial_rows(sweep_id)[experiment_id] == ("completed", 2)
