"""Warm workers against fresh processes and Optuna, side by side in one run (issue 14).

    python bench/bench_warm_python.py            # both parts (about 2-4 minutes on 2 shared cores)
    python bench/bench_warm_python.py trivial    # 500 trivial trials: worker vs process vs Optuna
    python bench/bench_warm_python.py sklearn    # 18 RandomForest fits on digits: worker vs process vs Optuna
    python bench/bench_warm_python.py sklearn-cli    # the same, each side a fresh interpreter run from a shell

Every sweep is a real journaled sweep (``run_resolved``: SQLite journal, trial folders, views) at
``parallel: 2``; Optuna runs in memory with ``n_jobs=2`` threads on the same objective. The machine is
shared, so the figures that count are the ratios of the same run. Results go to bench/results/warm.txt.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_engine import machine, wait_for_cheap_files

from sweeplab.engine.launch import run_resolved
from sweeplab.planning.resolve import resolve
from sweeplab.planning.spec import spec_from_mapping

TRIVIAL = '''\
"""The trivial trial of the warm-worker benchmark."""


def trivial(config, context):
    return {"y": config["x"] * 2}
'''
FOREST = '''\
"""The scikit-learn trial of the warm-worker benchmark: imports at module level, as a training script has
them (a warm worker pays them once; an import inside the function is paid by every trial, warm or not)."""
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split


def forest(config, context):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    model = RandomForestClassifier(n_estimators=config["n_estimators"], max_depth=config["max_depth"],
                                   random_state=context.seed, n_jobs=1).fit(X_train, y_train)
    return {"accuracy": model.score(X_test, y_test)}
'''
#: the sklearn grid: 6 forest sizes (10-40 trees) x 3 depths = 18 fits
N_ESTIMATORS = [10, 16, 22, 28, 34, 40]
MAX_DEPTH = [6, 12, 24]


def _sweep(tmp: Path, name: str, function: str, sweep: dict, base: dict, isolation: str) -> float:
    folder = tmp / name
    folder.mkdir()
    (folder / "bench_functions_warm.py").write_text(FOREST if function == "forest" else TRIVIAL)
    (folder / "base.json").write_text(json.dumps(base))
    spec = spec_from_mapping({"sweep_id": name, "base_config": "base.json", "runner": "python",
                              "function": f"bench_functions_warm:{function}", "isolation": isolation,
                              "sweep": sweep, "parallel": 2, "output_dir": str(folder / "sweeps"),
                              "db_path": str(folder / "journal.db")})
    resolved = resolve(spec, spec_dir=folder)
    started = time.perf_counter()
    outcome = run_resolved(resolved)
    elapsed = time.perf_counter() - started
    assert outcome.exit_code == 0 and outcome.counts.get("completed") == outcome.total, outcome
    return elapsed


def _optuna(objective, grid: dict[str, list] | None, n_trials: int, sampler_name: str = "random",
            storage: str | None = None) -> float:
    """Optuna with 2 threads; ``grid``: its GridSampler, else its RandomSampler (a grid of hundreds of
    points makes GridSampler itself the cost, quadratic in the trials) or, with ``sampler_name="tpe"``,
    its default TPE; ``storage``: an RDB URL (journaled, as sweeplab is), else in memory."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if grid:
        sampler = optuna.samplers.GridSampler(grid, seed=0)
    elif sampler_name == "tpe":
        sampler = optuna.samplers.TPESampler(seed=0)
    else:
        sampler = optuna.samplers.RandomSampler(seed=0)
    study = optuna.create_study(sampler=sampler, storage=storage)
    started = time.perf_counter()
    study.optimize(objective, n_trials=n_trials, n_jobs=2)
    return time.perf_counter() - started


