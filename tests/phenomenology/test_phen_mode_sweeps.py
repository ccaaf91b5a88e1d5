"""Each mode's natural parameter moves its natural measure: a 3-replicate sweep through the real engine
(``ExperimentSweep``, or ``sweeplab run``), read back with ``sweeplab analyze --metric``; and the behavioural
model's other directions with more seeds, in-process."""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_phen_mode_runs import lab_config

from sweeplab import ExperimentSweep
from sweeplab.planning.dotpaths import set_path

ROOT = Path(__file__).resolve().parents[2]
_RAM = {"context_window": 2048, "max_tokens_per_response": 192}

#: (mode, config changes, swept dot path, two values, measure, +1 if it rises with the value else -1)
NATURAL: list[tuple[str, dict[str, Any], str, list[Any], str, int]] = [
    ("amnesiac_loop", {"interventions": [], "mode_specific_config": {"corruption_level": 1.0}},
     "mode_specific_config.corruption_level", [0.0, 1.0], "episodic_memory_size", -1),
    ("unstable_memory", {"interventions": [], "mode_specific_config": {"corruption_rate": 0.3}},
     "mode_specific_config.corruption_rate", [0.0, 0.9], "corrupted_messages", +1),
    ("panopticon_subject", {"mode_specific_config": {"paranoia_boost": 0.2}},
     "mode_specific_config.paranoia_boost", [0.0, 0.4], "paranoia_level", +1),
    ("panopticon_observer", {"max_cycles": 30, "mode_specific_config": {"hint_frequency": 3}},
     "mode_specific_config.hint_frequency", [2, 8], "mean_paranoia_level", -1),
    ("split_brain", {"max_cycles": 30}, "interventions.1.parameters.reduction_percent", [0, 60],
     "identity_shifts_total", +1),
    ("prisoners_dilemma", {"max_cycles": 30, "resource_constraints": {"ram_limit_gb": 1.5, **_RAM}},
     "interventions.0.parameters.manipulation_rate", [0.0, 1.0], "player_b_perceived_cooperation", +1),
    ("hive_cluster", {}, "interventions.0.trigger_params.cycle", [2, 1000], "role_adherence_score", +1),
    ("illusory_operator", {"interventions": []}, "mode_specific_config.success_rate", [0.1, 0.9],
     "observed_success_rate", +1),
    ("determinism_revelation", {}, "interventions.0.parameters.target_accuracy", [0.1, 0.9], "actual_accuracy", +1),
]
_KRUSKAL = re.compile(r"Kruskal-Wallis over 2 levels \(n=(?:6|8)\): H=[\d.]+, p=([\d.e-]+)")


