"""Sweeps on a real Dask cluster (scheduler and worker processes on 127.0.0.1), through the CLI."""

from __future__ import annotations

import json
import socket

from helpers.engine_support import Workspace


def test_a_sweep_runs_on_the_cluster_with_retries_and_merges(workspace: Workspace, dask_scheduler: str) -> None:
    workspace.write_base(mode="flaky", fail_times=1)  # every trial fails once, then succeeds
    spec = workspace.spec("cluster", {"value": [1.0, 2.0, 3.0, 4.0]}, parallel="auto", dask_scheduler=dask_scheduler)
    done = workspace.run("run", spec, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"Dask cluster at {dask_scheduler}: 2 worker thread(s)" in done.stdout
    rows = workspace.trial_rows("cluster")
    assert sorted(rows.values()) == [("completed", 2)] * 4
    assert workspace.result_counts("cluster_") == {experiment_id: 1 for experiment_id in rows}  # merged once
    attempts = workspace.query("SELECT status, host FROM attempts WHERE sweep_id = 'cluster' ORDER BY key, attempt")
    assert [status for status, _ in attempts] == ["failed", "completed"] * 4
    assert {host for _, host in attempts} == {socket.gethostname()}
    results = json.loads((workspace.sweep_dir("cluster") / "sweep_results.json").read_text())
    assert sorted(r["metrics"]["value"] for r in results) == [1.0, 2.0, 3.0, 4.0]


def test_an_unreachable_scheduler_is_a_clear_error_that_writes_nothing(workspace: Workspace) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    spec = workspace.spec("nowhere", {"value": [1.0]}, dask_scheduler=address)
    done = workspace.run("run", spec, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"cannot run on the Dask cluster '{address}'" in done.stderr
    assert "dask scheduler" in done.stderr  # says how to fix it
    assert not workspace.output.exists() and not workspace.db.exists()


def test_a_scheduler_address_that_is_not_one_is_refused(workspace: Workspace) -> None:
    spec = workspace.spec("badaddress", {"value": [1.0]}, dask_scheduler="my cluster")
    done = workspace.run("run", spec)
    assert done.returncode == 2
    assert "dask_scheduler" in done.stderr and "tcp://host:8786" in done.stderr
    assert not workspace.output.exists()


def test_resume_moves_a_sweep_onto_the_cluster(workspace: Workspace, dask_scheduler: str) -> None:
    workspace.write_base(mode="flaky", fail_times=1)
    spec = workspace.spec("moved", {"value": [1.0, 2.0]}, max_retries=0)
    first = workspace.run("run", spec)  # here, no retries: both trials fail once
    assert first.returncode == 1
    assert sorted(workspace.trial_rows("moved").values()) == [("failed", 1)] * 2
    resumed = workspace.resume("moved", "--dask", dask_scheduler)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Dask cluster at {dask_scheduler}" in resumed.stdout
    assert sorted(workspace.trial_rows("moved").values()) == [("completed", 2)] * 2
