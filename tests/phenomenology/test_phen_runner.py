"""The runner plug-in contract, as the sweep engine uses it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sweeplab.errors import ConfigError
from sweeplab.phenomenology.runner import PhenomenologyRunner
from sweeplab.planning.dotpaths import set_path
from sweeplab.runners.base import RunContext, get_runner, runner_for_base

REPO = Path(__file__).resolve().parents[2]
MODERATE = json.loads((REPO / "experiments/examples/unstable_memory_moderate.json").read_text())


def test_registry_finds_the_runner_by_name_and_by_base_config() -> None:
    assert get_runner("phenomenology") is PhenomenologyRunner
    assert runner_for_base(MODERATE) == "phenomenology"
    assert PhenomenologyRunner.name == "phenomenology" and PhenomenologyRunner.open_schema is False


def test_accepts_only_experiment_shaped_dicts() -> None:
    assert PhenomenologyRunner.accepts(MODERATE)
    assert PhenomenologyRunner.accepts({"mode": "isolated", "interventions": []})
    assert not PhenomenologyRunner.accepts({"mode": "isolated"})
    assert not PhenomenologyRunner.accepts({"learning_rate": 0.1, "epochs": 3})


@pytest.mark.parametrize("path, key, allowed", [
    (("epistemic_frame", "custom_beliefs"), "free_will", True),
    (("interventions", "0", "parameters"), "corruption_rate", True),
    (("interventions", "0", "parameters"), "banana", False),
    (("interventions", "0", "trigger_params"), "n", True),
    (("interventions", "0", "trigger_params"), "every", False),
    ((), "seed", True),
    ((), "mind", True),
    ((), "learning_rate", False),
    (("resource_constraints",), "gpu_layers", True),
    (("resource_constraints",), "swap_gb", False),
    (("epistemic_frame",), "lonely", False),
])
def test_allows_new_keys_only_where_the_schema_accepts_them(path: tuple, key: str, allowed: bool) -> None:
    assert PhenomenologyRunner().allows_new_key(path, key) is allowed


def test_a_sweep_adding_a_custom_belief_passes_validation() -> None:
    runner = PhenomenologyRunner()
    config = set_path(MODERATE, "epistemic_frame.custom_beliefs.free_will", True, new_keys=runner.allows_new_key)
    runner.validate(config)


def test_validate_raises_config_error_with_path_and_value() -> None:
    runner = PhenomenologyRunner()
    runner.validate(MODERATE)
    bad = set_path(MODERATE, "interventions.0.parameters.corruption_rate", 3.0)
    with pytest.raises(ConfigError) as info:
        runner.validate(bad)
    assert "interventions.0.parameters.corruption_rate = 3.0" in str(info.value)


def test_prepare_sets_the_trial_seed_unless_the_config_has_one() -> None:
    runner = PhenomenologyRunner()
    prepared = runner.prepare(MODERATE, 1234)
    assert prepared["seed"] == 1234 and "seed" not in MODERATE
    assert runner.prepare({**MODERATE, "seed": None}, 9)["seed"] == 9
    assert runner.prepare({**MODERATE, "seed": 5}, 1234)["seed"] == 5
    assert 0 <= runner.prepare(MODERATE, -3)["seed"] < 2**63
    runner.validate(prepared)


def test_resources_come_from_resource_constraints() -> None:
    resources = PhenomenologyRunner().resources(MODERATE)
    assert resources.memory_gb == MODERATE["resource_constraints"]["ram_limit_gb"]
    # the simulated mind is one Python thread whatever the jar declares: parallel: auto sizes by that
    assert MODERATE["resource_constraints"]["cpu_threads"] > 1 and resources.cpu_threads == 1
    assert PhenomenologyRunner().resources({"mode": "isolated", "resource_constraints": {}}).cpu_threads == 1
    # a language-model mind runs llama.cpp on the threads it declares
    llama = {**MODERATE, "mind": "llama", "resource_constraints": {"ram_limit_gb": 1.0, "cpu_threads": 2}}
    assert PhenomenologyRunner().resources(llama).cpu_threads == 2


def test_command_runs_the_module_quietly_into_the_attempt_files(tmp_path: Path) -> None:
    ctx = RunContext(sweep_id="s", experiment_id="e", key="k", seed=1, attempt=1, config_path=tmp_path / "c.json",
                     attempt_dir=tmp_path / "a1", db_path=tmp_path / "a1" / "experiment.db", cpu_threads=2)
    argv, env = PhenomenologyRunner().command(ctx)
    assert argv[:3] == [sys.executable, "-m", "sweeplab.phenomenology"]
    assert argv[argv.index("--config") + 1] == str(ctx.config_path)
    assert argv[argv.index("--db") + 1] == str(ctx.db_path)
    assert argv[argv.index("--metrics") + 1] == str(ctx.attempt_dir / "metrics.json")
    assert "--quiet" in argv and all(isinstance(v, str) for v in env.values())
