"""``python -m sweeplab.phenomenology`` in real subprocesses: metrics, bad configs, SIGTERM, RAM limit."""

from __future__ import annotations

import json
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MODERATE = REPO / "experiments" / "examples" / "unstable_memory_moderate.json"


def _cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sweeplab.phenomenology", *args], capture_output=True, text=True,
                          timeout=60, **kwargs)


def _write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(json.dumps(config))
    return path


def test_run_prints_metrics_last_and_writes_them(tmp_path: Path) -> None:
    db, metrics_file = tmp_path / "logs" / "experiments.db", tmp_path / "out" / "metrics.json"
    done = _cli("--config", str(MODERATE), "--db", str(db), "--metrics", str(metrics_file), "--quiet")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert printed == json.loads(metrics_file.read_text())
    assert all(isinstance(v, (int, float)) for v in printed.values())
    for name in ("total_cycles", "total_crashes", "total_messages", "total_self_reports", "total_interventions",
                 "crash_rate", "messages_per_cycle", "duration_seconds", "corrupted_memories",
                 "belief_memory_reliable_confidence", "belief_identity_continuous_confidence",
                 "belief_can_die_confidence"):
        assert name in printed, name
    assert printed["total_cycles"] == 20
    assert not list(metrics_file.parent.glob(".metrics.json.*"))  # no temp file left behind
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT experiment_id, status FROM experiments").fetchall() == \
            [("unstable_memory_moderate", "completed")]
        assert conn.execute("SELECT COUNT(*) FROM experiment_cycles").fetchone()[0] == 20
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_summary_api_matches_the_metrics(tmp_path: Path) -> None:
    from sweeplab.phenomenology.db import ExperimentDatabase

    db_path = tmp_path / "e.db"
    done = _cli("--config", str(MODERATE), "--db", str(db_path), "--quiet")
    metrics = json.loads(done.stdout.splitlines()[-1])
    with ExperimentDatabase(db_path) as db:
        summary = db.get_experiment_summary("unstable_memory_moderate")
    for key in ("total_cycles", "total_crashes", "total_messages", "total_self_reports", "total_interventions"):
        assert summary[key] == metrics[key]


def test_invalid_config_exits_2_with_one_message(tmp_path: Path) -> None:
    bad = json.loads(MODERATE.read_text())
    bad["interventions"][0]["parameters"]["corruption_rate"] = "lots"
    db = tmp_path / "never.db"
    done = _cli("--config", str(_write(tmp_path / "bad.json", bad)), "--db", str(db))
    assert done.returncode == 2
    assert "interventions.0.parameters.corruption_rate = 'lots'" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not db.exists()
    missing = _cli("--config", str(tmp_path / "nope.json"), "--db", str(db))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_an_experiment_id_is_not_recorded_twice(tmp_path: Path) -> None:
    args = ("--config", str(MODERATE), "--db", str(tmp_path / "e.db"), "--quiet")
    assert _cli(*args).returncode == 0
    again = _cli(*args)
    assert again.returncode == 2 and "--replace" in again.stderr
    assert _cli(*args, "--replace").returncode == 0
    with sqlite3.connect(tmp_path / "e.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM experiments").fetchone()[0] == 1


def test_sigterm_ends_cleanly_with_status_interrupted(tmp_path: Path) -> None:
    config = json.loads(MODERATE.read_text())
    config.update(experiment_id="endless", max_cycles=None, max_duration_seconds=None)
    db = tmp_path / "e.db"
    proc = subprocess.Popen([sys.executable, "-m", "sweeplab.phenomenology", "--config",
                             str(_write(tmp_path / "endless.json", config)), "--db", str(db), "--quiet",
                             "--pace", "0.01"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # ready: a committed cycle row is visible
            if db.exists():
                try:
                    with sqlite3.connect(db) as conn:
                        if conn.execute("SELECT COUNT(*) FROM experiment_cycles").fetchone()[0] >= 3:
                            break
                except sqlite3.OperationalError:
                    pass
            time.sleep(0.02)
        else:
            raise AssertionError("the experiment never committed a cycle")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    metrics = json.loads(out.strip().splitlines()[-1])
    with sqlite3.connect(db) as conn:
        status, total = conn.execute("SELECT status, total_cycles FROM experiments").fetchone()
        cycles = conn.execute("SELECT COUNT(*) FROM experiment_cycles").fetchone()[0]
    assert status == "interrupted"
    assert cycles == total == metrics["total_cycles"] >= 3


def test_trial_process_imports_no_heavy_libraries() -> None:
    code = ("import sys, sweeplab.phenomenology.cli, sweeplab.phenomenology.experiment, "
            "sweeplab.phenomenology.metrics, sweeplab.phenomenology.live; "
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_runs_under_a_one_gigabyte_address_space_limit(tmp_path: Path) -> None:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    done = subprocess.run([sys.executable, "-m", "sweeplab.phenomenology", "--config", str(MODERATE), "--db",
                           str(tmp_path / "e.db"), "--quiet"], capture_output=True, text=True, timeout=60,
                          preexec_fn=limit)
    assert done.returncode == 0, done.stderr
