"""kill -9 of a real coordinator at different moments, then ``sweeplab resume``: every trial recorded
exactly once, none lost, trials left running by the dead coordinator ended first."""

from __future__ import annotations

import os
import signal

import pytest
from helpers.engine_support import Workspace, kill_session, pid_gone, wait_until

TRIALS = 20


def kill_coordinator(workspace: Workspace, sweep_id: str, event: str, count: int) -> None:
    """Start the sweep, SIGKILL its coordinator once ``count`` ``event`` lines are in events.jsonl."""
    process = workspace.start("run", workspace.root / f"{sweep_id}.yaml")
    try:
        wait_until(lambda: workspace.count_events(sweep_id, event) >= count or process.poll() is not None,
                   f"{count} '{event}' events")
        assert process.poll() is None, f"the sweep ended before it could be killed: {process.communicate()}"
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        kill_session(process)


@pytest.mark.slow
@pytest.mark.parametrize(("event", "count"), [("finished", 1), ("finished", 7), ("finished", 15), ("started", 4)])
def test_kill_9_then_resume_records_every_trial_exactly_once(workspace: Workspace, event: str, count: int) -> None:
    sweep_id = f"killed_{event}_{count}"
    workspace.spec(sweep_id, {"value": [float(v) for v in range(TRIALS)]}, parallel=2)
    workspace.write_base(sleep=0.05)
    kill_coordinator(workspace, sweep_id, event, count)
    before = workspace.trial_rows(sweep_id)
    assert sum(1 for status, _ in before.values() if status == "completed") >= (count if event == "finished" else 0)
    assert sum(1 for status, _ in before.values() if status == "completed") < TRIALS  # it died mid-sweep

    resumed = workspace.resume(sweep_id)
    assert resumed.returncode == 0, resumed.stderr
    rows = workspace.trial_rows(sweep_id)
    assert len(rows) == TRIALS
    assert {status for status, _ in rows.values()} == {"completed"}
    assert workspace.result_counts(sweep_id + "_") == {experiment_id: 1 for experiment_id in rows}
    values = sorted(v for (v,) in workspace.query("SELECT value FROM results WHERE experiment_id LIKE ?",
                                                  sweep_id + "_%"))
    assert values == [float(v) for v in range(TRIALS)]
    # a trial completed before the kill was not run again
    for experiment_id, (status, attempts) in before.items():
        if status == "completed":
            assert rows[experiment_id][1] == attempts
    # the attempts the dead coordinator left running were closed, not left 'running'
    assert workspace.query("SELECT COUNT(*) FROM attempts WHERE sweep_id = ? AND status = 'running'",
                           sweep_id) == [(0,)]
    recovered = workspace.count_events(sweep_id, "recovered")
    assert recovered == sum(1 for status, _ in before.values() if status == "running")


def test_resume_ends_the_trial_a_dead_coordinator_left_hanging(workspace: Workspace) -> None:
    sweep_id = "orphaned"
    workspace.spec(sweep_id, {"mode": ["ok", "hang_first"]}, parallel=2)
    hung_id = f"{sweep_id}_exp0002_mode=hang_first"
    process = workspace.start("run", workspace.root / f"{sweep_id}.yaml")
    try:
        wait_until(lambda: process.poll() is not None or (
            workspace.count_events(sweep_id, "started", experiment_id=hung_id)
            and (workspace.state / f"{hung_id}.1.pid").exists()), "the hanging trial to start")
        assert process.poll() is None, process.communicate()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        kill_session(process)
    hung_pid = workspace.pid_of(hung_id, 1)
    assert not pid_gone(hung_pid)  # the trial outlived its coordinator (it has its own session)
    status = workspace.run("status", sweep_id, "--sweep-dir", workspace.output_rel)
    assert status.returncode == 0, status.stderr
    assert f"Sweep {sweep_id}: stopped" in status.stdout and "sweeplab resume" in status.stdout
    listing = workspace.run("list", "--sweep-dir", workspace.output_rel)
    assert listing.stdout.splitlines()[1].split()[:2] == [sweep_id, "stopped"]

    resumed = workspace.resume(sweep_id)
    assert resumed.returncode == 0, resumed.stderr
    assert pid_gone(hung_pid)
    assert workspace.trial_rows(sweep_id)[hung_id] == ("completed", 2)
    key = workspace.query("SELECT key FROM trials WHERE experiment_id = ?", hung_id)[0][0]
    assert workspace.query("SELECT attempt, status FROM attempts WHERE key = ? ORDER BY attempt", key) \
        == [(1, "cancelled"), (2, "completed")]
    assert workspace.result_counts(hung_id) == {hung_id: 1}


