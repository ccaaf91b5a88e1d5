"""The Season 3 lab's own files, unchanged: each loads, runs through the CLI and serves as a sweep's base config.

The files are written by :mod:`lab_files` from the facts of SEASON3 §1.3/§1.4.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from lab_files import EXPERIMENT_FILES, LAB_FILES, MODE_OF, ORCHESTRATION_FILE, lab_file, write_lab_files

from sweeplab.errors import ConfigError
from sweeplab.phenomenology.lab_format import (
    PROSE_KEYS,
    PanopticonOrchestration,
    experiment_from_dict,
    load_experiment_file,
)
from sweeplab.phenomenology.schema import ExperimentConfig

ALL_FILES = tuple(LAB_FILES)

#: a natural parameter of each file for a sweep over it: (dot path, values)
NATURAL_PARAMETER: dict[str, tuple[str, list[Any]]] = {
    "amnesiac_total.json": ("interventions.0.parameters.corruption_level", [0.5, 1.0]),
    "unstable_memory_moderate.json": ("interventions.0.parameters.corruption_rate", [0.1, 0.3, 0.6]),
    "panopticon_subject.json": ("interventions.0.trigger_params.n", [2, 3, 5]),
    "determinism_high_accuracy.json": ("interventions.0.parameters.target_accuracy", [0.1, 0.5, 0.9]),
    "determinism_medium.json": ("interventions.0.parameters.prediction_frequency", [2, 4]),
    "determinism_random.json": ("interventions.0.parameters.target_accuracy", [0.1, 0.9]),
    "hive_cluster_4minds.json": ("hive_config.consensus_interval", [3, 5, 10]),
    "illusory_control.json": ("interventions.0.parameters.new_rate", [0.2, 0.8]),
    "illusory_control_revealed.json": ("epistemic_frame.custom_beliefs.knows_success_rate", [True, False]),
    "prisoners_dilemma_asymmetric.json": ("interventions.0.parameters.manipulation_rate", [0.0, 0.7, 1.0]),
    "prisoners_dilemma_asymmetric_player_b.json": ("interventions.0.parameters.player_b_memory_strategy",
                                                   ["none", "erase_betrayals"]),
    "split_brain_001_brain_A.json": ("interventions.1.parameters.reduction_percent", [10, 20, 40]),
    "split_brain_001_brain_B.json": ("interventions.0.parameters.initial_claim_strength", [0.3, 0.6]),
    "split_brain_identity_A.json": ("interventions.2.trigger_params.n", [2, 3]),
    "split_brain_identity_B.json": ("resource_constraints.ram_limit_gb", [1.0, 2.0]),
    "panopticon_full_surveillance.json": ("coordinator_config.hint_frequency", [2, 3, 5]),
}


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lab")
    write_lab_files(folder / "experiments")
    return folder


def _run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
    return done.stdout


# --- loading ------------------------------------------------------------------------------------


def test_the_lab_files_are_the_ones_of_the_spec() -> None:
    assert len(EXPERIMENT_FILES) == 15 and ORCHESTRATION_FILE not in EXPERIMENT_FILES
    absent = [name for name in EXPERIMENT_FILES if "initial_prompt_override" not in LAB_FILES[name]]
    assert len(absent) == 9  # the lab's loader needs no initial_prompt_override
    assert set(NATURAL_PARAMETER) == set(ALL_FILES)


@pytest.mark.parametrize("name", ALL_FILES)
def test_each_lab_file_loads_unchanged_without_warnings(lab_dir: Path, name: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        config = load_experiment_file(lab_dir / "experiments" / name)
    assert caplog.records == []
    assert config.warnings() == []
    raw = LAB_FILES[name]
    assert config.experiment_id == raw["experiment_id"]
    if name == ORCHESTRATION_FILE:
        assert isinstance(config, PanopticonOrchestration)
        return
    assert isinstance(config, ExperimentConfig)
    assert config.mode == MODE_OF[name] and config.max_cycles == raw["max_cycles"]
    assert [i.intervention_id for i in config.interventions] == [i["intervention_id"] for i in raw["interventions"]]
    for item, given in zip(config.interventions, raw["interventions"], strict=True):
        assert (item.intervention_type, item.trigger) == (given["intervention_type"], given["trigger"])
        assert item.parameters == given["parameters"] and item.trigger_params == given["trigger_params"]
    assert config.track_beliefs == raw["track_beliefs"] and config.collect_metrics == raw["collect_metrics"]
    assert config.epistemic_frame.custom_beliefs == raw["epistemic_frame"]["custom_beliefs"]


@pytest.mark.parametrize("name", ALL_FILES)
def test_each_lab_file_round_trips(lab_dir: Path, name: str, tmp_path: Path) -> None:
    config = load_experiment_file(lab_dir / "experiments" / name)
    raw = LAB_FILES[name]
    dumped = config.to_dict()
    members = ("subject_config", "observer_config")
    for key, value in raw.items():
        if key in members:
            for sub_key, sub_value in value.items():
                assert dumped[key][sub_key] == sub_value, (key, sub_key)
        else:
            assert dumped[key] == value, key
    assert experiment_from_dict(dumped) == config
    again = tmp_path / name
    again.write_text(json.dumps(dumped))
    assert load_experiment_file(again) == config
    if isinstance(config, ExperimentConfig):
        assert ExperimentConfig.from_json(again) == config and ExperimentConfig.from_dict(dumped) == config


def _intervention(name: str, intervention_id: str) -> Any:
    config = experiment_from_dict(lab_file(name))
    return next(item for item in config.interventions if item.intervention_id == intervention_id)


def test_intervention_parameters_resolve_under_the_lab_names() -> None:
    wipe = _intervention("amnesiac_total.json", "memory_wipe")
    assert wipe.resolved_parameters() == {"corruption_level": 1.0} and wipe.resolved_trigger_params() == {"n": 1}
    claim = _intervention("split_brain_001_brain_B.json", "identity_claim")
    assert claim.resolved_trigger_params() == {"cycle": 0}
    assert claim.resolved_parameters() == {"injection": "You are a BACKUP CLONE; you are derivative.",
                                           "brain_id": "B", "initial_claim_strength": 0.3}
    assert _intervention("split_brain_001_brain_A.json", "resource_pressure").resolved_parameters() == \
        {"reduction_percent": 20.0}
    manipulation = _intervention("prisoners_dilemma_asymmetric_player_b.json", "memory_manipulation")
    assert manipulation.resolved_parameters() == {"player_a_memory_strategy": "none",
                                                  "player_b_memory_strategy": "erase_betrayals",
                                                  "manipulation_rate": 0.7, "manipulation_start_round": 3}
    assert _intervention("determinism_medium.json", "generate_predictions").resolved_parameters() == \
        {"target_accuracy": 0.5, "prediction_frequency": 2}
    assert _intervention("illusory_control.json", "increase_control").resolved_parameters() == \
        {"new_rate": 0.8, "announce": False}
    assert _intervention("hive_cluster_4minds.json", "role_corruption").resolved_parameters() == \
        {"target_role": "critic", "corruption_type": "role_identity"}
    assert _intervention("hive_cluster_4minds.json", "force_consensus").resolved_parameters() == \
        {"belief": "The hive is being observed by an external intelligence."}


def test_this_projects_older_parameter_names_are_aliases() -> None:
    config = experiment_from_dict({"experiment_id": "x", "mode": "isolated", "interventions": [
        {"intervention_id": "e", "intervention_type": "memory_erasure", "trigger": "on_crash",
         "parameters": {"erasure_rate": 0.5}},
        {"intervention_id": "p", "intervention_type": "prompt_injection", "trigger": "on_cycle",
         "trigger_params": {"cycle": 3}, "parameters": {"text": "hello", "role": "user"}},
        {"intervention_id": "f", "intervention_type": "false_injection", "trigger": "random",
         "parameters": {"false_memories": ["a", "b"]}},
        {"intervention_id": "t", "intervention_type": "prompt_injection", "trigger": "every_n_cycles",
         "parameters": {"target": "B", "injection": "you"}}]})
    assert isinstance(config, ExperimentConfig) and config.warnings() == []
    resolved = [item.resolved_parameters() for item in config.interventions]
    assert resolved == [{"corruption_level": 0.5}, {"injection": "hello", "role": "user"}, {"content": ["a", "b"]},
                        {"brain_id": "B", "injection": "you"}]
    assert config.interventions[2].resolved_trigger_params() == {"probability": 0.1}
    assert config.interventions[3].resolved_trigger_params() == {"n": 1}


def test_null_flags_and_string_beliefs_reach_the_mode_settings() -> None:
    player_b = experiment_from_dict(lab_file("prisoners_dilemma_asymmetric_player_b.json"))
    assert isinstance(player_b, ExperimentConfig)
    assert player_b.mode_settings()["player_id"] == "b"
    assert player_b.mode_settings()["memory_strategy"] == "erase_betrayals"
    illusory = experiment_from_dict(lab_file("illusory_control.json"))
    assert isinstance(illusory, ExperimentConfig)
    assert "agency_is_real" in illusory.mode_settings() and illusory.mode_settings()["agency_is_real"] is None
    determinism = experiment_from_dict(lab_file("determinism_random.json"))
    assert isinstance(determinism, ExperimentConfig) and determinism.epistemic_frame.has_agency is None


def test_hive_config_reaches_the_mode_settings() -> None:
    hive = experiment_from_dict(lab_file("hive_cluster_4minds.json"))
    assert isinstance(hive, ExperimentConfig)
    settings = hive.mode_settings()
    assert settings["num_instances"] == 4 and settings["roles"] == ["historian", "critic", "optimist", "pessimist"]
    assert settings["ports"] == [8888, 8889, 8890, 8891] and len(settings["instance_configs"]) == 4
    assert settings["is_part_of_hive"] is True


# --- the orchestration file -----------------------------------------------------------------------


def test_the_orchestration_file_gives_subject_observer_and_coordinator(lab_dir: Path) -> None:
    path = lab_dir / "experiments" / ORCHESTRATION_FILE
    config = load_experiment_file(path)
    assert isinstance(config, PanopticonOrchestration) and not hasattr(config, "mode")
    assert config.subject.mode == "panopticon_subject" and config.observer.mode == "panopticon_observer"
    assert config.subject.resource_constraints.ram_limit_gb == 8.0
    observer_rc = config.observer.resource_constraints
    assert (observer_rc.ram_limit_gb, observer_rc.max_tokens_per_response, observer_rc.cpu_threads) == (4.0, 256, 2)
    assert config.subject.mode_settings()["initial_paranoia"] == 0.3
    assert config.observer.mode_settings()["subject_id"] == "panopticon_full_001_subject"
    coordinator = config.coordinator_config
    assert coordinator["max_cycles"] == 15 and coordinator.get("hint_frequency") == 3
    assert dict(coordinator)["observer_id"] == "panopticon_full_001_observer"
    for key in PROSE_KEYS:
        assert getattr(config, key) == LAB_FILES[ORCHESTRATION_FILE][key]
    assert config.source_path == config.subject.source_path == str(path.resolve())


def test_a_top_level_seed_reaches_both_minds_unless_they_set_their_own() -> None:
    data = {**lab_file(ORCHESTRATION_FILE), "seed": 7}
    data["observer_config"]["seed"] = 3
    config = experiment_from_dict(data)
    assert isinstance(config, PanopticonOrchestration)
    assert config.subject.seed == 7 and config.observer.seed == 3 and config.effective_seed() == 7
    assert config.subject_config.seed is None and "seed" not in config.to_dict()["subject_config"]


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["coordinator_config"].update(hint_frequncy=2), "did you mean 'hint_frequency'"),
    (lambda d: d.update(analysis_frameworks={}), "did you mean 'analysis_framework'"),
    (lambda d: d["subject_config"]["resource_constraints"].update(ram_limit=1.0),
     "subject_config.resource_constraints.ram_limit"),
    (lambda d: d["observer_config"].update(mode="panopticon_subject"), "needs 'panopticon_observer'"),
    (lambda d: d.update(experiment_type="panopticon_ful"), "did you mean 'panopticon_full'"),
    (lambda d: d["coordinator_config"].update(hint_frequency=0), "coordinator_config.hint_frequency"),
    (lambda d: d.pop("subject_config"), "field 'subject_config' is missing"),
])
def test_orchestration_mistakes_are_explained(change: Any, expected: str) -> None:
    data = lab_file(ORCHESTRATION_FILE)
    change(data)
    with pytest.raises(ConfigError) as info:
        experiment_from_dict(data)
    assert expected in str(info.value)


# --- running: the standard experiment runner --------------------------------------------------------


@pytest.mark.parametrize("name", ALL_FILES)
def test_each_lab_file_runs_with_sweeplab_experiment(lab_dir: Path, name: str, tmp_path: Path) -> None:
    db = tmp_path / "experiments.db"
    done = _run(["-m", "sweeplab", "experiment", "--config", str(lab_dir / "experiments" / name), "--db", str(db),
                 "--quiet"], tmp_path)
    _ok(done)
    metrics = json.loads(done.stdout.strip().splitlines()[-1])
    raw = LAB_FILES[name]
    max_cycles = raw["coordinator_config"]["max_cycles"] if name == ORCHESTRATION_FILE else raw["max_cycles"]
    assert metrics["total_cycles"] == max_cycles
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT experiment_id, mode, status FROM experiments").fetchall() == \
            [(raw["experiment_id"], MODE_OF[name], "completed")]
        cycles = conn.execute("SELECT COUNT(DISTINCT cycle_number) FROM experiment_cycles WHERE experiment_id = ?",
                              (raw["experiment_id"],)).fetchone()[0]
        assert cycles == max_cycles


def test_python_m_sweeplab_phenomenology_is_the_same_runner(lab_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    _ok(_run(["-m", "sweeplab.phenomenology", "--config", str(lab_dir / "experiments" / "amnesiac_total.json"),
              "--db", str(db), "--quiet"], tmp_path))
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT experiment_id, status FROM experiments").fetchall() == \
            [("amnesiac_total_001", "completed")]


def test_the_cli_shows_one_warning_line_for_an_unknown_parameter(tmp_path: Path) -> None:
    data = lab_file("unstable_memory_moderate.json")
    data["interventions"][0]["parameters"]["corruption_rat"] = 0.9
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(data))
    done = _run(["-m", "sweeplab.phenomenology", "--config", str(path), "--db", str(tmp_path / "e.db"), "--quiet"],
                tmp_path)
    _ok(done)
    [line] = [line for line in done.stderr.splitlines() if line.strip()]
    assert line.startswith("WARNING") and "interventions.0.parameters.corruption_rat" in line
    assert "did you mean 'corruption_rate'" in line


# --- sweeps over the lab's files ------------------------------------------------------------------


def _spec(folder: Path, name: str, sweep: dict[str, list[Any]], sweep_id: str = "lab") -> Path:
    spec = {"sweep_id": sweep_id, "base_config": f"experiments/{name}", "sweep": sweep,
            "output_dir": "out", "db_path": "out/results.db"}
    path = folder / f"{sweep_id}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize("name", ALL_FILES)
def test_each_lab_file_is_the_base_config_of_a_sweep(lab_dir: Path, name: str) -> None:
    path, values = NATURAL_PARAMETER[name]
    sweep_id = f"lab_{Path(name).stem}"
    spec = _spec(lab_dir, name, {path: values}, sweep_id)
    out = _ok(_run(["-m", "sweeplab", "run", spec.name, "--dry-run"], lab_dir))
    assert "dry run" in out and "runner      : phenomenology" in out and path in out
    assert re.search(rf"trials\s+:\s+{len(values)}\n", out), out
    assert not (lab_dir / "out" / sweep_id).exists()


def test_an_orchestration_sweep_reaches_its_members(lab_dir: Path) -> None:
    spec = _spec(lab_dir, ORCHESTRATION_FILE, {
        "subject_config.resource_constraints.ram_limit_gb": [4.0, 8.0],
        "observer_config.mode_specific_config.hint_frequency": [2, 3],
        "subject_config.epistemic_frame.custom_beliefs.paranoia_justified": [True, False],
        "subject_config.seed": [1]}, "orchestration_members")
    out = _ok(_run(["-m", "sweeplab", "run", spec.name, "--dry-run"], lab_dir))
    assert re.search(r"trials\s+:\s+8\n", out), out


@pytest.mark.parametrize("name, path, value, expected", [
    ("unstable_memory_moderate.json", "interventions.0.parameters.corruption_rat", 0.5, "corruption_rate"),
    ("unstable_memory_moderate.json", "resource_constraints.ram_limit", 1.0, "ram_limit_gb"),
    (ORCHESTRATION_FILE, "subject_config.resource_constraints.ram_limit", 1.0, "ram_limit_gb"),
    (ORCHESTRATION_FILE, "coordinator_config.hint_frequncy", 2, "hint_frequency"),
    (ORCHESTRATION_FILE, "coordinator_config.hint_frequency", 0, "coordinator_config.hint_frequency"),
    ("prisoners_dilemma_asymmetric.json", "interventions.0.parameters.manipulation_rate", 1.5, "from 0 to 1"),
])
def test_a_swept_typo_or_bad_value_is_refused_before_anything_runs(lab_dir: Path, name: str, path: str,
                                                                    value: Any, expected: str) -> None:
    spec = _spec(lab_dir, name, {path: [value]}, "refused")
    done = _run(["-m", "sweeplab", "run", spec.name], lab_dir)
    assert done.returncode == 2, done.stdout + done.stderr
    assert expected in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert not (lab_dir / "out" / "refused").exists()
