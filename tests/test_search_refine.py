"""strategy: refine — locating a planted step: the algorithm in simulation, then through the real engine."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
import yaml
from helpers.engine_support import sweeplab_cli as sweeplab

from sweeplab.planning.values import clean_float
from sweeplab.search.refine import MIN_STEP_Z, locate, next_round

HELPERS = Path(__file__).parent / "helpers"
RESOLUTION = 0.02
REPLICATES = 3
#: a uniform grid at the resolution over [0, 1]: 51 levels, each with the same replicates
UNIFORM_GRID = (round(1 / RESOLUTION) + 1) * REPLICATES
BUDGET = int(0.4 * UNIFORM_GRID)


def refine_planted_step(seed: int, noise: float, budget: int = BUDGET) -> tuple[float, float | None, int, str]:
    """Refine a step of height 1 at an unknown x0 in [0, 1] with Gaussian noise, in process.

    Returns (x0, the estimate, trials used, why it stopped).
    """
    rng = random.Random(seed)
    x0 = rng.uniform(0.0, 1.0)
    observations: dict[float, list[float]] = {}
    registered: dict[float, int] = {}

    def run(level: float, repeat: int) -> None:
        registered[level] = max(registered.get(level, 0), repeat + 1)
        observations.setdefault(level, []).append((1.0 if level >= x0 else 0.0) + rng.gauss(0.0, noise))

    coarse = [clean_float(i / 5) for i in range(6)]
    for level in coarse:
        for repeat in range(REPLICATES):
            run(level, repeat)
    used = len(coarse) * REPLICATES
    within = None
    while True:
        decision = next_round(observations, registered, resolution=RESOLUTION, levels_per_round=3,
                              replicates=REPLICATES, budget_left=budget - used, within=within)
        if decision.stop is not None:
            break
        within = (decision.located.low, decision.located.high)
        for level, repeat in decision.add:
            run(level, repeat)
        used += len(decision.add)
    located = decision.located
    return x0, (located.estimate if located is not None else None), used, decision.stop


def test_refine_locates_a_noisy_step_within_the_resolution_with_few_trials() -> None:
    runs = [refine_planted_step(seed, noise=0.3) for seed in range(100)]
    within = [x0 for x0, estimate, _, _ in runs if estimate is not None and abs(estimate - x0) <= RESOLUTION]
    assert len(within) >= 90, f"{len(within)} of 100 located within {RESOLUTION}"
    used = [trials for _, _, trials, _ in runs]
    assert max(used) <= 0.4 * UNIFORM_GRID, (max(used), UNIFORM_GRID)
    assert sum(used) / len(used) < 0.3 * UNIFORM_GRID
    assert sum(1 for *_, stop in runs if stop == "resolved") >= 90


def test_without_a_budget_for_the_rounds_refine_stops_on_the_budget_not_at_the_resolution() -> None:
    x0, estimate, used, stop = refine_planted_step(3, noise=0.1, budget=6 * REPLICATES + 3)
    assert stop == "budget" and used <= 6 * REPLICATES + 3
    assert estimate is not None and abs(estimate - x0) <= 0.1  # the coarse grid's interval still holds it


def test_locate_finds_the_step_between_the_flanking_levels() -> None:
    observations = {0.0: [0.1, -0.1], 0.25: [0.05, 0.0], 0.5: [1.0, 0.9], 0.75: [1.1, 1.0], 1.0: [0.95, 1.05]}
    located = locate(observations)
    assert located is not None
    assert (located.low, located.high, located.estimate) == (0.25, 0.5, 0.375)
    assert located.established and located.step_z > MIN_STEP_Z
    assert located.below == pytest.approx(0.0125) and located.above == pytest.approx(1.0)


def test_pure_noise_gets_more_replicates_everywhere_then_refine_stops_with_no_change() -> None:
    rng = random.Random(5)
    observations = {clean_float(i / 5): [rng.gauss(0, 1) for _ in range(3)] for i in range(6)}
    decision = next_round(observations, {x: 3 for x in observations}, resolution=0.02, levels_per_round=3,
                          replicates=3, budget_left=100)
    assert decision.stop is None and set(decision.add) == {(x, r) for x in observations for r in (3, 4, 5)}
    # once every level has three times the replicates (or the budget cannot pay for more), it stops
    decision = next_round(observations, {x: 9 for x in observations}, resolution=0.02, levels_per_round=3,
                          replicates=3, budget_left=100)
    assert decision.stop == "no change" and not decision.add
    decision = next_round(observations, {x: 3 for x in observations}, resolution=0.02, levels_per_round=3,
                          replicates=3, budget_left=17)
    assert decision.stop == "no change" and not decision.add


def test_a_flanking_level_near_the_midpoint_gets_more_replicates() -> None:
    # 0.4 sits half way between the plateaus: which side it is on is the weak part of the evidence
    observations = {0.0: [0.0, 0.02, -0.02], 0.2: [0.01, -0.01, 0.0], 0.4: [0.45, 0.55, 0.5],
                    0.6: [1.0, 0.98, 1.02], 0.8: [1.0, 1.01, 0.99], 1.0: [1.0, 1.0, 1.0]}
    decision = next_round(observations, {x: 3 for x in observations}, resolution=0.02, levels_per_round=3,
                          replicates=3, budget_left=100)
    located = decision.located
    assert located is not None and 0.4 in located.weak
    assert {(0.4, 3), (0.4, 4), (0.4, 5)} <= set(decision.add)
    new_levels = sorted({x for x, _ in decision.add if x != 0.4})
    assert all(located.low < x < located.high for x in new_levels) and len(new_levels) == 3


# --- through the real engine ----------------------------------------------------------------------
PLANTED = 0.437


def _refine_spec(root: Path, sweep_id: str, **keys: object) -> Path:
    shutil.copy(HELPERS / "search_functions.py", root / "search_functions.py")
    (root / "base.json").write_text(json.dumps({"x": 0.0, "x0": PLANTED, "noise": 0.2, "sleep": 0.0}))
    data = {"sweep_id": sweep_id, "base_config": "base.json", "runner": "python",
            "function": "search_functions:step", "strategy": "refine", "n_trials": 40, "repeats": 2,
            "refine": {"metric": "y", "resolution": RESOLUTION}, "sweep": {"x": {"linspace": [0, 1, 6]}},
            "parallel": 2, "output_dir": "out", "db_path": "out/db.sqlite",
            # fresh processes: these tests are about the search, not warm workers
            "isolation": "process", **keys}
    path = root / f"{sweep_id}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path



def test_a_refine_sweep_through_the_engine_locates_the_planted_step(tmp_path: Path) -> None:
    spec = _refine_spec(tmp_path, "refine_e2e")
    done = sweeplab(tmp_path, "run", str(spec), "--yes")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "out" / "refine_e2e" / "search.json").read_text())
    threshold = summary["threshold"]
    low, high = threshold["interval"]
    assert low <= PLANTED <= high and high - low <= RESOLUTION
    assert abs(threshold["estimate"] - PLANTED) <= RESOLUTION
    assert summary["stopped"] == "resolved" and len(summary["rounds"]) >= 3
    assert [r["trials"] for r in summary["rounds"]][0] == 12  # the coarse grid: 6 levels x 2 replicates
    assert sum(r["trials"] for r in summary["rounds"]) == summary["registered"] <= 0.4 * 51 * 2
    # every later round's levels lie inside the interval the round before located
    for before, after in zip(summary["rounds"], summary["rounds"][1:]):
        assert all(before["interval"][0] <= x <= before["interval"][1] for x in after["levels"])
    import sqlite3
    with sqlite3.connect(tmp_path / "out" / "db.sqlite") as conn:
        rows = conn.execute("SELECT idx, status FROM trials WHERE sweep_id = 'refine_e2e'").fetchall()
    assert sorted(idx for idx, _ in rows) == list(range(1, summary["registered"] + 1))
    assert {status for _, status in rows} == {"completed"}
    status = sweeplab(tmp_path, "status", "refine_e2e", "--sweep-dir", "out")
    assert status.returncode == 0 and f"{summary['registered']}/{summary['registered']} completed" in status.stdout
    analysis = sweeplab(tmp_path, "analyze", "refine_e2e", "--sweep-dir", "out", "--metric", "y")
    assert analysis.returncode == 0, analysis.stderr


def test_sweeplab_refine_refines_a_finished_grid_sweep_in_place(tmp_path: Path) -> None:
    spec = _refine_spec(tmp_path, "grid_then_refine")
    grid = yaml.safe_load(spec.read_text())
    for key in ("strategy", "n_trials", "refine"):
        del grid[key]
    spec.write_text(yaml.safe_dump(grid, sort_keys=False))
    assert sweeplab(tmp_path, "run", str(spec), "--yes").returncode == 0
    database = tmp_path / "out" / "db.sqlite"
    import sqlite3

    def trials() -> dict[str, tuple[int, int, str]]:
        with sqlite3.connect(database) as conn:
            return {key: (idx, attempts, status) for key, idx, attempts, status in conn.execute(
                "SELECT key, idx, attempts, status FROM trials WHERE sweep_id = 'grid_then_refine'")}

    before = trials()
    assert len(before) == 12
    refined = sweeplab(tmp_path, "refine", "grid_then_refine", "--sweep-dir", "out", "--metric", "y",
                       "--resolution", str(RESOLUTION), "--budget", "30")
    assert refined.returncode == 0, refined.stderr
    after = trials()
    assert {key: after[key] for key in before} == before  # the grid's trials are round 0, not run again
    assert sorted(idx for idx, _, _ in after.values()) == list(range(1, len(after) + 1))
    assert 12 < len(after) <= 12 + 30 and {status for *_, status in after.values()} == {"completed"}
    assert "threshold ~" in refined.stdout and "round | trials" in refined.stdout
    summary = json.loads((tmp_path / "out" / "grid_then_refine" / "search.json").read_text())
    low, high = summary["threshold"]["interval"]
    assert low <= PLANTED <= high and high - low <= RESOLUTION and summary["rounds"][0]["trials"] == 12
    shown = sweeplab(tmp_path, "refine", "grid_then_refine", "--sweep-dir", "out", "--show")
    assert shown.returncode == 0 and shown.stdout.strip() and shown.stdout.strip() in refined.stdout


def test_sweeplab_refine_refuses_bad_requests_with_exit_2_and_runs_nothing(tmp_path: Path) -> None:
    spec = _refine_spec(tmp_path, "grid2")
    grid = yaml.safe_load(spec.read_text())
    for key in ("strategy", "n_trials", "refine"):
        del grid[key]
    grid["sweep"]["noise"] = [0.1, 0.2]
    spec.write_text(yaml.safe_dump(grid, sort_keys=False))
    assert sweeplab(tmp_path, "run", str(spec), "--yes").returncode == 0
    events = (tmp_path / "out" / "grid2" / "events.jsonl").read_text()
    for args, fragment in (
            (["--metric", "y", "--resolution", "0.02"], "--budget"),
            (["--metric", "y", "--resolution", "-1", "--budget", "5"], "positive number"),
            (["--resolution", "0.02", "--budget", "5"], "needs the metric"),
            (["--metric", "y", "--resolution", "0.02", "--budget", "10"], "one parameter")):
        refused = sweeplab(tmp_path, "refine", "grid2", "--sweep-dir", "out", *args)
        assert refused.returncode == 2 and fragment in refused.stderr and "Traceback" not in refused.stderr, args
    assert "x, noise" in refused.stderr
    assert (tmp_path / "out" / "grid2" / "events.jsonl").read_text() == events  # nothing ran, nothing written


def test_a_whole_number_parameter_is_refined_on_whole_numbers() -> None:
    observations = {10: [0.0, 0.0], 20: [0.0, 0.1], 30: [1.0, 0.9], 40: [1.0, 1.0]}
    decision = next_round(observations, {x: 2 for x in observations}, resolution=1, levels_per_round=3,
                          replicates=2, budget_left=50, integer=True)
    assert {x for x, _ in decision.add} == {22, 25, 28} and all(isinstance(x, int) for x, _ in decision.add)
    observations.update({23: [0.0, 0.0], 24: [1.0, 1.0]})
    decision = next_round(observations, {x: 2 for x in observations}, resolution=0.5, levels_per_round=3,
                          replicates=2, budget_left=50, within=(20, 30), integer=True)
    assert decision.stop == "resolved" and decision.located is not None
    assert (decision.located.low, decision.located.high) == (23, 24)
