"""Dask executor benchmark: 100 trivial command trials on a 2-worker cluster on this machine.

sweeplab (coordinator here, each attempt a Dask task) against the plain Dask way of doing the same:
``client.map`` of a function that runs the command with ``subprocess.run``. Both use the same
cluster, interleaved, median of paired ratios. Run from the repository root:

    python bench/bench_dask.py [ROUNDS]

The rounds begin once making a file costs at most 0.06 ms of CPU (bench_engine.wait_for_cheap_files).
Results are recorded in bench/README.md with the machine they ran on.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_engine import TRIVIAL, machine, sweep_in, wait_for_cheap_files

from sweeplab.engine.launch import run_resolved
from sweeplab.executors.dask import DaskExecutor

N = 100


def _run_command(_: int) -> int:
    return subprocess.run(TRIVIAL, capture_output=True, check=True).returncode


def main() -> None:
    from distributed import Client, LocalCluster

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    print(machine())
    disk = wait_for_cheap_files()  # (see bench_engine.wait_for_cheap_files)
    folders = Path(tempfile.mkdtemp(prefix="sweeplab-dask-bench-"))
    coordinator_cpu: list[float] = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", worker_dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        def ours() -> float:
            resolved = sweep_in(Path(tempfile.mkdtemp(dir=folders)), {
                "runner": "command", "command": TRIVIAL, "parallel": 2, "sweep": {"x": list(range(N))}})
            executor = DaskExecutor(client=client, slots=2)
            started, cpu = time.perf_counter(), time.process_time()
            outcome = run_resolved(resolved, executor=executor)
            elapsed = time.perf_counter() - started
            coordinator_cpu.append((time.process_time() - cpu) / N)  # all threads, the client's included
            assert outcome.exit_code == 0, outcome
            return elapsed

        def plain_dask() -> float:
            started = time.perf_counter()
            assert client.gather(client.map(_run_command, range(N), pure=False)) == [0] * N
            return time.perf_counter() - started

        try:
            ours(), plain_dask()  # warm-up: worker imports, page cache
            rows: dict[str, list[float]] = {"sweeplab --dask": [], "client.map + subprocess.run": []}
            for _ in range(rounds):
                os.sync()
                rows["sweeplab --dask"].append(ours())
                os.sync()
                rows["client.map + subprocess.run"].append(plain_dask())
        finally:
            shutil.rmtree(folders, ignore_errors=True)
    ratios = sorted(a / b for a, b in zip(*rows.values()))
    print(f"\n[dask] {N} trivial command trials on a local cluster of 2 single-thread workers, {rounds} paired rounds")
    for name, values in rows.items():
        print(f"  {name:30s} median {statistics.median(values):6.3f} s   min {min(values):6.3f} s")
    print(f"  sweeplab / plain Dask: median {statistics.median(ratios):.3f}x ({ratios[0]:.3f} … {ratios[-1]:.3f})")
    print(f"  coordinator CPU (its process, Dask client thread included): median "
          f"{statistics.median(coordinator_cpu) * 1000:.1f} ms per trial")
    print(f"  {disk}")


if __name__ == "__main__":
    main()
