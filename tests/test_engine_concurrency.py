"""Two coordinators of different sweeps writing to one database at the same time."""

from __future__ import annotations

import json

import pytest
from helpers.engine_support import Workspace, finish, kill_session, wait_until

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
        results = json.loads((workspace.sweep_dir(name) / "sweep_results.json").read_text())
        assert len(results) == TRIALS
    assert workspace.query("SELECT COUNT(*) FROM results") == [(2 * TRIALS,)]
    assert workspace.query("SELECT sweep_id, status, total_trials FROM sweeps ORDER BY sweep_id") \
        == [("left", "completed", TRIALS), ("right", "completed", TRIALS)]
