"""What readable trial folders cost: staging 2,000 attempts with readable names and a key file, against the
former layout (a folder named by the key, no key file), side by side in interleaved rounds.

Staging happens while other trials run (the coordinator stages the next trial ahead), so this is the
file-system work per trial start the readable names add. Run from the repository root:

    python bench/bench_trial_folders.py

Results: bench/results/trial_folders.txt (with the machine).
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sweeplab.engine.staging import Staging
from sweeplab.planning.plan import Plan
from sweeplab.planning.resolve import resolve
from sweeplab.planning.spec import spec_from_mapping

TRIALS = 2000
ROUNDS = 7


def _sweep(folder: Path):  # type: ignore[no-untyped-def]
    (folder / "base.json").write_text('{"lr": 0.1, "opt": "adam"}')
    spec = spec_from_mapping({"base_config": str(folder / "base.json"), "sweep_id": "bench",
                              "command": [sys.executable, "-c", "pass"], "output_dir": str(folder / "out"),
                              "db_path": str(folder / "db.sqlite"),
                              "sweep": {"lr": [i / 1000 for i in range(TRIALS // 4)], "opt": ["adam", "sgd"]},
                              "repeats": 2})
    return resolve(spec)


def _legacy_trial_dir(staging: Staging, trial) -> str:  # type: ignore[no-untyped-def]
    """The former layout: trials/<key>, made on first use, nothing written inside."""
    folder = os.path.join(staging.trials_dir, trial.key)
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    return folder


def _stage_all(sweep, plan: Plan, legacy: bool) -> float:  # type: ignore[no-untyped-def]
    shutil.rmtree(sweep.sweep_dir, ignore_errors=True)
    os.makedirs(os.path.join(sweep.sweep_dir, "trials"))
    staging = Staging(sweep, plan, reuse_leftovers=True)
    if legacy:
        staging.trial_dir = lambda trial: _legacy_trial_dir(staging, trial)  # type: ignore[method-assign]
    trials = list(plan)
    started = time.perf_counter()
    for trial in trials:
        staging.stage(trial, 1)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sweep = _sweep(Path(tmp))
        plan = Plan(sweep)
        readable, legacy = [], []
        for _ in range(ROUNDS):
            readable.append(_stage_all(sweep, plan, legacy=False))
            legacy.append(_stage_all(sweep, plan, legacy=True))
    ratios = sorted(r / k for r, k in zip(readable, legacy))
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"[trial folders] staging {len(plan)} attempts (folder, stdout/stderr, config.json and its readable "
          f"link), {ROUNDS} interleaved rounds")
    print(f"  readable names + key file   median {statistics.median(readable) / len(plan) * 1e6:7.1f} us per attempt")
    print(f"  folder named by key         median {statistics.median(legacy) / len(plan) * 1e6:7.1f} us per attempt")
    print(f"  ratio readable/key: median {statistics.median(ratios):.3f}x (min {ratios[0]:.3f} … max {ratios[-1]:.3f}); "
          f"difference {(statistics.median(readable) - statistics.median(legacy)) / len(plan) * 1e6:.1f} us per attempt")


if __name__ == "__main__":
    main()
