"""``parallel: auto`` against the best hand setting on the lab's full factorial (issue 14).

    python bench/bench_auto_factorial.py [--rounds N]     # about 2 minutes a round on 2 shared cores

Runs ``sweeps/full_factorial_sweep.yaml`` (72 simulated-mind trials) with ``parallel: auto`` and with
``--parallel 1, 2, 3``, interleaved round by round, each into a fresh folder and journal; prints what
auto decided (and why) and auto's time against the best count's. Results: bench/results/auto.txt.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_engine import machine, wait_for_cheap_files

from sweeplab.engine.launch import prepare
from sweeplab.planning.resolve import resolve
from sweeplab.planning.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "sweeps" / "full_factorial_sweep.yaml"
SETTINGS: list[int | str] = ["auto", 1, 2, 3]


def run_once(parallel: int | str, folder: Path) -> tuple[float, int, tuple[str, ...]]:
    spec = load_spec(SPEC).model_copy(update={
        "parallel": parallel, "output_dir": str(folder / "sweeps"), "db_path": str(folder / "journal.db"),
        "resume": False})
    launch = prepare(resolve(spec, spec_dir=SPEC.parent))
    started = time.perf_counter()
    outcome = launch.run()
    elapsed = time.perf_counter() - started
    assert outcome.exit_code == 0 and outcome.plan_completed == outcome.total, outcome
    return elapsed, launch.budget.slots, launch.budget.reasons


MEASURE = """
import os, runpy, sys, time
start = time.monotonic()
sys.argv = ["sweeplab.phenomenology", "--config", sys.argv[1], "--db", sys.argv[2], "--metrics", sys.argv[3], "--quiet"]
try:
    runpy.run_module("sweeplab.phenomenology", run_name="__main__")
except SystemExit:
    pass
wall = time.monotonic() - start
cpu, waited, _ = (int(x) / 1e9 for x in open("/proc/self/schedstat").read().split())
print(wall, cpu, waited)
"""


def what_a_trial_uses(rounds: int = 5) -> list[str]:
    """How one simulated-mind trial spends its time: on a CPU, waiting for one (the machine's load), or
    neither (I/O, sleeping). Measured from the trial process's own /proc/self/schedstat."""
    import subprocess
    import sys

    config = ROOT / "experiments" / "examples" / "unstable_memory_moderate.json"
    samples = []
    with tempfile.TemporaryDirectory(prefix="sweeplab-auto-trial-") as tmp:
        for number in range(rounds):
            out = subprocess.run([sys.executable, "-c", MEASURE, str(config), f"{tmp}/t{number}.db",
                                  f"{tmp}/m{number}.json"], capture_output=True, text=True, check=True).stdout
            samples.append([float(x) for x in out.split()[-3:]])
    wall, cpu, waited = (statistics.median(column) for column in zip(*samples))
    other = max(0.0, wall - cpu - waited)
    return [f"  one trial alone (median of {rounds}): {wall:.3f} s wall = {cpu:.3f} s on a CPU + {waited:.3f} s waiting "
            f"for one + {other:.3f} s neither (I/O, sleep): one busy thread, {cpu / max(1e-9, cpu + other):.0%} of the "
            f"time it could run; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--trial-only", action="store_true", help="only measure what one trial uses")
    args = parser.parse_args()
    os.chdir(ROOT)  # the spec names its base config from the repository root
    if args.trial_only:
        print("\n".join(what_a_trial_uses()))
        return
    disk = wait_for_cheap_files()
    load_before = os.getloadavg()[0]
    times: dict[int | str, list[float]] = {setting: [] for setting in SETTINGS}
    decided: tuple[int, tuple[str, ...]] = (0, ())
    with tempfile.TemporaryDirectory(prefix="sweeplab-auto-") as tmp:
        for number in range(args.rounds):
            for setting in SETTINGS if number % 2 == 0 else reversed(SETTINGS):
                folder = Path(tmp) / f"{setting}-{number}"
                elapsed, slots, reasons = run_once(setting, folder)
                times[setting].append(elapsed)
                if setting == "auto":
                    decided = (slots, reasons)
                print(f"  round {number + 1}: parallel {setting!s:>4}: {elapsed:6.2f} s", flush=True)
    medians = {setting: statistics.median(values) for setting, values in times.items()}
    best = min((s for s in SETTINGS if s != "auto"), key=lambda s: medians[s])
    lines = [
        machine(), "",
        f"[auto] sweeps/full_factorial_sweep.yaml (72 simulated-mind trials), {args.rounds} interleaved round(s)",
        f"  auto decided {decided[0]} slot(s): {'; '.join(decided[1])}",
        *(f"  parallel {setting!s:>4}   median {medians[setting]:6.2f} s" for setting in SETTINGS),
        f"  auto / best (--parallel {best}) = {medians['auto'] / medians[best]:.3f}x (target <= 1.05x); "
        f"auto / --parallel 2 = {medians['auto'] / medians[2]:.3f}x",
        f"  load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other work on the machine); {disk}",
        *what_a_trial_uses(),
    ]
    print("\n".join(lines))
    (Path(__file__).parent / "results" / "auto.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