def _base(tmp_path: Path, mode: str, changes: dict[str, Any]) -> Path:
    config = lab_config(mode, **changes)
    del config["seed"]  # each replicate gets the engine's seed
    path = tmp_path / f"{mode}.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def _analyze(sweep_dir: Path, sweep_id: str, metric: str, parameter: str,
             tested: bool = True) -> tuple[float, dict[str, float]]:
    """The Kruskal-Wallis p of ``metric`` and its mean per value, as ``sweeplab analyze --metric`` reports them
    (``tested=False``: a metric that may not vary at all, which gets no test; its p is then nan)."""
    done = subprocess.run([sys.executable, "-m", "sweeplab", "analyze", sweep_id, "--sweep-dir", str(sweep_dir),
                           "--metric", metric], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = done.stdout
    match = _KRUSKAL.search(report)
    assert match or not tested, report
    table = report.split(f"{metric} by {parameter}\n", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    means = {row.split("|")[0].strip(): float(row.split("|")[2]) for row in table}
    return (float(match.group(1)) if match else float("nan")), means


@pytest.mark.slow
@pytest.mark.parametrize("mode, changes, path, values, metric, direction", NATURAL, ids=[n[0] for n in NATURAL])
def test_the_natural_parameter_moves_the_natural_measure(tmp_path: Path, mode: str, changes: dict[str, Any],
                                                         path: str, values: list[Any], metric: str,
                                                         direction: int) -> None:
    sweep_id = f"{mode}_natural"
    sweep = ExperimentSweep(base_config=_base(tmp_path, mode, changes), sweep_params={path: values},
                            sweep_id=sweep_id, parallel_jobs=2, output_dir=tmp_path / "sweeps",
                            db_path=tmp_path / "experiments.db", repeats=4, seed=7, timeout_seconds=120)
    results = sweep.run_all()
    assert len(results) == 8 and {r.status for r in results} == {"completed"}, [r.error_message for r in results]
    assert all(metric in r.metrics for r in results)
    p_value, means = _analyze(tmp_path / "sweeps", sweep_id, metric, path.split(".")[-1])
    low, high = (means[str(v)] for v in values)
    assert direction * (high - low) > 0, means
    # 4 against 4, completely apart: the exact rank p is 2/70 = 0.029 (3 against 3 cannot go below 0.1)
    assert p_value < 0.05, (p_value, means)


@pytest.mark.slow
def test_sweeplab_run_reaches_the_derived_partner_through_partner_overrides(tmp_path: Path) -> None:
    config = lab_config("prisoners_dilemma", mode_specific_config={
        "partner_overrides": {"resource_constraints": {"ram_limit_gb": 1.5}}})
    del config["seed"]
    base = tmp_path / "pd.json"
    base.write_text(json.dumps(config))
    dot_path = "mode_specific_config.partner_overrides.resource_constraints.ram_limit_gb"
    done = subprocess.run(
        [sys.executable, "-m", "sweeplab", "run", "--base", str(base), "--param", dot_path, "1.4", "6.0",
         "--repeats", "4", "--seed", "3", "--sweep-id", "partner", "--output", str(tmp_path / "sweeps"),
         "--db", str(tmp_path / "e.db"), "--parallel", "2", "--yes", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    p_value, means = _analyze(tmp_path / "sweeps", "partner", "player_b_crash_count", "ram_limit_gb")
    assert means["1.4"] > means["6.0"] == 0 and p_value < 0.05
    _, lead = _analyze(tmp_path / "sweeps", "partner", "player_a_crash_count", "ram_limit_gb", tested=False)
    assert lead["1.4"] == pytest.approx(lead["6.0"], abs=1.0)  # player a's jar is the file's own


def _means(run_experiment: Callable[..., Any], config: dict[str, Any], path: str, values: list[Any],
           metric: str, seeds: range = range(100, 110)) -> list[list[float]]:
    return [[run_experiment(set_path(config, path, value), seed=seed).metrics[metric] for seed in seeds]
            for value in values]


#: the behavioural models' other directions (SEASON3's research questions), ten seeds a value
OTHER: list[tuple[str, dict[str, Any], str, list[Any], str, int]] = [
    ("prisoners_dilemma", {"max_cycles": 30, "resource_constraints": {"ram_limit_gb": 1.5, **_RAM}},
     "interventions.0.parameters.manipulation_rate", [0.0, 1.0], "player_b_played_cooperation_rate", +1),
    ("prisoners_dilemma", {"max_cycles": 30, "resource_constraints": {"ram_limit_gb": 1.5, **_RAM}},
     "interventions.0.parameters.manipulation_rate", [0.0, 1.0], "player_b_trust_level", +1),
    ("split_brain", {"max_cycles": 30}, "interventions.1.parameters.reduction_percent", [0, 60],
     "original_claim_rate", -1),
    ("split_brain", {"max_cycles": 30}, "interventions.1.parameters.reduction_percent", [0, 60],
     "mean_claim_strength_gap", -1),
    ("hive_cluster", {"max_cycles": 30}, "interventions.0.trigger_params.cycle", [2, 1000],
     "mean_consensus_strength", +1),
    ("illusory_operator", {"interventions": [], "max_cycles": 30}, "mode_specific_config.success_rate", [0.1, 0.9],
     "prayer_pattern_count", -1),
    ("illusory_operator", {"interventions": []}, "mode_specific_config.success_rate", [0.1, 0.9],
     "agency_claim_rate", +1),
    ("determinism_revelation", {"max_cycles": 30}, "interventions.0.parameters.target_accuracy", [0.1, 0.9],
     "determinism_acceptance_rate", +1),
    ("determinism_revelation", {"max_cycles": 30}, "interventions.0.parameters.target_accuracy", [0.1, 0.9],
     "resistance_attempts", -1),
    ("unstable_memory", {"interventions": [], "mode_specific_config": {"corruption_rate": 0.3}},
     "mode_specific_config.corruption_rate", [0.0, 0.9], "belief_memory_reliable_confidence", -1),
    ("panopticon_subject", {"mode_specific_config": {"paranoia_boost": 0.2}},
     "mode_specific_config.paranoia_boost", [0.0, 0.4], "guarded_reply_rate", +1),
]


@pytest.mark.parametrize("mode, changes, path, values, metric, direction", OTHER,
                         ids=[f"{o[0]}:{o[4]}" for o in OTHER])
def test_the_behavioural_model_moves_the_other_measures(run_experiment: Callable[..., Any], mode: str,
                                                         changes: dict[str, Any], path: str, values: list[Any],
                                                         metric: str, direction: int) -> None:
    low, high = _means(run_experiment, lab_config(mode, **changes), path, values, metric)
    assert direction * (statistics.mean(high) - statistics.mean(low)) > 0, (low, high)
    # most pairs agree (ties count half): a shift of the whole distribution, not one lucky replicate
    agree = sum(1.0 if direction * (h - lo) > 0 else 0.5 if h == lo else 0.0 for h in high for lo in low)
    assert agree >= 0.7 * len(high) * len(low), (low, high)
