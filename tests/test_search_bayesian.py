"""strategy: bayesian — Optuna asks, the engine runs (in parallel), the journal remembers."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import yaml
from helpers.engine_support import sweeplab_cli as sweeplab

HELPERS = Path(__file__).parent / "helpers"


def _spec(root: Path, sweep_id: str, **keys: Any) -> Path:
    shutil.copy(HELPERS / "search_functions.py", root / "search_functions.py")
    (root / "base.json").write_text(json.dumps({"x": 0.5, "y": 0.5, "noise": 0.01, "sleep": 0.0}))
    data = {"sweep_id": sweep_id, "base_config": "base.json", "runner": "python",
            "function": "search_functions:quadratic", "strategy": "bayesian", "n_trials": 30, "seed": 1,
            "objective": {"metric": "score", "direction": "maximize"},
            "sweep": {"x": {"uniform": [0, 1]}, "y": {"uniform": [0, 1]}},
            "parallel": 2, "output_dir": "out", "db_path": "out/db.sqlite",
            # fresh processes: these tests are about the search, not warm workers
            "isolation": "process", **keys}
    data = {key: value for key, value in data.items() if value is not None}
    path = root / f"{sweep_id}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path



def _trials(root: Path, sweep_id: str) -> list[tuple[int, str, dict[str, Any], dict[str, Any]]]:
    with sqlite3.connect(root / "out" / "db.sqlite") as conn:
        rows = conn.execute("SELECT idx, status, params_json, metrics_json FROM trials WHERE sweep_id = ? "
                            "ORDER BY idx", (sweep_id,)).fetchall()
    return [(idx, status, json.loads(params), json.loads(metrics)) for idx, status, params, metrics in rows]


def _overlapping(root: Path, sweep_id: str) -> bool:
    """Whether two attempts ever ran at the same time (the search used its two slots)."""
    with sqlite3.connect(root / "out" / "db.sqlite") as conn:
        spans = conn.execute("SELECT start_time, end_time FROM attempts WHERE sweep_id = ?", (sweep_id,)).fetchall()
    return any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1:])


def _plain_optuna_reaches(seed: int, budget: int) -> int | None:
    """The trial at which plain sequential Optuna (sweeplab's default sampler, same seed) is within 1 %."""
    import random

    import optuna

    from sweeplab.search.bayesian import make_sampler
    sys.path.insert(0, str(HELPERS))
    try:
        from search_functions import quadratic_value
    finally:
        sys.path.remove(str(HELPERS))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=make_sampler("tpe", seed))
    for number in range(1, budget + 1):
        trial = study.ask()
        x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
        study.tell(trial, quadratic_value(x, y) + random.Random(number).gauss(0, 0.01))
        if quadratic_value(x, y) >= 0.99:
            return number
    return None


def test_bayesian_reaches_within_one_percent_of_a_noisy_quadratics_optimum_in_parallel(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "quad", isolation=None, n_trials=40)  # the python runner's default: warm workers
    done = sweeplab(tmp_path, "run", str(spec), "--yes")
    assert done.returncode == 0, done.stderr
    trials = _trials(tmp_path, "quad")
    assert [idx for idx, *_ in trials] == list(range(1, 41)) and {s for _, s, _, _ in trials} == {"completed"}
    best_true = max(metrics["true_score"] for *_, metrics in trials)
    assert best_true >= 0.99, best_true  # the optimum is 1.0
    # comparable to plain Optuna with the same sampler and seed, one trial at a time
    reached = next(idx for idx, _, _, metrics in trials if metrics["true_score"] >= 0.99)
    plain = _plain_optuna_reaches(seed=1, budget=40)  # 19 trials
    assert plain is not None and reached <= 2 * plain, (reached, plain)  # (over 6 seeds: bench/results/search.txt)
    assert _overlapping(tmp_path, "quad")
    summary = json.loads((tmp_path / "out" / "quad" / "search.json").read_text())
    assert summary["finished"] and summary["told"] == 40 and summary["sampler"] == "tpe"
    best = summary["best"][0]
    assert best["values"]["score"] == max(metrics["score"] for *_, metrics in trials)
    # later trials concentrate near the peak: the sampler learnt from what it was told
    distance = [((p["x"] - 0.3) ** 2 + (p["y"] - 0.7) ** 2) ** 0.5 for _, _, p, _ in trials]
    assert sum(distance[-10:]) < sum(distance[:10])
    status = sweeplab(tmp_path, "status", "quad", "--sweep-dir", "out")
    assert status.returncode == 0 and "40/40 completed" in status.stdout


def test_multi_objective_search_reports_a_pareto_front(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "pareto", n_trials=8, sampler="nsgaii",
                 objective=[{"metric": "score", "direction": "maximize"},
                            {"metric": "true_score", "direction": "minimize"}])
    done = sweeplab(tmp_path, "run", str(spec), "--yes")
    assert done.returncode == 0, done.stderr
    front = json.loads((tmp_path / "out" / "pareto" / "search.json").read_text())["best"]
    assert front
    values = [(b["values"]["score"], b["values"]["true_score"]) for b in front]
    for a in values:  # no point of the front is dominated by another
        assert not any(b != a and b[0] >= a[0] and b[1] <= a[1] for b in values)


def test_a_trial_without_the_objective_metric_is_told_as_failed(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "nometric", n_trials=4, parallel=1,
                 objective={"metric": "not_reported", "direction": "maximize"})
    done = sweeplab(tmp_path, "run", str(spec), "--yes")
    assert done.returncode == 0, done.stderr  # the trials themselves completed
    summary = json.loads((tmp_path / "out" / "nometric" / "search.json").read_text())
    assert summary["failed"] == 4 and summary["best"] == [] and summary["told"] == 4


def test_a_bayesian_search_runs_its_trials_on_a_dask_cluster(tmp_path: Path, dask_scheduler: str) -> None:
    spec = _spec(tmp_path, "on_dask", n_trials=4, dask_scheduler=dask_scheduler)
    done = sweeplab(tmp_path, "run", str(spec), "--yes")
    assert done.returncode == 0, done.stderr
    trials = _trials(tmp_path, "on_dask")
    assert [idx for idx, *_ in trials] == list(range(1, 5)) and {s for _, s, _, _ in trials} == {"completed"}
    with sqlite3.connect(tmp_path / "out" / "db.sqlite") as conn:
        hosts = {host for (host,) in conn.execute("SELECT host FROM attempts WHERE sweep_id = 'on_dask'")}
    assert hosts  # recorded as run by the cluster's workers
    summary = json.loads((tmp_path / "out" / "on_dask" / "search.json").read_text())
    assert summary["finished"] and summary["told"] == 4 and summary["best"]
