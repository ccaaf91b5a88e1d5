"""What readable trial folders cost: staging 2,000 attempts with readable names (their keys in trials/keys.tsv),
against the two former layouts (readable names with a file 'key' in each folder; folders named by the key),
side by side in interleaved rounds.

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

from sweeplab.engine.staging import Staging, trial_folder_name
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


def _key_file_trial_dir(staging: Staging, trial) -> str:  # type: ignore[no-untyped-def]
    """The layout before keys.tsv: trials/<readable name>, with the key in a file 'key' inside."""
    folder = os.path.join(staging.trials_dir, trial_folder_name(trial, staging.sweep.sweep_id, staging.sweep.replicates))
    os.mkdir(folder)
    fd = os.open(os.path.join(folder, "key"), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    os.write(fd, (trial.key + "\n").encode())
    os.close(fd)
    return folder


def _stage_all(sweep, plan: Plan, layout: str) -> float:  # type: ignore[no-untyped-def]
    shutil.rmtree(sweep.sweep_dir, ignore_errors=True)
    os.makedirs(os.path.join(sweep.sweep_dir, "trials"))
    staging = Staging(sweep, plan, reuse_leftovers=True)
    if layout == "key-named":
        staging.trial_dir = lambda trial: _legacy_trial_dir(staging, trial)  # type: ignore[method-assign]
    elif layout == "key file":
        staging.trial_dir = lambda trial: _key_file_trial_dir(staging, trial)  # type: ignore[method-assign]
    trials = list(plan)
    started = time.perf_counter()
    for trial in trials:
        staging.stage(trial, 1)
    staging.close()
    return time.perf_counter() - started


def main() -> None:
    layouts = {"readable names, keys.tsv": "keys.tsv", "readable names + key file": "key file",
               "folders named by key": "key-named"}
    times: dict[str, list[float]] = {label: [] for label in layouts}
    with tempfile.TemporaryDirectory() as tmp:
        sweep = _sweep(Path(tmp))
        plan = Plan(sweep)
        sides = list(layouts.items())
        for number in range(ROUNDS):
            for label, layout in sides[number % 3:] + sides[:number % 3]:  # each layout first in turn
                times[label].append(_stage_all(sweep, plan, layout))
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"[trial folders] staging {len(plan)} attempts (folder, stdout/stderr, config.json and its readable "
          f"link), {ROUNDS} interleaved rounds")
    for label, values in times.items():
        print(f"  {label:27s} median {statistics.median(values) / len(plan) * 1e6:7.1f} us per attempt")
    now = times["readable names, keys.tsv"]
    for label in ("readable names + key file", "folders named by key"):
        ratios = sorted(a / b for a, b in zip(now, times[label]))
        print(f"  keys.tsv / {label}: median {statistics.median(ratios):.3f}x (min {ratios[0]:.3f} … max "
              f"{ratios[-1]:.3f}); difference {(statistics.median(now) - statistics.median(times[label])) / len(plan) * 1e6:.1f} "
              "us per attempt")


if __name__ == "__main__":
    main()
