"""kill -9 of a real coordinator running python-runner trials, then ``sweeplab resume``: under both isolations
every trial is recorded completed exactly once; under warm workers no trial outlives its coordinator.

The trials wait on a gate file, so the coordinator is killed while two of them run.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import psutil
import pytest
import yaml
from helpers.engine_support import Workspace, kill_session, wait_until

GATED = '''\
"""A trial that says it started, then waits for the gate file (or 60 s)."""
import json
import os
import time
from pathlib import Path


def gated(config, context):
    state = Path(os.environ["GATE_STATE"])
    (state / f"{context.experiment_id}.{context.attempt}.pid").write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not (state / "open").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    with open(state / "ran.log", "a") as log:
        log.write(context.experiment_id + "\\n")
    return {"x": config["x"]}
'''


def _spec(workspace: Workspace, sweep_id: str, isolation: str) -> Path:
    (workspace.root / "gate_trials.py").write_text(GATED)
    workspace.base.write_text(json.dumps({"x": 0}))
    data = {"sweep_id": sweep_id, "base_config": workspace.base.name, "runner": "python",
            "function": "gate_trials:gated", "isolation": isolation, "sweep": {"x": list(range(6))},
            "parallel": 2, "output_dir": workspace.output_rel, "db_path": workspace.db_rel, "grace_period": 1,
            "timeout": 120}
    path = workspace.root / f"{sweep_id}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("isolation", ["worker", "process"])
def test_kill_9_mid_sweep_then_resume_completes_every_trial_once(workspace: Workspace, isolation: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_STATE", str(workspace.state))  # clean_env() copies our environment
    sweep_id = f"gate_{isolation}"
    process = workspace.start("run", _spec(workspace, sweep_id, isolation))
    try:
        pid_files = wait_until(lambda: sorted(workspace.state.glob("*.pid")) if len(
            list(workspace.state.glob("*.pid"))) >= 2 else None, "two trials to run")
        trial_pids = [int(path.read_text()) for path in pid_files]
        assert process.poll() is None, process.communicate()
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        kill_session(process)

    def gone(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    if isolation == "worker":  # the workers end their attempts as soon as the coordinator is gone
        wait_until(lambda: all(gone(pid) for pid in trial_pids), "the killed coordinator's trials to end")
    (workspace.state / "open").write_text("")
    done = workspace.resume(sweep_id, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = workspace.trial_rows(sweep_id)
    assert len(rows) == 6 and {status for status, _ in rows.values()} == {"completed"}
    completed = workspace.query("SELECT t.experiment_id, COUNT(*) FROM attempts a JOIN trials t "
                                "ON a.sweep_id = t.sweep_id AND a.key = t.key WHERE t.sweep_id = ? "
                                "AND a.status = 'completed' GROUP BY t.experiment_id", sweep_id)
    assert sorted(count for _, count in completed) == [1] * 6
    assert all(gone(pid) for pid in trial_pids)
