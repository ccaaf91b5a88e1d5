"""kill -9 of the coordinator during a bayesian and during a refine sweep, then ``sweeplab resume``:
every trial is recorded exactly once, the journaled trials keep their numbers and parameters, and the
search goes on from there to its end."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers.engine_support import clean_env, kill_session, wait_until
from test_search_bayesian import _spec as bayesian_spec
from test_search_refine import PLANTED, RESOLUTION
from test_search_refine import _refine_spec as refine_spec


def _events(root: Path, sweep_id: str, event: str) -> int:
    path = root / "out" / sweep_id / "events.jsonl"
    if not path.exists():
        return 0
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    return sum(1 for line in lines if line.strip() and json.loads(line)["event"] == event)


def _kill_after(root: Path, spec: Path, sweep_id: str, finished: int) -> None:
    """Run the sweep and SIGKILL its coordinator once ``finished`` trials have finished."""
    process = subprocess.Popen([sys.executable, "-m", "sweeplab", "run", str(spec), "--yes"], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               start_new_session=True, env=clean_env())
    try:
        wait_until(lambda: _events(root, sweep_id, "finished") >= finished or process.poll() is not None,
                   f"{finished} trials to finish", timeout=90)
        assert process.poll() is None, f"the sweep ended before it could be killed: {process.communicate()}"
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        kill_session(process)


def _journal(root: Path, sweep_id: str) -> tuple[dict[str, tuple[int, str, str]], dict[str, int]]:
    """key -> (idx, status, params_json); key -> completed attempts."""
    with sqlite3.connect(root / "out" / "db.sqlite") as conn:
        trials = {key: (idx, status, params) for key, idx, status, params in conn.execute(
            "SELECT key, idx, status, params_json FROM trials WHERE sweep_id = ?", (sweep_id,))}
        completed = dict(conn.execute("SELECT key, COUNT(*) FROM attempts WHERE sweep_id = ? AND status = 'completed' "
                                      "GROUP BY key", (sweep_id,)).fetchall())
    return trials, completed


def _resume(root: Path, sweep_id: str) -> dict[str, Any]:
    resumed = subprocess.run([sys.executable, "-m", "sweeplab", "resume", sweep_id, "--sweep-dir", "out"], cwd=root,
                             capture_output=True, text=True, timeout=180, env=clean_env())
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    return json.loads((root / "out" / sweep_id / "search.json").read_text())


def _check_exactly_once(before: dict[str, tuple[int, str, str]], after: dict[str, tuple[int, str, str]],
                        completed: dict[str, int], total: int) -> None:
    assert sorted(idx for idx, _, _ in after.values()) == list(range(1, total + 1))  # no number lost or reused
    assert {status for _, status, _ in after.values()} == {"completed"}
    assert completed == {key: 1 for key in after}  # one completed attempt per trial: none recorded twice
    for key, (idx, _, params) in before.items():  # what was journaled before the kill kept its identity
        assert after[key][0] == idx and after[key][2] == params


def test_kill_9_during_a_bayesian_sweep_then_resume(tmp_path: Path) -> None:
    spec = bayesian_spec(tmp_path, "bayes_killed", n_trials=12)
    base = json.loads((tmp_path / "base.json").read_text())
    (tmp_path / "base.json").write_text(json.dumps({**base, "sleep": 0.4}))
    _kill_after(tmp_path, spec, "bayes_killed", finished=4)
    before, _ = _journal(tmp_path, "bayes_killed")
    assert 4 <= len(before) < 12 and sum(1 for _, s, _ in before.values() if s == "completed") >= 4
    assert any(s != "completed" for _, s, _ in before.values())  # killed with trials chosen and not done
    summary = _resume(tmp_path, "bayes_killed")
    after, completed = _journal(tmp_path, "bayes_killed")
    _check_exactly_once(before, after, completed, 12)
    assert summary["finished"] and summary["told"] == 12 and summary["registered"] == 12
    assert summary["best"] and summary["best"][0]["values"]["score"] > 0.8


def test_kill_9_during_a_refine_sweep_then_resume(tmp_path: Path) -> None:
    spec = refine_spec(tmp_path, "refine_killed")
    base = json.loads((tmp_path / "base.json").read_text())
    (tmp_path / "base.json").write_text(json.dumps({**base, "sleep": 0.15}))
    _kill_after(tmp_path, spec, "refine_killed", finished=15)  # inside round 1 (the coarse grid is 12)
    before, _ = _journal(tmp_path, "refine_killed")
    assert len(before) > 12
    summary = _resume(tmp_path, "refine_killed")
    after, completed = _journal(tmp_path, "refine_killed")
    _check_exactly_once(before, after, completed, summary["registered"])
    low, high = summary["threshold"]["interval"]
    assert summary["stopped"] == "resolved" and low <= PLANTED <= high and high - low <= RESOLUTION
    assert sum(r["trials"] for r in summary["rounds"]) == summary["registered"]