def stop_mid_sweep(workspace: Workspace, sweep_id: str, done: int) -> dict[str, tuple[str, int]]:
    """Run the sweep until ``done`` trials finished, kill -9 its coordinator; the journal's rows then."""
    kill_coordinator(workspace, sweep_id, "finished", done)
    return workspace.trial_rows(sweep_id)


@pytest.mark.parametrize("found_by", ["the folder's lock", "the default database"])
def test_a_lost_sweep_config_is_rebuilt_from_the_journal_so_run_and_resume_agree(workspace: Workspace,
                                                                                 found_by: str) -> None:
    sweep_id = "no_config"
    keys = {"db_path": "logs/experiments.db"} if found_by == "the default database" else {}
    spec = workspace.spec(sweep_id, {"value": [float(v) for v in range(8)]}, parallel=1, **keys)
    workspace.write_base(sleep=0.1)
    if keys:
        workspace.db = workspace.root / "logs" / "experiments.db"
    before = stop_mid_sweep(workspace, sweep_id, 2)
    folder = workspace.sweep_dir(sweep_id)
    (folder / "sweep_config.json").unlink()  # or a kill -9 before it was written, by an older version
    if keys:
        (folder / ".coordinator.lock").unlink()
    again = workspace.run("run", spec)
    assert again.returncode == 2 and f"sweeplab resume {sweep_id}" in again.stderr, again.stderr
    resumed = workspace.resume(sweep_id)
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr and "resuming with the spec stored in the database" in resumed.stderr
    rows = workspace.trial_rows(sweep_id)
    assert len(rows) == 8 and {status for status, _ in rows.values()} == {"completed"}
    assert workspace.result_counts(sweep_id + "_") == {experiment_id: 1 for experiment_id in rows}
    for experiment_id, (status, attempts) in before.items():
        if status == "completed":
            assert rows[experiment_id][1] == attempts
    assert (folder / "sweep_config.json").is_file()  # written again by the resume


def test_the_stored_spec_is_written_before_the_journal_knows_the_sweep(workspace: Workspace,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A coordinator that dies while it records the sweep leaves a folder that 'sweeplab resume' takes."""
    from sweeplab.engine.launch import prepare
    from sweeplab.journal.writer import Journal
    from sweeplab.planning.resolve import resolve
    from sweeplab.planning.spec import load_spec

    sweep_id = "dies_saving"
    spec = workspace.spec(sweep_id, {"value": [1.0, 2.0]})
    monkeypatch.chdir(workspace.root)

    def dies(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed while saving the sweep")

    monkeypatch.setattr(Journal, "save_sweep", dies)
    with pytest.raises(SystemExit):
        prepare(resolve(load_spec(spec), spec_dir=spec.parent)).run()
    monkeypatch.undo()
    assert (workspace.sweep_dir(sweep_id) / "sweep_config.json").is_file()
    assert workspace.query("SELECT COUNT(*) FROM sweeps") == [(0,)]
    resumed = workspace.resume(sweep_id)
    assert resumed.returncode == 0, resumed.stderr
    assert {status for status, _ in workspace.trial_rows(sweep_id).values()} == {"completed"}
