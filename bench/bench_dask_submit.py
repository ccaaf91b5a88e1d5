"""The Dask path's cost on the coordinator: 100 trivial command trials, sweeplab against plain ``client.map``.

    python bench/bench_dask_submit.py [ROUNDS]       # about a minute on 2 shared cores

The scheduler and the two single-thread workers run as their own processes (``dask scheduler``,
``dask worker`` on 127.0.0.1), so the CPU time of this process is the coordinator's alone (sweeplab's
loop and the Dask client's thread): with an in-process ``LocalCluster`` it would include the
scheduler's. Each round runs every side on the same cluster, each first in turn: sweeplab, plain
``client.map`` (the outputs thrown away: the target's yardstick), and ``client.map`` keeping each trial's
output in a folder of its own (3 files made a trial, where sweeplab makes 8). The figures are medians of
paired ratios. The cost of making a file on this disk (what staging an attempt
does a few times) and the load average are printed beside them: on a shared virtual machine both change
from minute to minute, and the coordinator's CPU per trial with them. The rounds begin once a file costs
at most 0.06 ms of CPU (up to seven minutes of waiting; ``--no-wait`` not to): on this machine's ext4,
which has no journal, files made within minutes of many deletions nearby cost 5-40 times that. With ``--profile`` the last sweeplab round is profiled
(cProfile, the coordinator's thread) and its top entries printed. Results: bench/results/dask_submit.txt.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_engine import TRIVIAL, file_cost, machine, sweep_in, wait_for_cheap_files

from sweeplab.engine.launch import run_resolved
from sweeplab.executors.dask import DaskExecutor

N = 100
DASK = [sys.executable, "-m", "distributed.cli"]


def _run_command(_: int) -> int:
    return subprocess.run(TRIVIAL, capture_output=True, check=True).returncode


def _run_command_keeping_output(number: int, folder: str) -> int:
    """The plain way when the outputs are kept: a folder per trial with its stdout and stderr (3 files made,
    where sweeplab's layout and its exactly-once claim make 8)."""
    trial = os.path.join(folder, str(number))
    os.mkdir(trial)
    with open(os.path.join(trial, "stdout.txt"), "wb") as out, open(os.path.join(trial, "stderr.txt"), "wb") as err:
        return subprocess.run(TRIVIAL, stdout=out, stderr=err, check=True).returncode


def _cpu(processes: list[subprocess.Popen[bytes]]) -> tuple[float, float, float]:
    """CPU seconds so far of the scheduler, the workers themselves, and the trials the workers ran."""
    import psutil

    times = [psutil.Process(process.pid).cpu_times() for process in processes]
    scheduler, workers = times[0], times[1:]
    return (scheduler.user + scheduler.system, sum(t.user + t.system for t in workers),
            sum(t.children_user + t.children_system for t in workers))


def _start_cluster(folder: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    address_file = folder / "scheduler.json"
    log = open(folder / "cluster.log", "wb")  # noqa: SIM115 - kept open for the processes' lifetime
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--dashboard-address", ":0", "--scheduler-file",
                                  str(address_file)], stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while not address_file.exists():
        if time.monotonic() > deadline:
            raise SystemExit("the Dask scheduler did not start")
        time.sleep(0.1)
    workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                 str(address_file), "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
                                 "--dashboard-address", ":0", "--no-nanny"], stdout=log, stderr=log)
               for _ in range(2)]
    return str(address_file), [scheduler, *workers]


