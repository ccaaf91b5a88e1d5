"""Retries, invalid configs, timeouts and memory limits, through a real ``sweeplab run``."""

from __future__ import annotations

import json

import pytest
from helpers.engine_support import Workspace, pid_gone


def attempts_of(workspace: Workspace, experiment_id: str) -> list[tuple[int, str]]:
    return workspace.query("""SELECT a.attempt, a.status FROM attempts a JOIN trials t
                              ON t.sweep_id = a.sweep_id AND t.key = a.key
                              WHERE t.experiment_id = ? ORDER BY a.attempt""", experiment_id)


def test_retries_a_failing_trial_until_it_succeeds_and_not_an_invalid_config(workspace: Workspace) -> None:
    spec = workspace.spec("retry", {"mode": ["flaky", "invalid", "ok"]}, parallel=2)
    done = workspace.run("run", spec)
    assert done.returncode == 1, done.stderr  # the invalid config is not completed
    flaky, invalid, ok = "retry_exp0001_mode=flaky", "retry_exp0002_mode=invalid", "retry_exp0003_mode=ok"
    rows = workspace.trial_rows("retry")
    assert rows[flaky] == ("completed", 3)
    assert attempts_of(workspace, flaky) == [(1, "failed"), (2, "failed"), (3, "completed")]
    assert rows[invalid] == ("failed", 1)  # exit code 2: retrying cannot help
    assert attempts_of(workspace, invalid) == [(1, "failed")]
    assert rows[ok] == ("completed", 1)
    assert workspace.count_events("retry", "retried", experiment_id=flaky) == 2
    assert workspace.count_events("retry", "retried", experiment_id=invalid) == 0
    results = {r["experiment_id"]: r for r in
               json.loads((workspace.sweep_dir("retry") / "sweep_results.json").read_text())["results"]}
    assert results[flaky]["attempts"] == 3 and results[flaky]["metrics"]["attempt"] == 3
    assert "invalid config" in results[invalid]["error_message"]
    assert workspace.result_counts("retry_") == {flaky: 1, ok: 1}  # failed attempts merged nothing


def test_max_retries_bounds_the_attempts(workspace: Workspace) -> None:
    spec = workspace.spec("bounded", {"mode": ["flaky"]}, max_retries=1)
    done = workspace.run("run", spec)
    assert done.returncode == 1, done.stderr
    assert workspace.trial_rows("bounded") == {"bounded_exp0001_mode=flaky": ("failed", 2)}
    assert attempts_of(workspace, "bounded_exp0001_mode=flaky") == [(1, "failed"), (2, "failed")]


def test_a_hung_trial_and_its_grandchild_time_out_and_leave_nothing(workspace: Workspace) -> None:
    spec = workspace.spec("slowpoke", {"mode": ["family", "ok"]}, timeout=1, grace_period=1, max_retries=0,
                          parallel=2)
    done = workspace.run("run", spec)
    assert done.returncode == 1, done.stderr
    rows = workspace.trial_rows("slowpoke")
    assert rows["slowpoke_exp0001_mode=family"] == ("timeout", 1)
    assert rows["slowpoke_exp0002_mode=ok"] == ("completed", 1)
    pids = json.loads((workspace.state / "slowpoke_exp0001_mode=family.family.json").read_text())
    assert len(pids) == 2 and all(pid_gone(pid) for pid in pids)  # both ignore SIGTERM: SIGKILL after grace
    duration = workspace.query("SELECT duration FROM attempts WHERE status = 'timeout'")[0][0]
    assert 1.0 <= duration < 1.0 + 1.0 + 1.5


@pytest.mark.slow
def test_a_trial_over_its_memory_limit_crashes_and_the_others_complete(workspace: Workspace) -> None:
    spec = workspace.spec("hungry", {"mode": ["ok", "memhog"], "value": [1.0, 2.0]}, limits={"memory_gb": 0.2},
                          max_retries=0, parallel=2)
    done = workspace.run("run", spec)
    assert done.returncode == 1, done.stderr
    rows = workspace.trial_rows("hungry")
    statuses = {experiment_id.split("_", 2)[2]: status for experiment_id, (status, _) in rows.items()}
    assert statuses == {"mode=ok_value=1.0": "completed", "mode=ok_value=2.0": "completed",
                        "mode=memhog_value=1.0": "crashed", "mode=memhog_value=2.0": "crashed"}
    errors = workspace.query("SELECT error_message FROM trials WHERE status = 'crashed'")
    assert all("memory limit" in e for (e,) in errors)


def test_limits_resident_only_lets_trials_reserve_address_space_and_still_stops_hogs(workspace: Workspace) -> None:
    """1 GB mapped but untouched is over a 0.2 GB address-space cap; with ``resident_only`` the grant
    is held by resident memory alone, which still stops a trial that fills it."""
    capped = workspace.spec("capped", {"mode": ["reserve"]}, limits={"memory_gb": 0.2}, max_retries=0)
    assert workspace.run("run", capped).returncode == 1
    assert workspace.trial_rows("capped") == {"capped_exp0001_mode=reserve": ("crashed", 1)}
    workspace.write_base(sleep=3.0)  # the hog holds its memory while the watchdog looks
    resident = workspace.spec("resident", {"mode": ["reserve", "memhog"]}, max_retries=0, parallel=2,
                              limits={"memory_gb": 0.2, "resident_only": True})
    done = workspace.run("run", resident)
    assert done.returncode == 1, done.stderr
    assert workspace.trial_rows("resident") == {"resident_exp0001_mode=reserve": ("completed", 1),
                                                "resident_exp0002_mode=memhog": ("crashed", 1)}
    error = workspace.query("SELECT error_message FROM trials WHERE status = 'crashed' AND sweep_id = 'resident'")
    assert "memory limit" in error[0][0] and "resident memory" in error[0][0]
