"""Benchmark: `sweeplab analyze --plot` (the objective's figures) against `--plot --all` (every metric's).

A full-factorial sweep of four parameters with 22 metrics (the lab's experiment reports about
that many) draws 4 per-parameter figures and 6 heatmaps per metric: 220 PNG files when every
metric is drawn, 10 when only the objective is. Both are run as real `sweeplab analyze`
subprocesses on the same sweep, one after the other in the same run, so the ratio is fair on a
shared machine; the figure drawing alone is timed in-process as well.

    python bench/bench_analyze_plots.py [--repeats 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sweeplab.journal.schema import DDL

PARAMS = {
    "interventions.0.parameters.corruption_rate": [0.0, 0.25, 0.5, 0.75],
    "max_cycles": [10, 20, 40],
    "resource_constraints.ram_limit_gb": [1.0, 2.0, 4.0],
    "mode": ["solo", "pair"],
}
METRICS = ["crash_rate", "total_crashes", "total_cycles", "messages_per_cycle", "total_messages"] + [
    f"measure_{i:02d}" for i in range(17)]


def build_sweep(root: Path, repeats: int) -> tuple[str, Path]:
    """Write the sweep (config + journal) and return (sweep_id, sweep_dir)."""
    sweep_id, sweep_dir = "factorial_plots", root / "sweeps"
    folder = sweep_dir / sweep_id
    folder.mkdir(parents=True)
    db_path = root / "experiments.db"
    combos = [dict(zip(PARAMS, values)) for values in itertools.product(*PARAMS.values())]
    total = len(combos) * repeats
    config = {"sweep_id": sweep_id, "sweep_params": PARAMS, "repeats": repeats, "seed": 0,
              "runner": "phenomenology", "db_path": str(db_path), "db_path_resolved": str(db_path),
              "total_experiments": total,
              "spec": {"objective": {"metric": "crash_rate", "direction": "minimize"}}}
    (folder / "sweep_config.json").write_text(json.dumps(config), encoding="utf-8")
    rng = np.random.default_rng(0)
    rows = []
    for index, (repeat, params) in enumerate(itertools.product(range(repeats), combos)):
        rate = params["interventions.0.parameters.corruption_rate"]
        metrics = {name: float(rng.normal(i + 4 * rate, 1)) for i, name in enumerate(METRICS)}
        metrics["crash_rate"] = float(max(0.0, rng.normal(0.1 + 0.5 * (rate >= 0.5), 0.05)))
        key = hashlib.sha1(f"{sweep_id}{index}".encode()).hexdigest()[:16]
        rows.append((sweep_id, key, index, f"{sweep_id}_exp{index:04d}", json.dumps(params), repeat, None,
                     index, "completed", 1, json.dumps(metrics), "2025-01-01T00:00:00Z",
                     "2025-01-01T00:00:01Z", 1.0, None))
    conn = sqlite3.connect(db_path)
    conn.executescript(DDL)
    conn.execute("INSERT INTO sweeps (sweep_id, description, tags_json, spec_json, base_config_json, base_hash,"
                 " sweep_dir, total_trials, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                 (sweep_id, "", "[]", json.dumps(config), "{}", "0" * 16, str(folder), total, "completed",
                  "2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z"))
    conn.executemany("INSERT INTO trials (sweep_id, key, idx, experiment_id, params_json, repeat, label, seed, status,"
                     " attempts, metrics_json, start_time, end_time, duration, error_message)"
                     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.commit()
    conn.close()
    return sweep_id, sweep_dir


def analyze(sweep_id: str, sweep_dir: Path, *flags: str) -> tuple[float, int]:
    """Run `sweeplab analyze --plot [flags]` in a subprocess; return (seconds, PNG files written)."""
    figures = sweep_dir / sweep_id / "figures"
    if figures.exists():
        for png in figures.iterdir():
            png.unlink()
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "sweeplab.analysis.cli", "analyze", sweep_id, "--sweep-dir",
                             str(sweep_dir), "--plot", "--output", str(sweep_dir / "report.txt"), *flags],
                            capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"analyze failed: {result.stderr}")
    return elapsed, len(list(figures.glob("*.png")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep", metavar="DIR", help="build the sweep in DIR and keep it")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_plots_"))
    print(f"nproc={os.cpu_count()}; {platform.processor() or platform.machine()}; Python {platform.python_version()}; "
          f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sweep_id, sweep_dir = build_sweep(root, args.repeats)
    trials = args.repeats * int(np.prod([len(v) for v in PARAMS.values()]))
    print(f"sweep: {trials} trials, {len(PARAMS)} parameters, {len(METRICS)} metrics (+ duration)")
    objective_s, objective_n = analyze(sweep_id, sweep_dir)
    all_s, all_n = analyze(sweep_id, sweep_dir, "--all")
    again_s, _ = analyze(sweep_id, sweep_dir)
    print(f"analyze --plot        (objective): {objective_s:6.1f} s, {objective_n:3d} PNG  (again: {again_s:.1f} s)")
    print(f"analyze --plot --all  (every metric): {all_s:6.1f} s, {all_n:3d} PNG")
    print(f"ratio --all / --plot: {all_s / min(objective_s, again_s):.1f}x")

    from sweeplab.analysis import SweepAnalyzer

    analyzer = SweepAnalyzer(sweep_id, sweep_dir)
    start = time.perf_counter()
    one = analyzer.plot_all(root / "in_process_objective")
    objective_draw = time.perf_counter() - start
    start = time.perf_counter()
    every = analyzer.plot_all(root / "in_process_all", all_metrics=True)
    all_draw = time.perf_counter() - start
    print(f"in process: objective {len(one)} figures {objective_draw:.1f} s "
          f"({objective_draw / len(one):.2f} s each); every metric {len(every)} figures {all_draw:.1f} s "
          f"({all_draw / len(every):.2f} s each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