def main() -> None:
    from distributed import Client

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="?", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--dir", help="where the sweep folders are made (default: the temporary folder); "
                                      "/dev/shm shows the Dask path without this disk's cost of making files")
    parser.add_argument("--no-wait", action="store_true",
                        help="start at once, even while making files is dear after recent deletions")
    args = parser.parse_args()
    disk = "no waiting asked" if args.no_wait else wait_for_cheap_files(args.dir)
    folders = Path(tempfile.mkdtemp(prefix="sweeplab-dask-submit-", dir=args.dir))
    scheduler_file, processes = _start_cluster(folders)
    pair_cost, load = [2 * file_cost(str(folders), 200)], [os.getloadavg()[0]]  # (a folder and a file)
    ours, plain, kept, cpu_per_trial, main_thread = [], [], [], [], []
    by_process: dict[str, list[tuple[float, ...]]] = {"sweeplab": [], "plain": [], "plain, outputs kept": []}
    profile = cProfile.Profile(time.thread_time)  # CPU of the coordinator's thread, not waiting
    try:
        with Client(scheduler_file=scheduler_file, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)

            def measured(side: str, run: object) -> float:
                before = _cpu(processes)
                elapsed = run()  # type: ignore[operator]
                by_process[side].append(tuple((b - a) / N * 1000 for a, b in zip(before, _cpu(processes))))
                return elapsed

            def sweeplab_round(profiled: bool) -> float:
                resolved = sweep_in(Path(tempfile.mkdtemp(dir=folders)), {
                    "runner": "command", "command": TRIVIAL, "parallel": 2, "sweep": {"x": list(range(N))}})
                executor = DaskExecutor(client=client, slots=2)
                started, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
                if profiled:
                    profile.enable()
                outcome = run_resolved(resolved, executor=executor)
                if profiled:
                    profile.disable()
                elapsed = time.perf_counter() - started
                cpu_per_trial.append((time.process_time() - cpu) / N)
                main_thread.append((time.thread_time() - own) / N)
                assert outcome.exit_code == 0, outcome
                return elapsed

            def plain_round() -> float:  # (its outputs are thrown away)
                started = time.perf_counter()
                assert client.gather(client.map(_run_command, range(N), pure=False)) == [0] * N
                return time.perf_counter() - started

            def kept_round() -> float:
                folder = tempfile.mkdtemp(dir=folders)
                started = time.perf_counter()
                futures = client.map(_run_command_keeping_output, range(N), [folder] * N, pure=False)
                assert client.gather(futures) == [0] * N
                return time.perf_counter() - started

            sweeplab_round(False)  # warm-up: imports, worker caches
            plain_round()
            kept_round()
            for number in range(args.rounds):
                profiled = args.profile and number == args.rounds - 1
                sides = [(ours, "sweeplab", lambda profiled=profiled: sweeplab_round(profiled)),
                         (plain, "plain", plain_round), (kept, "plain, outputs kept", kept_round)]
                for times, side, run in sides[number % 3:] + sides[:number % 3]:  # each side first in turn
                    times.append(measured(side, run))
        pair_cost.append(2 * file_cost(str(folders), 200))
        load.append(os.getloadavg()[0])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker stuck closing its comms must not lose the figures
                process.kill()
                process.wait()
        shutil.rmtree(folders, ignore_errors=True)
    ratios = [a / b for a, b in zip(ours, plain)]
    kept_ratios = [a / b for a, b in zip(ours, kept)]
    lines = [
        machine(), "",
        f"[dask] {N} trivial command trials, a scheduler and 2 single-thread workers in their own processes, "
        f"{args.rounds} rounds (each side first in turn), sweep folders in {folders.parent}",
        f"  sweeplab --dask                median {statistics.median(ours):6.3f} s   min {min(ours):6.3f} s",
        f"  client.map + subprocess.run    median {statistics.median(plain):6.3f} s   min {min(plain):6.3f} s",
        f"  client.map, outputs kept       median {statistics.median(kept):6.3f} s   min {min(kept):6.3f} s"
        "   (a folder, stdout and stderr files per trial)",
        f"  sweeplab / plain Dask: median {statistics.median(ratios):.3f}x ({min(ratios):.3f} … {max(ratios):.3f}) "
        "(target <= 1.2x)",
        f"  sweeplab / plain Dask keeping the outputs: median {statistics.median(kept_ratios):.3f}x "
        f"({min(kept_ratios):.3f} … {max(kept_ratios):.3f})",
        f"  coordinator CPU (this process: sweeplab and the Dask client's thread): median "
        f"{statistics.median(cpu_per_trial) * 1000:.2f} ms per trial (target <= 3 ms), of which sweeplab's thread "
        f"{statistics.median(main_thread) * 1000:.2f} ms (user and system time: file-system calls included)",
        "  CPU per trial by process, median ms (scheduler / the workers themselves / the trials): "
        + "; ".join(f"{side} " + " / ".join(f"{statistics.median(column):.2f}" for column in zip(*rows))
                    for side, rows in by_process.items()),
        f"  a folder and a file made: {pair_cost[0]:.2f} ms CPU before the rounds, {pair_cost[1]:.2f} ms after; "
        f"load average {load[0]:.2f} before, {load[1]:.2f} after; {disk}",
    ]
    print("\n".join(lines))
    if args.profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        pstats.Stats(profile).sort_stats("cumtime").print_stats(40)
    elif not args.dir:  # (a run elsewhere is a comparison, recorded by hand)
        (Path(__file__).parent / "results" / "dask_submit.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
