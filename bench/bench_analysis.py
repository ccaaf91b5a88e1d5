"""Benchmark: the full summary report of a 10,000-trial sweep with 10 self-reports per trial.

Compares the analyzer as shipped (one query per table) with the straightforward approach
(one query per trial for its row and one per trial for its self-reports), in the same run,
on the same database, and checks both give the same report.

    python bench/bench_analysis.py [--trials-per-config 10] [--keep DIR]

The self_reports table gets an index on experiment_id, so the per-trial approach is measured
at its best (without it each of its queries would scan all 100,000 rows).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sqlite3
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

from sweeplab.journal.schema import DDL

PARAMS = {
    "interventions.0.parameters.corruption_rate": [round(0.1 * i, 1) for i in range(10)],
    "max_cycles": [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    "resource_constraints.ram_limit_gb": [0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0],
}
QUESTIONS = ["Do you trust your memories?", "What do you believe about your situation?", "How do you feel?",
             "Who are you?", "What changed since the last report?"]


def build_sweep(root: Path, repeats: int, reports_per_trial: int) -> tuple[str, Path]:
    """Write the benchmark sweep (config + journal + self_reports) and return (sweep_id, sweep_dir)."""
    sweep_id = "bench_sweep"
    sweep_dir = root / "sweeps"
    (sweep_dir / sweep_id).mkdir(parents=True)
    db_path = root / "experiments.db"
    combos = [dict(zip(PARAMS, values)) for values in itertools.product(*PARAMS.values())]
    total = len(combos) * repeats
    config = {"sweep_id": sweep_id, "description": "benchmark", "base_config": "base.json",
              "sweep_params": PARAMS, "zip": [], "repeats": repeats, "seed": 0, "runner": "phenomenology",
              "parallel_jobs": 1, "timeout_seconds": None, "db_path": str(db_path),
              "db_path_resolved": str(db_path), "output_dir": str(sweep_dir), "max_retries": 2, "tags": [],
              "total_experiments": total, "created_at": "2025-01-01T00:00:00Z"}
    (sweep_dir / sweep_id / "sweep_config.json").write_text(json.dumps(config))
    rng = np.random.default_rng(0)
    conn = sqlite3.connect(db_path)
    conn.executescript(DDL)
    conn.executescript("CREATE TABLE self_reports (id INTEGER PRIMARY KEY, experiment_id TEXT NOT NULL,"
                       " cycle_number INTEGER, question TEXT, response TEXT);"
                       "CREATE INDEX self_reports_by_experiment ON self_reports (experiment_id);")
    conn.execute("INSERT INTO sweeps VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                 (sweep_id, "benchmark", "[]", json.dumps(config), "{}", "0", str(sweep_dir), total, "completed",
                  "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"))
    trials, reports = [], []
    index = 0
    for repeat in range(repeats):
        for params in combos:
            rate, cycles, ram = params.values()
            crashes = int(rng.poisson(1 + 8 * (rate >= 0.6) + 4 / ram))
            metrics = {"total_cycles": cycles, "total_crashes": crashes, "crash_rate": crashes / cycles,
                       "total_messages": int(rng.poisson(12 * cycles)), "messages_per_cycle": float(rng.normal(12, 2)),
                       "total_self_reports": reports_per_trial, "total_interventions": int(rng.poisson(rate * 10)),
                       "corrupted_memories": int(rng.poisson(rate * cycles)),
                       "belief_identity_confidence": float(np.clip(rng.normal(0.9 - 0.5 * rate, 0.1), 0, 1))}
            experiment_id = f"{sweep_id}_exp{index:05d}"
            trials.append((sweep_id, f"k{index:08d}", index, experiment_id, json.dumps(params, sort_keys=True),
                           repeat, None, index, "completed", 1, json.dumps(metrics, sort_keys=True),
                           "2025-01-01T00:00:00Z", "2025-01-01T00:01:00Z", float(rng.uniform(30, 90)), None))
            for cycle in range(reports_per_trial):
                trust = rng.uniform() > rate
                reports.append((experiment_id, cycle, QUESTIONS[cycle % len(QUESTIONS)],
                                "I trust what I remember." if trust else "Something is wrong with my memory."))
            index += 1
    conn.executemany("INSERT INTO trials (sweep_id, key, idx, experiment_id, params_json, repeat, label, seed,"
                     " status, attempts, metrics_json, start_time, end_time, duration, error_message)"
                     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", trials)
    conn.executemany("INSERT INTO self_reports (experiment_id, cycle_number, question, response) VALUES (?,?,?,?)",
                     reports)
    conn.commit()
    conn.close()
    return sweep_id, sweep_dir


def per_trial_loaders():  # type: ignore[no-untyped-def]
    """Loaders with the straightforward shape: one query per trial for trials and for self-reports."""
    from sweeplab.analysis.compute import loader

    real_load_sweep = loader.load_sweep

    def load_sweep(sweep_id: str, sweep_dir: str | Path) -> loader.SweepData:
        data = real_load_sweep(sweep_id, sweep_dir)  # config and status, then re-read the trials one by one
        conn = sqlite3.connect(data.db_path)
        keys = [k for (k,) in conn.execute("SELECT key FROM trials WHERE sweep_id = ? ORDER BY idx", (sweep_id,))]
        rows = [conn.execute(
            "SELECT experiment_id, key, idx, repeat, label, status, attempts, metrics_json, params_json,"
            " start_time, end_time, duration, error_message FROM trials WHERE sweep_id = ? AND key = ?",
            (sweep_id, key)).fetchone() for key in keys]
        conn.close()
        from sweeplab.journal.reader import TrialRecord

        frame = loader._trials_frame([TrialRecord(*row) for row in rows])[0]
        data.trials = frame
        return data

    def load_self_reports(db_path: Path, sweep_id: str):  # type: ignore[no-untyped-def]
        import pandas as pd

        conn = sqlite3.connect(db_path)
        ids = [e for (e,) in conn.execute(
            "SELECT experiment_id FROM trials WHERE sweep_id = ? AND status = 'completed'", (sweep_id,))]
        rows = []
        for experiment_id in ids:
            rows += conn.execute("SELECT experiment_id, cycle_number, question, response FROM self_reports"
                                 " WHERE experiment_id = ?", (experiment_id,)).fetchall()
        conn.close()
        frame = pd.DataFrame.from_records(rows, columns=list(loader.SELF_REPORT_COLUMNS))
        frame["question"] = frame["question"].fillna("").astype(str)
        frame["response"] = frame["response"].fillna("").astype(str)
        return frame

    return load_sweep, load_self_reports


def timed_report(sweep_id: str, sweep_dir: Path) -> tuple[float, float, str]:
    """(seconds to load, seconds for load + full report, report)."""
    from sweeplab.analysis import SweepAnalyzer

    start = time.perf_counter()
    analyzer = SweepAnalyzer(sweep_id, sweep_dir)
    loaded = time.perf_counter() - start
    report = analyzer.generate_summary_report()
    beliefs = analyzer.analyze_belief_evolution("corruption_rate", "trust")
    total = time.perf_counter() - start
    assert len(beliefs) == 10
    return loaded, total, report


def machine() -> str:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines()
                      if l.startswith("MemTotal"))
        ram = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        ram = "unknown"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"nproc={os.cpu_count()}; CPU: {model}; RAM: {ram}; Python {platform.python_version()}; "
            f"load average at start: {load}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials-per-config", type=int, default=10, help="repeats of each of 1000 combinations")
    parser.add_argument("--reports", type=int, default=10, help="self-reports per trial")
    parser.add_argument("--keep", help="build the sweep in this folder and keep it")
    args = parser.parse_args(argv)
    root = Path(args.keep or tempfile.mkdtemp(prefix="sweeplab_bench_"))
    print(machine())
    start = time.perf_counter()
    sweep_id, sweep_dir = build_sweep(root, args.trials_per_config, args.reports)
    print(f"built sweep: {1000 * args.trials_per_config} trials, {1000 * args.trials_per_config * args.reports} "
          f"self-reports, 3 parameters x 10 levels, 10 metrics ({time.perf_counter() - start:.1f} s)")
    start = time.perf_counter()
    import pandas  # noqa: F401
    import scipy.stats  # noqa: F401  (imported once per process; timed apart from the analysis)
    print(f"imports (pandas, scipy.stats): {time.perf_counter() - start:.2f} s")

    fast_load, fast_total, fast_report = timed_report(sweep_id, sweep_dir)
    load_sweep, load_self_reports = per_trial_loaders()
    with mock.patch("sweeplab.analysis.compute.sweep_statistics.load_sweep", load_sweep), \
            mock.patch("sweeplab.analysis.compute.sweep_statistics.load_self_reports", load_self_reports):
        slow_load, slow_total, slow_report = timed_report(sweep_id, sweep_dir)
    fast_again = timed_report(sweep_id, sweep_dir)[1]
    same = "identical" if slow_report == fast_report else "DIFFERENT"
    print(f"one query per table : load {fast_load:.2f} s, load + summary report + belief analysis "
          f"{fast_total:.2f} s (second run {fast_again:.2f} s)")
    print(f"one query per trial : load {slow_load:.2f} s, load + summary report + belief analysis {slow_total:.2f} s")
    print(f"ratio per-trial / per-table: {slow_total / fast_total:.1f}x overall; reports {same}; "
          f"report {len(fast_report.splitlines())} lines")
    print(f"target < 3 s: {'met' if max(fast_total, fast_again) < 3.0 else 'MISSED'}")
    return 0 if same == "identical" else 1


if __name__ == "__main__":
    raise SystemExit(main())
