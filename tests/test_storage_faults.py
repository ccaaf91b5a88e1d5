"""Faults of the storage a sweep keeps its state in, by real ``sweeplab`` processes: a lost journal,
unusable database and folder paths, symbolic links in the sweep folder, full file systems."""

from __future__ import annotations

import os
import signal

import pytest
from helpers.engine_support import Workspace, finish, kill_session, wait_until
from helpers.fault_support import fault_spec, no_traceback, runs_of


def stop_after(workspace: Workspace, sweep_id: str, finished: int) -> None:
    """Run the sweep until ``finished`` trials ended, then Ctrl-C it (it stops cleanly, exit 130)."""
    process = workspace.start("run", workspace.root / f"{sweep_id}.yaml")
    try:
        wait_until(lambda: workspace.count_events(sweep_id, "finished") >= finished or process.poll() is not None,
                   f"{finished} finished trials")
        os.kill(process.pid, signal.SIGINT)
        code, out, err = finish(process)
        assert code == 130, out + err
    finally:
        kill_session(process)


@pytest.mark.parametrize("loss", ["deleted", "emptied"])
def test_a_lost_journal_is_rebuilt_from_the_sweep_folder_and_nothing_runs_twice(workspace: Workspace,
                                                                                loss: str) -> None:
    sweep_id = f"lost_{loss}"
    fault_spec(workspace, sweep_id, {"value": [float(v) for v in range(8)]}, parallel=1)
    workspace.write_base(sleep=0.2)
    stop_after(workspace, sweep_id, 3)
    before = workspace.trial_rows(sweep_id)
    completed = {eid for eid, (status, _) in before.items() if status == "completed"}
    assert 3 <= len(completed) < 8
    runs = {eid: len(runs_of(workspace, eid)) for eid in before}
    # a clean stop leaves everything in the main file (the test's own reads may have made an empty -wal)
    wal = f"{workspace.db}-wal"
    assert not os.path.exists(wal) or os.path.getsize(wal) == 0
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{workspace.db}{suffix}"):
            os.unlink(f"{workspace.db}{suffix}")
    if loss == "deleted":
        workspace.db.unlink()
    else:
        os.truncate(workspace.db, 0)

    resumed = workspace.resume(sweep_id)
    no_traceback(resumed.stderr)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"{len(completed)} completed trial(s) were restored" in resumed.stdout + resumed.stderr
    rows = workspace.trial_rows(sweep_id)
    assert len(rows) == 8 and {status for status, _ in rows.values()} == {"completed"}
    for eid in completed:  # restored, not run again
        assert len(runs_of(workspace, eid)) == runs[eid]
        assert rows[eid] == before[eid]
    # the restored trials' experiment rows are back, and every trial's are there once
    assert workspace.result_counts(sweep_id + "_") == {eid: 1 for eid in rows}
    metrics = workspace.query("SELECT metrics_json FROM trials WHERE experiment_id = ?", sorted(completed)[0])
    assert '"value"' in metrics[0][0]
