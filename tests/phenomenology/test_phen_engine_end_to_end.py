"""An example sweep of the original spec, run end to end by the real engine (a `sweeplab run` process).

Every trial's rows are merged into the main database exactly once, and
``ExperimentDatabase.get_experiment_summary`` agrees with the metrics the trial reported.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sweeplab.phenomenology.db import ExperimentDatabase

ROOT = Path(__file__).resolve().parents[2]
COUNTS = ("total_cycles", "total_crashes", "total_messages", "total_self_reports", "total_interventions")


@pytest.mark.slow
def test_ram_limits_sweep_end_to_end(tmp_path: Path) -> None:
    db = tmp_path / "experiments.db"
    done = subprocess.run(
        [sys.executable, "-m", "sweeplab", "run", "sweeps/ram_limits_sweep.yaml", "--output", str(tmp_path / "sweeps"),
         "--db", str(db), "--parallel", "2", "--yes", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr

    conn = sqlite3.connect(db)
    trials = conn.execute("SELECT experiment_id, status, metrics_json, params_json FROM trials "
                          "WHERE sweep_id = 'ram_limits_sweep'").fetchall()
    assert len(trials) == 12 and {row[1] for row in trials} == {"completed"}
    # each experiment merged exactly once
    per_experiment = dict(conn.execute("SELECT experiment_id, COUNT(*) FROM experiments GROUP BY experiment_id"))
    assert sorted(per_experiment) == sorted(row[0] for row in trials)
    assert set(per_experiment.values()) == {1}
    conn.close()

    database = ExperimentDatabase(db)
    crash_rates: dict[float, list[float]] = {}
    for experiment_id, _, metrics_json, params_json in trials:
        metrics = json.loads(metrics_json)
        summary = database.get_experiment_summary(experiment_id)
        for name in COUNTS:
            assert summary[name] == metrics[name], (experiment_id, name)
        assert metrics["total_cycles"] > 0
        limit = json.loads(params_json)["resource_constraints.ram_limit_gb"]
        crash_rates.setdefault(limit, []).append(metrics["crash_rate"])
    # the swept RAM limit changes the outcome: the smallest jar crashes more than the largest
    means = {limit: sum(v) / len(v) for limit, v in crash_rates.items()}
    assert means[min(means)] > means[max(means)]

    results = json.loads((tmp_path / "sweeps" / "ram_limits_sweep" / "sweep_results.json").read_text())["results"]
    assert len(results) == 12
    for record in results:
        assert record["total_cycles"] == record["metrics"]["total_cycles"]


def test_dry_run_estimates_from_the_runner_then_from_history(tmp_path: Path) -> None:
    db = tmp_path / "experiments.db"
    argv = [sys.executable, "-m", "sweeplab", "run", "--base", "experiments/examples/unstable_memory_moderate.json",
            "--param", "max_cycles", "5", "10", "--sweep-id", "estimate", "--output", str(tmp_path / "sweeps"),
            "--db", str(db), "--yes"]
    first = subprocess.run([*argv, "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "runner's own estimate" in first.stdout and not db.exists()
    ran = subprocess.run([*argv, "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    again = subprocess.run([*argv, "--sweep-id", "estimate2", "--dry-run"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert "mean of 2 earlier completed trial(s) of this base config" in again.stdout


def test_runner_estimate_grows_with_cycles_and_knows_only_the_simulated_mind() -> None:
    from sweeplab.phenomenology.runner import PhenomenologyRunner

    base = json.loads((ROOT / "experiments/examples/unstable_memory_moderate.json").read_text())
    runner = PhenomenologyRunner()
    short, long = (runner.estimate_seconds({**base, "max_cycles": n}) for n in (10, 100))
    assert short is not None and long is not None and long > short
    assert runner.estimate_seconds({**base, "mind": "llama"}) is None
    assert runner.estimate_seconds({**base, "max_cycles": None}) is None