def bench_trivial(rounds: int) -> list[str]:
    """500 trivial trials: warm workers, fresh processes, Optuna (in memory, 2 threads)."""
    n = 500
    worker, process, optuna_times, tpe, journaled = [], [], [], [], []

    def objective(trial) -> int:  # noqa: ANN001 - an optuna.Trial
        return trial.suggest_int("x", 0, n - 1) * 2

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for number in range(rounds):
            worker.append(_sweep(tmp, f"w{number}", "trivial", {"x": {"start": 0, "stop": n, "step": 1}},
                                 {"x": 0}, "worker"))
            optuna_times.append(_optuna(objective, None, n))
            tpe.append(_optuna(objective, None, n, sampler_name="tpe"))
            journaled.append(_optuna(objective, None, n, storage=f"sqlite:///{tmp}/optuna{number}.db"))
        process.append(_sweep(tmp, "p0", "trivial", {"x": {"start": 0, "stop": n, "step": 1}}, {"x": 0},
                              "process"))
    w, p, o = statistics.median(worker), statistics.median(process), statistics.median(optuna_times)
    t, j = statistics.median(tpe), statistics.median(journaled)
    return [
        f"[trivial] {n} trivial python-runner trials, parallel 2, journaled; {rounds} round(s) of worker and "
        "Optuna interleaved, 1 of process",
        f"  isolation: worker    {w:7.2f} s = {n / w:6.1f} trials/s   (rounds: {', '.join(f'{t:.2f}' for t in worker)})",
        f"  isolation: process   {p:7.2f} s = {n / p:6.1f} trials/s",
        f"  Optuna n_jobs=2      {o:7.2f} s = {n / o:6.1f} trials/s   (RandomSampler, in memory, no journal, "
        "no processes)",
        f"  Optuna n_jobs=2      {t:7.2f} s = {n / t:6.1f} trials/s   (its default TPESampler, in memory)",
        f"  Optuna n_jobs=2      {j:7.2f} s = {n / j:6.1f} trials/s   (RandomSampler, SQLite storage: journaled "
        "like sweeplab)",
        f"  worker vs process: {p / w:.1f}x faster; worker vs Optuna: {o / w:.2f}x as fast in memory/random, "
        f"{t / w:.2f}x TPE, {j / w:.2f}x journaled (target: >= 150 trials/s, >= 3x Optuna's 46/s measured before)",
    ]


def _forest_objective(trial) -> float:  # noqa: ANN001 - an optuna.Trial
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    model = RandomForestClassifier(n_estimators=trial.suggest_categorical("n_estimators", N_ESTIMATORS),
                                   max_depth=trial.suggest_categorical("max_depth", MAX_DEPTH),
                                   random_state=trial.number, n_jobs=1).fit(X_train, y_train)
    return model.score(X_test, y_test)


def bench_sklearn(rounds: int) -> list[str]:
    """18 RandomForest fits on digits: warm workers vs fresh processes vs Optuna n_jobs=2."""
    grid = {"n_estimators": N_ESTIMATORS, "max_depth": MAX_DEPTH}
    worker, process, optuna_times = [], [], []
    import sklearn.ensemble  # noqa: F401 - Optuna's process has it imported, as a user's notebook would

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for number in range(rounds):
            worker.append(_sweep(tmp, f"sw{number}", "forest", grid, {"n_estimators": 10, "max_depth": 6},
                                 "worker"))
            optuna_times.append(_optuna(_forest_objective, grid, 18))
            process.append(_sweep(tmp, f"sp{number}", "forest", grid, {"n_estimators": 10, "max_depth": 6},
                                  "process"))
    w, p, o = statistics.median(worker), statistics.median(process), statistics.median(optuna_times)
    return [
        f"[sklearn] 18 RandomForest fits on digits (10-40 trees x depth 6/12/24), parallel 2; {rounds} "
        "interleaved round(s)",
        f"  isolation: worker    {w:6.2f} s   (rounds: {', '.join(f'{t:.2f}' for t in worker)})",
        f"  isolation: process   {p:6.2f} s   (rounds: {', '.join(f'{t:.2f}' for t in process)})",
        f"  Optuna n_jobs=2      {o:6.2f} s   (rounds: {', '.join(f'{t:.2f}' for t in optuna_times)})",
        f"  worker / Optuna = {w / o:.2f}x (target <= 1.1x); process / Optuna = {p / o:.2f}x",
    ]


