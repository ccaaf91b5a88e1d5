"""Engine benchmarks: dispatch overhead, makespan, resume start-up and coordinator memory.

Each figure is compared with the obvious alternative measured in the same run, since the
machines these run on are shared and noisy. Run from the repository root:

    python bench/bench_engine.py            # everything (about 2 minutes on 2 cores)
    python bench/bench_engine.py dispatch   # one part: dispatch | python | makespan | resume | memory

Results are recorded in bench/README.md together with the machine they ran on.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sweeplab.engine.folder import stored_sweep_config
from sweeplab.engine.launch import run_resolved
from sweeplab.journal.writer import Journal
from sweeplab.planning.plan import Plan
from sweeplab.planning.resolve import resolve
from sweeplab.planning.spec import spec_from_mapping

PY = sys.executable
HERE = Path(__file__).resolve().parent


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import psutil
    return (f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.1f} GiB RAM, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


#: a file creation dearer than this (ms of CPU) is the disk's, not the code's (see wait_for_cheap_files)
CHEAP_FILE_MS = 0.06


def file_cost(folder: str | None = None, count: int = 50) -> float:
    """Milliseconds of CPU one file creation costs now, in a new folder under ``folder``: ``count`` folders
    and a file in each, all kept (deleting them would make the next files made nearby dear)."""
    probe = tempfile.mkdtemp(dir=folder)
    started = time.process_time()
    for number in range(count):
        os.mkdir(f"{probe}/d{number}")
        os.close(os.open(f"{probe}/d{number}/f", os.O_WRONLY | os.O_CREAT, 0o644))
    return (time.process_time() - started) / count / 2 * 1000


def wait_for_cheap_files(folder: str | None = None, patience: float = 420.0) -> str:
    """Wait, up to ``patience`` seconds, until making a file under ``folder`` costs at most CHEAP_FILE_MS.

    On an ext4 without a journal (this machine's), a file made within minutes of many deletions nearby
    (the previous benchmark's, a test run's) costs 5-40 times more CPU: ext4 skips every inode freed in
    the last 60-360 s. A side that makes files would pay for its predecessor's cleanup. Returns what was
    found, for the report.
    """
    probes = os.path.join(folder or tempfile.gettempdir(), "sweeplab-bench-probes")  # (delete it at leisure)
    os.makedirs(probes, exist_ok=True)
    started = time.monotonic()
    cost = file_cost(probes)
    while cost > CHEAP_FILE_MS and time.monotonic() - started < patience:
        time.sleep(15)
        cost = file_cost(probes)
    waited = time.monotonic() - started
    return (f"a file creation cost {cost:.3f} ms of CPU when the rounds began"
            + (f", after {waited:.0f} s of waiting for it to fall to {CHEAP_FILE_MS} ms" if waited >= 1 else "")
            + (" (it did not: the figures include this disk's cost)" if cost > CHEAP_FILE_MS else ""))


def sweep_in(tmp: Path, sweep: dict, base: dict | None = None, sweep_id: str = "bench"):
    base_path = tmp / "base.json"
    base_path.write_text(json.dumps(base or {"x": 0.0}))
    data = {"base_config": str(base_path), "sweep_id": sweep_id, "output_dir": str(tmp / "sweeps"),
            "db_path": str(tmp / "bench.db"), **sweep}
    return resolve(spec_from_mapping(data))


def timed_sweep(resolved) -> float:
    started = time.perf_counter()
    outcome = run_resolved(resolved)
    elapsed = time.perf_counter() - started
    assert outcome.exit_code == 0, outcome
    return elapsed


def median_of(fn, rounds: int) -> float:
    return statistics.median(fn() for _ in range(rounds))


# --- 1. 100 trivial command trials at parallelism 2 ---------------------------------------------
TRIVIAL = [PY, "-c", "print('{\"x\": 1}')"]


def bench_dispatch(rounds: int = 11) -> None:
    """sweeplab against xargs and a thread pool on 100 trivial trials.

    Every sweep's folder stays until all rounds are done: deleting a round's ~700 files right
    before the next round is measured would bill sweeplab for the file system's clean-up (on
    an ext4 without a journal, creating a file soon after many deletions scans the recently
    freed inodes, about half a millisecond per file here). One warm-up round is not counted.
    """
    n = 100
    folders = Path(tempfile.mkdtemp(prefix="sweeplab-dispatch-"))
    def ours() -> float:
        resolved = sweep_in(Path(tempfile.mkdtemp(dir=folders)), {"runner": "command", "command": TRIVIAL,
                                                                   "parallel": 2, "sweep": {"x": list(range(n))}})
        return timed_sweep(resolved)
    def xargs() -> float:
        started = time.perf_counter()
        subprocess.run(["xargs", "-P2", "-I{}", PY, "-c", "print('{\"x\": 1}')"],
                       input="\n".join(map(str, range(n))), text=True, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - started
    def thread_pool() -> float:
        started = time.perf_counter()
        with cf.ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: subprocess.run(TRIVIAL, capture_output=True, check=True), range(n)))
        return time.perf_counter() - started
    contenders = {"sweeplab": ours, "xargs -P2": xargs, "ThreadPool(2)+subprocess.run": thread_pool}
    rows: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    try:
        for run in contenders.values():  # warm-up: page cache, imports, the file system's state
            run()
        for round_number in range(rounds):
            # interleaved, and the order rotates, so drift of the machine hits all three alike
            for name in names[round_number % 3:] + names[:round_number % 3]:
                os.sync()  # the previous run's writeback must not land on this one
                rows[name].append(contenders[name]())
    finally:
        shutil.rmtree(folders, ignore_errors=True)
    print(f"\n[dispatch] {n} trivial command trials, parallelism 2, {rounds} interleaved rounds")
    print(f"  {'':30s} {'median':>8s} {'min':>7s}   sweeplab/this: median of per-round ratios (min … max)")
    for name, values in rows.items():
        ratios = sorted(a / b for a, b in zip(rows["sweeplab"], values))
        print(f"  {name:30s} {statistics.median(values):6.3f} s {min(values):6.3f} s   "
              f"{statistics.median(ratios):5.3f}x ({ratios[0]:.3f} … {ratios[-1]:.3f})")
    per_trial = (statistics.median(rows["sweeplab"]) - statistics.median(rows["ThreadPool(2)+subprocess.run"])) * 2 / n
    print(f"  extra wall time per trial vs thread pool: {per_trial * 1000:.2f} ms (per slot)")


# --- 2. 500 python-runner trials vs ProcessPoolExecutor with a fresh interpreter per task -----
def bench_python(n: int = 500) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        resolved = sweep_in(Path(tmp), {"runner": "python", "function": "bench_functions:trivial", "parallel": 2,
                                        "sweep": {"x": list(range(n))}})
        cwd = os.getcwd()
        os.chdir(HERE)  # trials import bench_functions from the current folder, as a user's module
        try:
            ours = timed_sweep(resolved)
        finally:
            os.chdir(cwd)
    done = subprocess.run([PY, str(HERE / "pool_reference.py"), str(n)], cwd=HERE, capture_output=True, text=True,
                          check=True)
    theirs = float(done.stdout.strip().splitlines()[-1])
    print(f"\n[python] {n} trivial python-runner trials, parallelism 2 (fresh interpreter per trial on both sides)")
    print(f"  sweeplab                                    {ours:6.2f} s = {ours / n * 2 * 1000:6.1f} ms per trial per slot")
    print(f"  ProcessPoolExecutor(2, spawn, 1 task/child) {theirs:6.2f} s = {theirs / n * 2 * 1000:6.1f} ms per trial per slot")
    print(f"  ratio sweeplab/pool = {ours / theirs:.3f}x; difference {(ours - theirs) / n * 2 * 1000:+.1f} ms per trial per slot")


# --- 3. makespan of 16 sleep trials 0.1 … 1.6 s on 2 slots --------------------------------------
SLEEP = ["sh", "-c", "exec sleep $(tr -dc 0-9. < \"$0\")", "{config}"]  # the config is {"d": 0.3}


def bench_makespan() -> None:
    durations = [round(0.1 * i, 1) for i in range(1, 17)]
    ideal = sum(durations) / 2
    with tempfile.TemporaryDirectory() as tmp:
        base = {"d": 0.0}
        first = sweep_in(Path(tmp), {"runner": "command", "command": SLEEP, "parallel": 2,
                                     "sweep": {"d": durations}}, base, sweep_id="first")
        cold = timed_sweep(first)
        # Same base config and parameters under a new id: durations are known from the first run.
        second = sweep_in(Path(tmp), {"runner": "command", "command": SLEEP, "parallel": 2,
                                      "sweep": {"d": durations}}, base, sweep_id="second")
        warm = timed_sweep(second)
    def zero_overhead_in_order() -> float:
        started = time.perf_counter()
        with cf.ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda d: subprocess.run(["sleep", str(d)], check=True), durations))
        return time.perf_counter() - started
    reference = zero_overhead_in_order()
    print(f"\n[makespan] 16 sleep trials 0.1 … 1.6 s on 2 slots; ideal {ideal:.2f} s")
    print(f"  sweeplab, plan order (no history)      {cold:6.3f} s = {cold / ideal:5.3f}x ideal (target ≤ 1.07x)")
    print(f"  sweeplab, longest first (known times)  {warm:6.3f} s = {warm / ideal:5.3f}x ideal (target ≤ 1.02x)")
    print(f"  thread pool + sleep, submission order  {reference:6.3f} s = {reference / ideal:5.3f}x ideal")


# --- 4. resume of a 100,000-trial sweep with 99,000 done ------------------------------------------
def _prefill(tmp: Path, total_x: int, total_y: int, done: int) -> str:
    resolved = sweep_in(tmp, {"runner": "command", "command": ["true"], "parallel": 2,
                              "sweep": {"x": list(range(total_x)), "y": list(range(total_y))}}, {"x": 0, "y": 0})
    plan = Plan(resolved)
    journal = Journal(resolved.db_path)
    stored = stored_sweep_config(resolved, len(plan))
    journal.save_sweep(resolved.sweep_id, description="", tags=[],
                       spec=dict(stored["spec"], _resolved_params=stored["sweep_params"]),
                       base_config=resolved.base_config, base_hash=resolved.base_hash,
                       sweep_dir=str(resolved.sweep_dir), total_trials=len(plan))
    resolved.sweep_dir.mkdir(parents=True, exist_ok=True)
    (resolved.sweep_dir / "sweep_config.json").write_text(json.dumps(stored))
    now = "2026-01-01T00:00:00+00:00"
    with journal.transaction() as conn:
        conn.executemany(
            """INSERT INTO trials (sweep_id, key, idx, experiment_id, params_json, repeat, label, seed, status, attempts,
                                   metrics_json, start_time, end_time, duration) VALUES
               (?, ?, ?, ?, ?, 0, NULL, ?, 'completed', 1, '{"v": 1}', ?, ?, 0.01)""",
            ((resolved.sweep_id, t.key, t.index, t.experiment_id, json.dumps(t.params), t.seed, now, now)
             for t in plan[:done]))
        conn.executemany(
            """INSERT INTO attempts (sweep_id, key, attempt, status, start_time, end_time, duration)
               VALUES (?, ?, 1, 'completed', ?, ?, 0.01)""",
            ((resolved.sweep_id, t.key, now, now) for t in plan[:done]))
    journal.close()
    return resolved.sweep_id


def _first_launch_after_start(tmp: Path, sweep_id: str, argv: list[str]) -> tuple[float, int]:
    events = tmp / "sweeps" / sweep_id / "events.jsonl"
    offset = events.stat().st_size if events.exists() else 0
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    first = None
    peak = 0
    deadline = started + 120
    while time.perf_counter() < deadline:
        if first is None and events.exists():
            with open(events) as handle:
                handle.seek(offset)
                if any('"event": "started"' in line for line in handle):
                    first = time.perf_counter() - started
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak = max(peak, int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]))
        except (OSError, StopIteration):
            pass
        if first is not None and time.perf_counter() - started > first + 3:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    return (first if first is not None else float("nan")), peak // 1024


def bench_resume() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        prefill_start = time.perf_counter()
        sweep_id = _prefill(tmp, 1000, 100, 99_000)
        prefill = time.perf_counter() - prefill_start
        first, peak = _first_launch_after_start(
            tmp, sweep_id, [PY, "-m", "sweeplab", "resume", sweep_id, "--sweep-dir", str(tmp / "sweeps"), "--quiet"])
    print(f"\n[resume] 100,000-trial sweep with 99,000 completed (journal prefilled in {prefill:.1f} s)")
    print(f"  time from 'sweeplab resume' start to the first new trial launched: {first:.2f} s (target < 3 s)")
    print(f"  coordinator peak RSS while resuming: {peak} MB")


# --- 5. coordinator memory on a 1,000,000-trial plan ----------------------------------------------
def bench_memory() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "base.json").write_text(json.dumps({"x": 0, "y": 0}))
        argv = [PY, "-m", "sweeplab", "run", "--base", "base.json", "--param", "x", *map(str, range(1000)),
                "--param", "y", *map(str, range(1000)), "--command", "true", "--parallel", "2",
                "--sweep-id", "million", "--output", "sweeps", "--db", "million.db", "--yes", "--quiet"]
        first, peak = _first_launch_after_start(tmp, "million", argv)
    print("\n[memory] 1,000,000-trial plan, trivial trials at parallelism 2 for ~3 s after the first launch")
    print(f"  first trial launched after {first:.2f} s; coordinator peak RSS {peak} MB (target < 250 MB)")


PARTS = {"dispatch": bench_dispatch, "python": bench_python, "makespan": bench_makespan, "resume": bench_resume,
         "memory": bench_memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"which benchmarks: {', '.join(PARTS)} (default all)")
    args = parser.parse_args()
    print(machine())
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}: choose from {', '.join(PARTS)}")
    for name in args.parts or PARTS:
        PARTS[name]()


if __name__ == "__main__":
    main()
