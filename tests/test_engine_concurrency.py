"""Two coordinators writing to one database at the same time: of different sweeps (both run), of the
same sweep (one refuses)."""

from __future__ import annotations

import json
import socket

import pytest
from helpers.engine_support import Workspace, finish, kill_session, wait_until
from helpers.fault_support import fault_spec, no_traceback, runs_of

TRIALS = 12


@pytest.mark.slow
def test_two_sweeps_share_one_database_at_the_same_time(workspace: Workspace) -> None:
    workspace.write_base(gate="go")
    specs = {name: workspace.spec(name, {"value": [float(v) for v in range(TRIALS)]}, parallel=2)
             for name in ("left", "right")}
    processes = {name: workspace.start("run", spec) for name, spec in specs.items()}
    try:
        # both coordinators hold trials in flight before either may finish one: their writes overlap
        wait_until(lambda: all(p.poll() is None for p in processes.values())
                   and all(workspace.count_events(name, "started") >= 2 for name in processes),
                   "both sweeps to run trials")
        (workspace.state / "go").touch()
        outcomes = {name: finish(process, timeout=60) for name, process in processes.items()}
    finally:
        for process in processes.values():
            kill_session(process)
    for name, (code, _, err) in outcomes.items():
        assert code == 0, f"{name}: {err}"
        rows = workspace.trial_rows(name)
        assert len(rows) == TRIALS and {s for s, _ in rows.values()} == {"completed"}
        assert workspace.result_counts(name + "_") == {experiment_id: 1 for experiment_id in rows}
        results = json.loads((workspace.sweep_dir(name) / "sweep_results.json").read_text())["results"]
        assert len(results) == TRIALS
    assert workspace.query("SELECT COUNT(*) FROM results") == [(2 * TRIALS,)]
    assert workspace.query("SELECT sweep_id, status, total_trials FROM sweeps ORDER BY sweep_id") \
        == [("left", "completed", TRIALS), ("right", "completed", TRIALS)]


def test_two_coordinators_of_one_sweep_and_database_run_each_trial_once(workspace: Workspace) -> None:
    """Same sweep id and database, different sweep folders, both resuming, started together: the lock
    lives with the journal, so one refuses, naming the other, and writes nothing."""
    sweep = {"value": [float(v) for v in range(6)]}
    specs = [fault_spec(workspace, "shared", dict(sweep, gate=["go"]), name=f"shared_{side}", parallel=2,
                        output_dir=f"out_{side}", resume=True) for side in ("a", "b")]
    processes = [workspace.start("run", spec) for spec in specs]
    try:
        loser = wait_until(lambda: next((p for p in processes if p.poll() is not None), None),
                           "one coordinator to refuse")
        winner = next(p for p in processes if p is not loser)
        code, out, err = finish(loser)
        assert code == 2, out + err
        no_traceback(err)
        assert f"sweep 'shared' of the database '{workspace.db_rel}' is owned by a running coordinator" in err
        assert f"pid={winner.pid} host={socket.gethostname()}" in err
        assert len(err.strip().splitlines()) == 1, err
        side = "a" if loser is processes[0] else "b"
        assert not (workspace.root / f"out_{side}").exists()  # the refused one made nothing
        assert winner.poll() is None
        (workspace.state / "go").touch()
        code, out, err = finish(winner, timeout=60)
        assert code == 0, out + err
    finally:
        for process in processes:
            kill_session(process)
    rows = workspace.trial_rows("shared")
    assert len(rows) == 6 and {status for status, _ in rows.values()} == {"completed"}
    assert {eid: len(runs_of(workspace, eid)) for eid in rows} == {eid: 1 for eid in rows}