OPTUNA_SCRIPT = '''\
import optuna
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split


def objective(trial):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    model = RandomForestClassifier(n_estimators=trial.suggest_categorical("n_estimators", {trees}),
                                   max_depth=trial.suggest_categorical("max_depth", {depths}),
                                   random_state=trial.number, n_jobs=1).fit(X_train, y_train)
    return model.score(X_test, y_test)


optuna.logging.set_verbosity(optuna.logging.WARNING)
grid = {{"n_estimators": {trees}, "max_depth": {depths}}}
optuna.create_study(sampler=optuna.samplers.GridSampler(grid, seed=0)).optimize(objective, n_trials=18, n_jobs=2)
'''


def _timed(argv: list[str], cwd: Path, cpu: list[float] | None = None) -> float:
    """Wall seconds of the command; its CPU seconds (user and system, its processes') appended to ``cpu``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed


def bench_sklearn_cli(rounds: int) -> list[str]:
    """The same 18 fits as a user runs them from a shell: ``sweeplab run`` against ``python optuna_sweep.py``,
    each a fresh interpreter that imports what it needs (as the issue measured them)."""
    grid = {"n_estimators": N_ESTIMATORS, "max_depth": MAX_DEPTH}
    times: dict[str, list[float]] = {"worker": [], "process": [], "optuna": []}
    cpu: dict[str, list[float]] = {"worker": [], "process": [], "optuna": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "bench_functions_warm.py").write_text(FOREST)
        (tmp / "optuna_sweep.py").write_text(OPTUNA_SCRIPT.format(trees=N_ESTIMATORS, depths=MAX_DEPTH))
        (tmp / "base.json").write_text(json.dumps({"n_estimators": 10, "max_depth": 6}))
        for number in range(rounds):
            for isolation in ("worker", "process"):
                spec = {"sweep_id": f"{isolation}{number}", "base_config": "base.json", "runner": "python",
                        "function": "bench_functions_warm:forest", "isolation": isolation, "sweep": grid,
                        "parallel": 2, "output_dir": "sweeps", "db_path": "journal.db"}
                (tmp / f"{isolation}{number}.yaml").write_text(json.dumps(spec))
                times[isolation].append(_timed([sys.executable, "-m", "sweeplab", "run", f"{isolation}{number}.yaml",
                                                "--yes", "-q"], tmp, cpu[isolation]))
            times["optuna"].append(_timed([sys.executable, "optuna_sweep.py"], tmp, cpu["optuna"]))
    w, p, o = (statistics.median(times[name]) for name in ("worker", "process", "optuna"))
    wc, pc, oc = (statistics.median(cpu[name]) for name in ("worker", "process", "optuna"))
    paired = sorted(a / b for a, b in zip(times["worker"], times["optuna"]))
    return [
        f"[sklearn, from the shell] the same 18 fits: 'sweeplab run' vs 'python optuna_sweep.py' (n_jobs=2), each a "
        f"fresh interpreter with its imports; {rounds} interleaved round(s)",
        f"  sweeplab, isolation: worker    {w:6.2f} s   (rounds: {', '.join(f'{t:.2f}' for t in times['worker'])})",
        f"  sweeplab, isolation: process   {p:6.2f} s   (rounds: {', '.join(f'{t:.2f}' for t in times['process'])})",
        f"  Optuna n_jobs=2                {o:6.2f} s   (rounds: {', '.join(f'{t:.2f}' for t in times['optuna'])})",
        f"  worker / Optuna = {w / o:.2f}x (target <= 1.1x; per round: {', '.join(f'{r:.2f}' for r in paired)}); "
        f"process / Optuna = {p / o:.2f}x",
        f"  CPU seconds (user + system, every process): worker {wc:.2f}, process {pc:.2f}, Optuna {oc:.2f}; "
        f"worker / Optuna = {wc / oc:.2f}x",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", choices=["trivial", "sklearn", "sklearn-cli"], default=None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    lines = [machine(), wait_for_cheap_files(), ""]  # (a sweep's trial folders are files the other sides do not make)
    if args.part in (None, "trivial"):
        lines += bench_trivial(args.rounds) + [""]
    if args.part in (None, "sklearn"):
        lines += bench_sklearn(args.rounds) + [""]
    if args.part in (None, "sklearn-cli"):
        lines += bench_sklearn_cli(args.rounds) + [""]
    text = "\n".join(lines)
    print(text)
    results = Path(__file__).parent / "results" / "warm.txt"
    if args.part is None:
        results.write_text(text)


if __name__ == "__main__":
    main()
