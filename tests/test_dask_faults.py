"""A Dask worker killed mid-sweep, with a real cluster on 127.0.0.1 (its own: a worker dies): no
finished trial runs again, no attempt folder is written by two runs, every trial is recorded once."""

from __future__ import annotations

import collections
import json
import os
import signal
from pathlib import Path

import pytest
from helpers.engine_support import Workspace, finish, kill_session, wait_until
from helpers.fault_support import all_runs, fault_spec, live_fault_trials, runs_of

TRIALS = 24


@pytest.fixture
def cluster():
    """Two single-threaded workers in their own processes (nannies restart a killed one), and a client."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", worker_dashboard_address=":0") as created, Client(created) as client:
        yield created.scheduler_address, client


def test_killing_a_worker_mid_sweep_reruns_no_finished_trial_and_no_folder(workspace: Workspace, cluster) -> None:
    address, client = cluster
    sweep_id = "worker_dies"
    fault_spec(workspace, sweep_id, {"value": [float(v) for v in range(TRIALS)]}, parallel=2, max_retries=3,
               dask_scheduler=address)
    workspace.write_base(sleep=0.3)
    process = workspace.start("run", workspace.root / f"{sweep_id}.yaml")
    try:
        wait_until(lambda: workspace.count_events(sweep_id, "finished") >= 8 or process.poll() is not None,
                   "8 trials to finish on the cluster", timeout=120)
        assert process.poll() is None, process.communicate()
        finished_before = {e["experiment_id"] for e in workspace.events(sweep_id) if e["event"] == "finished"}
        victim = min(client.run(os.getpid).values())
        os.kill(victim, signal.SIGKILL)
        code, out, err = finish(process, timeout=180)
    finally:
        kill_session(process)
    assert code == 0, out + err
    # the trial orphaned by its dead worker was ended by the task's second run, not left running
    assert live_fault_trials(workspace.root) == []
    rows = workspace.trial_rows(sweep_id)
    assert len(rows) == TRIALS and {status for status, _ in rows.values()} == {"completed"}
    assert workspace.result_counts(sweep_id + "_") == {eid: 1 for eid in rows}
    # no attempt folder was written by two runs
    per_folder = collections.Counter(all_runs(workspace))
    assert per_folder and max(per_folder.values()) == 1, per_folder.most_common(3)
    # a trial that had finished before the kill never ran again
    for eid in finished_before:
        assert len(runs_of(workspace, eid)) == 1, eid
    # only what ran on the dead worker runs again, each time as a new attempt
    again = {eid: runs_of(workspace, eid) for eid in rows if len(runs_of(workspace, eid)) > 1}
    assert len(again) <= 1, again
    for eid, folders in again.items():
        assert len(set(folders)) == len(folders)
        assert rows[eid][1] == len(folders)  # one journaled attempt per run
    lost = workspace.query("SELECT COUNT(*) FROM attempts WHERE sweep_id = ? AND status = 'crashed'", sweep_id)
    assert lost[0][0] == len(again)
    # every completed attempt's claim holds the result its one run stored, as its second line
    completed = {row[0] for row in workspace.query(
        "SELECT attempt_dir FROM attempts WHERE sweep_id = ? AND status = 'completed'", sweep_id)}
    assert completed and completed <= set(per_folder)
    for folder in completed:
        claim, stored = Path(folder, ".sweeplab-claim").read_text().splitlines()
        assert claim.startswith("pid=") and json.loads(stored)["attempt_dir"] == folder
