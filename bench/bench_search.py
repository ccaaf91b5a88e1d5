"""Search strategy benchmarks: how many trials each strategy needs, measured against its alternative in one run.

    python bench/bench_search.py              # everything (about 4 minutes on 2 cores)
    python bench/bench_search.py bayesian     # one part: bayesian | refine | lab

* ``bayesian``: trials until the best trial is within 1 % of the optimum, plain Optuna (the same
  sampler and seed, one trial at a time, in process) against ``strategy: bayesian`` through the
  real engine (python runner, a process per trial, 2 at a time): a noisy quadratic (optimum 1 at
  (0.3, 0.7), noise sd 0.01) and Branin (minimum 0.397887).
* ``refine``: a planted step of height 1 at an unknown x0 in [0, 1] with noise, 100 seeds each, in
  process: how often refine locates it within 0.02, and its trials against a uniform grid at 0.02
  with the same 3 replicates (153 trials).
* ``lab``: the example refine sweep on the simulated mind (resolution 0.05) against the uniform grid
  at that resolution (21 levels x 3 replicates), both through the engine: trials and wall time.

Results go to bench/results/search.txt (with the machine).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HELPERS = REPO / "tests" / "helpers"
# a script, not the package: the planted functions and the refine simulation are the tests' own
sys.path[:0] = [str(HELPERS), str(REPO / "tests")]

from bench_engine import machine  # noqa: E402
from search_functions import branin_value, quadratic_value  # noqa: E402
from test_search_refine import UNIFORM_GRID, refine_planted_step  # noqa: E402

BRANIN_MIN = 0.397887


def plain_optuna(problem: str, seed: int, budget: int) -> int | None:
    """Trials plain sequential Optuna (the sampler sweeplab uses by default, same seed) needs to come
    within 1 % of the optimum, or None within ``budget``."""
    import optuna

    from sweeplab.search.bayesian import make_sampler
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize" if problem == "quadratic" else "minimize",
                                sampler=make_sampler("tpe", seed))
    import random
    for number in range(1, budget + 1):
        trial = study.ask()
        if problem == "quadratic":
            x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
            value = quadratic_value(x, y)
            study.tell(trial, value + random.Random(f"{seed}:{x!r}:{y!r}").gauss(0, 0.01))
            if value >= 0.99:
                return number
        else:
            x, y = trial.suggest_float("x", -5, 10), trial.suggest_float("y", 0, 15)
            value = branin_value(x, y)
            study.tell(trial, value)
            if value <= BRANIN_MIN * 1.01:
                return number
    return None


def sweeplab_bayesian(problem: str, seed: int, budget: int, tmp: Path) -> tuple[int | None, float]:
    """(trials in journal order until within 1 %, wall seconds) of ``strategy: bayesian`` with parallel 2."""
    root = tmp / f"{problem}_{seed}"
    root.mkdir()
    shutil.copy(HELPERS / "search_functions.py", root / "search_functions.py")
    (root / "base.json").write_text(json.dumps({"x": 0.5, "y": 0.5, "noise": 0.01}))
    quadratic = problem == "quadratic"
    spec = {"sweep_id": "bench", "base_config": "base.json", "runner": "python", "isolation": "process",
            "function": f"search_functions:{'quadratic' if quadratic else 'branin'}", "strategy": "bayesian",
            "n_trials": budget, "seed": seed, "parallel": 2, "output_dir": "out", "db_path": "out/db.sqlite",
            "objective": {"metric": "score" if quadratic else "f", "direction": "maximize" if quadratic else "minimize"},
            "sweep": {"x": {"uniform": [0, 1] if quadratic else [-5, 10]},
                      "y": {"uniform": [0, 1] if quadratic else [0, 15]}}}
    (root / "spec.yaml").write_text(yaml.safe_dump(spec))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sweeplab", "run", "spec.yaml", "--yes", "-q"], cwd=root,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    with sqlite3.connect(root / "out" / "db.sqlite") as conn:
        rows = conn.execute("SELECT params_json FROM trials WHERE sweep_id = 'bench' ORDER BY idx").fetchall()
    for number, (params,) in enumerate(rows, start=1):
        p = json.loads(params)
        if (quadratic_value(p["x"], p["y"]) >= 0.99) if quadratic else (branin_value(p["x"], p["y"]) <= BRANIN_MIN * 1.01):
            return number, wall
    return None, wall


def _shown(values: list[int | None]) -> str:
    return "[" + ", ".join("-" if v is None else str(v) for v in values) + "]"


def bench_bayesian(out: list[str]) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for problem, seeds, budget in (("quadratic", range(6), 40), ("branin", range(3), 200)):
            plain = [plain_optuna(problem, seed, budget) for seed in seeds]
            ours = [sweeplab_bayesian(problem, seed, budget, tmp) for seed in seeds]
            reached = [n for n, _ in ours]
            walls = [w for _, w in ours]
            plain_median = statistics.median(n if n is not None else budget + 1 for n in plain)
            ours_median = statistics.median(n if n is not None else budget + 1 for n in reached)
            out.append(f"[bayesian] {problem}: trials until the best is within 1 % of the optimum "
                       f"(budget {budget}; '-' = not within the budget), TPE seeds {list(seeds)}")
            out.append(f"  plain Optuna, 1 at a time, in process      {_shown(plain)}  median {plain_median}")
            out.append(f"  sweeplab bayesian, parallel 2, the engine  {_shown(reached)}  median {ours_median}  "
                       f"(ratio of medians {ours_median / plain_median:.2f}x; {statistics.mean(walls):.1f} s a sweep)")
            print("\n".join(out[-3:]), flush=True)


def bench_refine(out: list[str]) -> None:
    for noise in (0.2, 0.3, 0.5):
        runs = [refine_planted_step(seed, noise=noise) for seed in range(100)]
        within = sum(1 for x0, est, _, _ in runs if est is not None and abs(est - x0) <= 0.02)
        used = [n for _, _, n, _ in runs]
        out.append(f"[refine] step of 1 at x0 ~ U(0, 1), noise sd {noise}, 3 replicates, 100 seeds, budget "
                   f"{int(0.4 * UNIFORM_GRID)}: within 0.02 in {within}/100; trials mean {statistics.mean(used):.1f}, "
                   f"max {max(used)} = {max(used) / UNIFORM_GRID:.0%} of the uniform grid's {UNIFORM_GRID}")
        print(out[-1], flush=True)


def _run_example(spec: Path, tmp: Path, **overrides: object) -> tuple[int, float]:
    data = yaml.safe_load(spec.read_text())
    data.update({"output_dir": str(tmp / "out"), "db_path": str(tmp / "out" / "db.sqlite"), "resume": False,
                 "base_config": str(REPO / data["base_config"])}, **overrides)
    for key in [k for k, v in overrides.items() if v is None]:
        data.pop(key)
    path = tmp / f"{data['sweep_id']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sweeplab", "run", str(path), "--yes", "-q"], cwd=REPO,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    with sqlite3.connect(tmp / "out" / "db.sqlite") as conn:
        count = conn.execute("SELECT COUNT(*) FROM trials WHERE sweep_id = ?", (data["sweep_id"],)).fetchone()[0]
    return count, wall


def bench_lab(out: list[str]) -> None:
    spec = REPO / "sweeps" / "memory_corruption_refine.yaml"
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        refine_trials, refine_wall = _run_example(spec, tmp)
        summary = json.loads((tmp / "out" / "memory_corruption_refine" / "search.json").read_text())
        grid_trials, grid_wall = _run_example(spec, tmp, sweep_id="uniform_grid", strategy="grid", refine=None,
                                              n_trials=None, sweep={"interventions.0.parameters.corruption_rate":
                                                                    {"linspace": [0.0, 1.0, 21]}})
    threshold = summary["threshold"]
    out.append(f"[lab] sweeps/memory_corruption_refine.yaml (simulated mind, resolution 0.05, 3 replicates, parallel 2): "
               f"{refine_trials} trials in {refine_wall:.1f} s, threshold {threshold['estimate']:g} in "
               f"[{threshold['interval'][0]:g}, {threshold['interval'][1]:g}], stopped: {summary['stopped']}")
    out.append(f"  uniform grid at 0.05 (21 levels x 3): {grid_trials} trials in {grid_wall:.1f} s; refine/grid = "
               f"{refine_trials / grid_trials:.2f}x trials, {refine_wall / grid_wall:.2f}x wall time")
    print("\n".join(out[-2:]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", choices=["bayesian", "refine", "lab"])
    args = parser.parse_args()
    out = [machine(), ""]
    for part, bench in (("refine", bench_refine), ("bayesian", bench_bayesian), ("lab", bench_lab)):
        if args.part in (None, part):
            bench(out)
    if args.part is None:
        (HERE / "results" / "search.txt").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
