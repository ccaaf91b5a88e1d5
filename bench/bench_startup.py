"""Start-up time of the ``sweeplab`` command: what a user waits for before anything happens.

Each command runs as ``python -m sweeplab ...`` in a fresh process, interleaved round by round
with ``python -c pass`` (the interpreter alone) so that a busy moment of this shared machine
hits every command alike. Then one ``python -X importtime`` run per command names the imports
that cost the most. Run from the repository root:

    python bench/bench_startup.py [--rounds 9]

Targets on the 2-core reference machine: each ``--help`` under 0.35 s, the dry run under 0.6 s.
Results are recorded in bench/README.md and bench/results/startup.txt.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_engine import machine

REPO = Path(__file__).resolve().parents[1]

#: label -> (arguments after the interpreter, target seconds or None)
COMMANDS: dict[str, tuple[list[str], float | None]] = {
    "python -c pass": (["-c", "pass"], None),
    "sweeplab --help": (["-m", "sweeplab", "--help"], 0.35),
    "sweeplab status --help": (["-m", "sweeplab", "status", "--help"], 0.35),
    "sweeplab analyze --help": (["-m", "sweeplab", "analyze", "--help"], 0.35),
    "sweeplab run sweeps/demo_sweep.yaml --dry-run": (["-m", "sweeplab", "run", "sweeps/demo_sweep.yaml",
                                                       "--dry-run"], 0.6),
}
BASELINE = "python -c pass"


def run_once(arguments: list[str]) -> float:
    """Wall seconds of one fresh process, which must succeed."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *arguments], cwd=REPO, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed with exit code {done.returncode}:\n{done.stderr}")
    return elapsed


def import_times(arguments: list[str]) -> dict[str, float]:
    """Cumulative milliseconds of each import in one ``-X importtime`` run: sweeplab modules by full
    name, everything else by top-level package (a package's submodules imported from outside it count)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *arguments], cwd=REPO, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = [line[len("import time:"):].split("|") for line in done.stderr.splitlines()
             if line.startswith("import time:") and "cumulative" not in line]
    found: dict[str, float] = {}
    roots: list[str] = []  # roots[level]: top-level package of the import being read at that nesting level
    for _self, cumulative, raw in reversed(lines):  # reversed, a parent comes before what it imported
        level = (len(raw) - len(raw.lstrip()) - 1) // 2
        name = raw.strip()
        root = name.split(".")[0]
        del roots[level:]
        outermost = not roots or roots[-1] != root
        roots.append(root)
        milliseconds = int(cumulative) / 1000
        if name.startswith("sweeplab"):
            found[name] = milliseconds
        elif outermost:
            found[root] = found.get(root, 0.0) + milliseconds
    return found


def biggest_imports(arguments: list[str], interpreter: set[str], count: int = 6) -> tuple[str, str]:
    """The sweeplab modules and the other packages (not those of a bare interpreter) costing the most."""
    found = import_times(arguments)

    def top(names: list[str]) -> str:
        return ", ".join(f"{name} {found[name]:.0f}" for name in sorted(names, key=lambda n: -found[n])[:count])

    return (top([name for name in found if name.startswith("sweeplab")]),
            top([name for name in found if not name.startswith("sweeplab") and name not in interpreter]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="fresh processes per command (default: %(default)s)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}; {args.rounds} rounds, commands interleaved; cwd {REPO}")
    for arguments, _target in COMMANDS.values():  # warm the file cache and the bytecode
        run_once(arguments)
    times: dict[str, list[float]] = {label: [] for label in COMMANDS}
    for _ in range(args.rounds):
        for label, (arguments, _target) in COMMANDS.items():
            times[label].append(run_once(arguments))
    base = statistics.median(times[BASELINE])
    print()
    print(f"{'command':<48} {'min':>7} {'median':>7} {'- python':>9}  target")
    for label, (_arguments, target) in COMMANDS.items():
        low, middle = min(times[label]), statistics.median(times[label])
        verdict = "" if target is None else f"< {target:.2f} s: {'met' if middle < target else 'NOT MET'}"
        print(f"{label:<48} {low:>6.3f}s {middle:>6.3f}s {middle - base:>8.3f}s  {verdict}")
    print()
    print("biggest imports (cumulative ms in one -X importtime run; packages a bare interpreter imports left out):")
    interpreter = set(import_times(COMMANDS[BASELINE][0]))
    for label, (arguments, _target) in COMMANDS.items():
        if label != BASELINE:
            ours, packages = biggest_imports(arguments, interpreter)
            print(f"  {label}\n    sweeplab: {ours}\n    packages: {packages}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
