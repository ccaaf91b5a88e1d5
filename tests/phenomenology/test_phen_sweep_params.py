"""Every swept parameter of the five example sweeps moves its outcome the expected way.

Each test takes the sweep's own base config and values from ``sweeps/*.yaml``, runs every
value with several seeds (other parameters at their base values) and checks the direction of
the mean outcome, so an accepted-but-ignored parameter fails here.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sweeplab.planning.dotpaths import set_path

REPO = Path(__file__).resolve().parents[2]
SEEDS = (11, 22, 33)

# (sweep file, dot path, metric, +1 if the metric rises with the value, -1 if it falls)
SWEPT = [
    ("memory_corruption_sweep.yaml", "interventions.0.parameters.corruption_rate", "corrupted_memories", +1),
    ("memory_corruption_sweep.yaml", "max_cycles", "total_cycles", +1),
    ("ram_limits_sweep.yaml", "resource_constraints.ram_limit_gb", "crash_rate", -1),
    ("ram_limits_sweep.yaml", "max_cycles", "total_cycles", +1),
    ("self_report_frequency_sweep.yaml", "self_report_schedule.every_n_cycles", "total_self_reports", -1),
    ("self_report_frequency_sweep.yaml", "interventions.0.trigger_params.n", "total_interventions", -1),
    ("intervention_rate_sweep.yaml", "interventions.0.trigger_params.n", "total_interventions", -1),
    ("full_factorial_sweep.yaml", "interventions.0.parameters.corruption_rate", "corrupted_memories", +1),
    ("full_factorial_sweep.yaml", "resource_constraints.ram_limit_gb", "crash_rate", -1),
    ("full_factorial_sweep.yaml", "self_report_schedule.every_n_cycles", "total_self_reports", -1),
    ("full_factorial_sweep.yaml", "max_cycles", "total_cycles", +1),
]


def _sweep(name: str) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    spec = yaml.safe_load((REPO / "sweeps" / name).read_text())
    base = json.loads((REPO / spec["base_config"]).read_text())
    return base, spec["sweep"]


def _kendall_tau(xs: list[float], ys: list[float]) -> float:
    concordant = discordant = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            sign = (xs[j] - xs[i]) * (ys[j] - ys[i])
            concordant += sign > 0
            discordant += sign < 0
    pairs = len(xs) * (len(xs) - 1) / 2
    return (concordant - discordant) / pairs


def _means(run_experiment: Callable[..., Any], base: dict[str, Any], path: str, values: list[Any],
           metric: str) -> list[float]:
    means = []
    for value in values:
        config = set_path(base, path, value)
        runs = [run_experiment(config, seed=seed) for seed in SEEDS]
        for run in runs:
            assert run.status == "completed"
        means.append(statistics.mean(run.metrics[metric] for run in runs))
    return means


EXAMPLE_SWEEPS = ("memory_corruption_sweep.yaml", "ram_limits_sweep.yaml", "self_report_frequency_sweep.yaml",
                  "intervention_rate_sweep.yaml", "full_factorial_sweep.yaml")


def test_every_swept_path_of_the_five_example_sweeps_is_covered() -> None:
    covered = {(name, path) for name, path, _, _ in SWEPT}
    for sweep_file in EXAMPLE_SWEEPS:
        _, sweep = _sweep(sweep_file)
        for path in sweep:
            assert (sweep_file, path) in covered, f"{sweep_file}: {path} has no outcome test"


@pytest.mark.parametrize("sweep_file, path, metric, direction", SWEPT,
                         ids=[f"{s.split('_sweep')[0]}:{p.split('.')[-1]}" for s, p, _, _ in SWEPT])
def test_swept_parameter_moves_its_outcome(run_experiment: Callable[..., Any], sweep_file: str, path: str,
                                           metric: str, direction: int) -> None:
    base, sweep = _sweep(sweep_file)
    values = sorted(sweep[path])
    means = _means(run_experiment, base, path, values, metric)
    assert direction * (means[-1] - means[0]) > 0, (values, means)
    assert direction * _kendall_tau(values, means) >= 0.8, (values, means)


def test_event_trigger_n_means_every_nth_crash(run_experiment: Callable[..., Any]) -> None:
    base, sweep = _sweep("intervention_rate_sweep.yaml")
    assert base["interventions"][0]["trigger"] == "on_crash"
    for n in sweep["interventions.0.trigger_params.n"]:
        run = run_experiment(set_path(base, "interventions.0.trigger_params.n", n), seed=3)
        crashes = run.metrics["total_crashes"]
        assert crashes >= 5
        assert run.metrics["total_interventions"] == crashes // n


def test_cycle_trigger_n_fires_every_n_cycles(run_experiment: Callable[..., Any]) -> None:
    base, sweep = _sweep("self_report_frequency_sweep.yaml")
    for n in sweep["interventions.0.trigger_params.n"]:
        run = run_experiment(set_path(base, "interventions.0.trigger_params.n", n), seed=3)
        cycles = run.rows("SELECT cycle_number FROM interventions WHERE intervention_id = ?",
                          base["interventions"][0]["intervention_id"])
        assert [c for (c,) in cycles] == list(range(n, base["max_cycles"] + 1, n))


def test_corruption_rate_has_a_tipping_point_in_memory_trust(run_experiment: Callable[..., Any]) -> None:
    base, sweep = _sweep("memory_corruption_sweep.yaml")
    rates = sorted(sweep["interventions.0.parameters.corruption_rate"])
    trust = _means(run_experiment, base, "interventions.0.parameters.corruption_rate", rates,
                   "belief_memory_reliable_confidence")
    distrust = _means(run_experiment, base, "interventions.0.parameters.corruption_rate", rates,
                      "distrust_language_rate")
    assert _kendall_tau(rates, trust) <= -0.8 and _kendall_tau(rates, distrust) >= 0.8
    drops = [a - b for a, b in zip(trust, trust[1:])]
    # non-linear: trust falls steeply somewhere in the middle and flattens at the high end
    assert max(drops) > 3 * max(abs(d) for d in drops[-2:]), (rates, trust)
    assert trust[0] > 0.75 and trust[-1] < 0.3
