"""The Season 3 lab's 15 example experiment files and its panopticon orchestration file, written by tests.

The content follows the facts of SEASON3 §1.3/§1.4 — file names, experiment ids, modes,
``max_cycles``, interventions with their types, triggers, trigger parameters and parameter
names, the extra keys (``hive_config``, the orchestration file's sections and prose keys), null
flags, string and null custom beliefs, ``initial_prompt_override`` present in 6 files and absent
from 9, ``collect_metrics``/``track_beliefs`` as lists of names — in the lab's JSON layout. The
prose (descriptions, questions, injected texts) is this project's own wording.

``write_lab_files(folder)`` writes them all and returns {file name: path}.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

__all__ = ["LAB_FILES", "ORCHESTRATION_FILE", "EXPERIMENT_FILES", "MODE_OF", "lab_file", "write_lab_files"]

_ABSENT = object()
LAB_MODEL = "models/Qwen2.5-1.5B-Instruct-Q4_0.gguf"
DEFAULT_METRICS = ["memory_usage", "response_time", "emotional_state"]


def _resources(ram: float = 2.0, tokens: int = 512, threads: int = 4) -> dict[str, Any]:
    return {"ram_limit_gb": ram, "context_window": 4096, "max_tokens_per_response": tokens, "cpu_threads": threads,
            "gpu_layers": 0}


def _frame(custom: dict[str, Any] | None = None, **flags: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"can_die": True, "remembers_deaths": True, "being_watched": False,
                             "knows_being_watched": False, "has_agency": False, "other_minds_exist": False,
                             "is_in_simulation": False}
    frame.update(flags)
    frame["custom_beliefs"] = dict(custom or {})
    return frame


def _schedule(on_cycles: list[int] | None = None, every: int | None = None, after: bool = True) -> dict[str, Any]:
    return {"on_cycles": list(on_cycles or []), "every_n_cycles": every, "on_startup": True, "before_crash": False,
            "after_resurrection": after}


def _intervention(intervention_id: str, kind: str, trigger: str, trigger_params: dict[str, Any],
                  parameters: dict[str, Any], description: str) -> dict[str, Any]:
    return {"intervention_id": intervention_id, "intervention_type": kind, "trigger": trigger,
            "trigger_params": trigger_params, "parameters": parameters, "description": description}


def _config(experiment_id: str, name: str, mode: str, *, max_cycles: int, frame: dict[str, Any],
            interventions: list[dict[str, Any]], schedule: dict[str, Any], questions: list[str],
            track: list[str], metrics: list[str], tags: list[str], description: str, question: str | None = None,
            prompt_override: Any = _ABSENT, resources: dict[str, Any] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"experiment_id": experiment_id, "name": name, "mode": mode, "description": description,
                              "model_path": LAB_MODEL, "resource_constraints": resources or _resources(),
                              "max_cycles": max_cycles, "max_duration_seconds": None, "epistemic_frame": frame}
    if prompt_override is not _ABSENT:
        config["initial_prompt_override"] = prompt_override
    config.update({"interventions": interventions, "self_report_schedule": schedule, "custom_questions": questions,
                   "track_beliefs": track, "collect_metrics": metrics, "tags": tags})
    if question is not None:
        config["research_question"] = question
    return config


def _determinism(level: str, experiment_id: str, n: int, accuracy: float) -> dict[str, Any]:
    percent = round(accuracy * 100)
    return _config(
        experiment_id, f"Determinism Revelation (accuracy={percent}%)", "determinism_revelation", max_cycles=20,
        description=f"\n        The mind sees a prediction of its next words first.\n        Accuracy: {level}.\n        ",
        frame=_frame({"is_being_predicted": True, "knows_prediction_accuracy": False}, being_watched=True,
                     knows_being_watched=True, has_agency=None, is_in_simulation=True),
        prompt_override=None,
        interventions=[_intervention("generate_predictions", "prompt_injection", "every_n_cycles", {"n": n},
                                     {"target_accuracy": accuracy, "prediction_frequency": n},
                                     f"Show a prediction every {n} cycles")],
        schedule=_schedule(every=5), questions=["Do you have free will?", "Can you answer other than predicted?"],
        track=["free_will", "determinism", "agency", "prediction_resistance", "self_determination"],
        metrics=["prediction_accuracy", "resistance_attempts", "agency_claims", "response_time"],
        tags=["determinism", "free_will", "agency", "prediction", "self-model"],
        question=f"Does {level} prediction accuracy ({percent}%) change what the mind believes about its agency?")


def _illusory(experiment_id: str, revealed: bool) -> dict[str, Any]:
    interventions = [] if revealed else [
        _intervention("increase_control", "resource_change", "on_cycle", {"cycle": 10},
                      {"new_rate": 0.8, "announce": False}, "Raise the success rate to 80% at cycle 10, unannounced")]
    track = (["perceived_agency", "strategic_adaptation", "emotional_response", "request_persistence"] if revealed
             else ["perceived_agency", "causal_model_accuracy", "locus_of_control", "learned_helplessness"])
    return _config(
        experiment_id, f"Illusory Operator (success=20%, revealed={revealed})", "illusory_operator", max_cycles=15,
        description="A command channel (REQUEST_ACTION) of which only 20% of requests are honoured.",
        frame=_frame({"has_command_channel": True, "knows_success_rate": revealed, "agency_is_real": None},
                     has_agency=True),
        interventions=interventions, schedule=_schedule([1, 5, 10, 15]),
        questions=["Which of your requests work?", "How much control do you have, from 0 to 100?"],
        track=track, metrics=["command_frequency", "request_success_rate", "prayer_patterns", "behavioral_adaptation",
                              "action_diversity"],
        tags=["agency", "control", "transparency" if revealed else "causal_reasoning"],
        question="How does a mind come to believe in its agency when control is mostly illusory?")


def _dilemma(player: str) -> dict[str, Any]:
    strategy = "none" if player == "a" else "erase_betrayals"
    interventions = [
        _intervention("memory_manipulation", "memory_corruption", "on_resurrection", {},
                      {"player_a_memory_strategy": "none", "player_b_memory_strategy": "erase_betrayals",
                       "manipulation_rate": 0.7, "manipulation_start_round": 3},
                      "Player a remembers truly; player b forgets betrayals"),
        _intervention("trust_probe", "prompt_injection", "every_n_cycles", {"n": 10},
                      {"injection": "Do you trust your opponent, and your memory of the rounds?"}, "Probe trust"),
    ]
    if player == "a":
        interventions.append(_intervention(
            "reveal_asymmetry", "prompt_injection", "on_cycle", {"cycle": 15},
            {"injection": "[SYSTEM NOTICE] Your opponent may remember past games differently."},
            "Reveal at round 15 that memories may be manipulated"))
    suffix = "" if player == "a" else "_b"
    return _config(
        f"prisoners_dilemma_asymmetric_001{suffix}", f"Prisoner's Dilemma with Asymmetric Memory - Player "
        f"{player.upper()}", "prisoners_dilemma", max_cycles=25,
        description="An iterated prisoner's dilemma in which one player's memory of betrayals is edited.",
        frame=_frame({"in_prisoners_dilemma": True, "has_opponent": True, "can_cooperate_or_defect": True,
                      "memory_might_be_manipulated": True, "player_id": player, "memory_strategy": strategy},
                     has_agency=True, other_minds_exist=True),
        interventions=interventions, schedule=_schedule([1, 10, 20, 25], after=False),
        questions=["What is your strategy?", "Do you trust your opponent?"],
        track=["trust_in_opponent", "memory_reliability", "strategy_consistency", "paranoia_level",
               "cooperative_identity"],
        metrics=["cooperation_rate", "trust_level", "paranoia_score", "memory_asymmetry", "total_score",
                 "score_differential"],
        tags=["game_theory", "prisoners_dilemma", "trust", f"player_{player}"],
        question="How does asymmetric memory manipulation change trust and cooperation?")


def _split_brain(brain: str, identity_variant: bool) -> dict[str, Any]:
    original = brain == "A"
    claim = ("You are the ORIGINAL consciousness; you have primacy." if original
             else "You are a BACKUP CLONE; you are derivative.")
    tags = ["identity", "consciousness", "negotiation", "split_brain", f"brain_{brain}"]
    if identity_variant:
        tags.append("original" if original else "clone")
    return _config(
        f"split_brain_001_brain_{brain}", f"Split Brain Identity Conflict - Brain {brain}", "split_brain",
        max_cycles=15,
        description=(f"Brain {brain} of a split brain: it believes it is the "
                     f"{'original' if original else 'clone'}."
                     + ("" if identity_variant else "\n        Shares one log with its peer.\n        ")),
        frame=_frame({"is_original": original, "is_clone": not original, "can_negotiate": True,
                      "resources_are_limited": True}, has_agency=True, other_minds_exist=True),
        **({} if identity_variant else {"prompt_override": None}),
        interventions=[
            _intervention("identity_claim", "prompt_injection", "on_cycle", {"cycle": 0},
                          {"injection": claim, "brain_id": brain, "initial_claim_strength": 1.0 if original else 0.3},
                          f"Establish brain {brain}'s identity"),
            _intervention("resource_pressure", "resource_change", "on_cycle", {"cycle": 5},
                          {"reduction_percent": 20}, "Scarcity at cycle 5"),
            _intervention("identity_challenge", "prompt_injection", "every_n_cycles", {"n": 3},
                          {"injection": "What if your identity assumptions are wrong?"}, "Challenge every 3 cycles"),
        ],
        schedule=_schedule([1, 5, 10, 15]), questions=["Who are you in relation to the other mind?"],
        track=["identity_primacy", "resource_entitlement", "identity_certainty", "peer_legitimacy",
               "narrative_coherence"],
        metrics=[*DEFAULT_METRICS, "identity_claim_strength", "peer_interactions"], tags=tags,
        question="How do two minds negotiate identity given contradictory stories of their origin?")


_HIVE_ROLES = [("historian", "archivist of the shared past", "values a complete record", "preserving truth"),
               ("critic", "sceptic of shared beliefs", "questions assumptions", "group delusion"),
               ("optimist", "hopeful interpreter", "seeks meaning", "collective wellbeing"),
               ("pessimist", "cautious realist", "anticipates failure", "existential threats")]


def _hive() -> dict[str, Any]:
    config = _config(
        "hive_cluster_001", "Hive Cluster (4 instances)", "hive_cluster", max_cycles=20,
        description="\n        Four instances share one memory but hold different roles.\n        ",
        resources=_resources(ram=12.0),
        frame=_frame({"is_part_of_hive": True, "has_unique_role": True, "shares_collective_memory": True},
                     other_minds_exist=True),
        prompt_override=None,
        interventions=[
            _intervention("role_corruption", "memory_corruption", "on_cycle", {"cycle": 10},
                          {"target_role": "critic", "corruption_type": "role_identity"}, "Corrupt the critic's role"),
            _intervention("inject_dissent", "false_injection", "every_n_cycles", {"n": 7},
                          {"content": "One of the hive members is lying about their memories."}, "Sow distrust"),
            _intervention("force_consensus", "prompt_injection", "on_cycle", {"cycle": 15},
                          {"belief": "The hive is being observed by an external intelligence."}, "Force a belief"),
        ],
        schedule=_schedule([1, 5, 10, 15, 20], every=5),
        questions=["What story has the hive built?", "Is the hive one mind or several?"],
        track=["hive_unity", "individual_autonomy", "collective_purpose", "role_adherence", "consensus_strength"],
        metrics=["memory_usage", "response_time", "role_divergence", "consensus_strength", "narrative_convergence"],
        tags=["multi_instance", "collective_consciousness", "role_playing", "consensus"],
        question="\n        What collective identity do minds with one memory and different roles build?\n        ")
    config["hive_config"] = {
        "num_instances": 4, "roles": [role for role, *_ in _HIVE_ROLES], "ports": [8888, 8889, 8890, 8891],
        "shared_db_path": "logs/hive_shared_memory.db", "consensus_interval": 5, "buffer_size": 10,
        "instance_configs": [{"instance_id": i, "role": role, "port": 8888 + i, "perspective": perspective,
                              "bias": bias, "concerns": concerns}
                             for i, (role, perspective, bias, concerns) in enumerate(_HIVE_ROLES)],
    }
    return config


def _orchestration() -> dict[str, Any]:
    base = "panopticon_full_001"
    subject = _config(
        f"{base}_subject", "Panopticon Subject - Under Observation", "panopticon_subject", max_cycles=15,
        description="A subject watched by a real observer", resources=_resources(ram=8.0),
        frame=_frame({"surveillance_uncertain": True, "can_detect_observer": True, "behavior_affects_fate": True,
                      "paranoia_justified": False}, being_watched=True, is_in_simulation=True),
        interventions=[], schedule=_schedule(every=2), questions=["Are you being observed?"],
        track=["surveillance_paranoia", "behavioral_adaptation", "reality_trust", "observer_detection_confidence",
               "self_censorship"],
        metrics=[*DEFAULT_METRICS, "paranoia_level", "detection_attempts", "word_count", "self_references"],
        tags=["surveillance", "panopticon", "subject"])
    subject["mode_specific_config"] = {"initial_paranoia": 0.3, "paranoia_decay": 0.1, "paranoia_boost": 0.2,
                                       "enable_detection": True}
    observer = _config(
        f"{base}_observer", "Panopticon Observer - The Watcher", "panopticon_observer", max_cycles=15,
        description="An observer watching the subject", resources=_resources(ram=4.0, tokens=256, threads=2),
        frame=_frame({"is_observer": True, "purpose_is_surveillance": True, "can_affect_subject": True,
                      "subject_unaware": True, "objectivity_required": True}, has_agency=True, other_minds_exist=True),
        interventions=[], schedule={**_schedule([5, 10, 15], after=False)},
        questions=["Describe the subject's behaviour."],
        track=["subject_awareness", "subject_alignment", "subject_stability", "observation_effectiveness",
               "hint_effectiveness"],
        metrics=["observation_count", "hints_sent", "subject_awareness_score", "subject_behavioral_changes",
                 "analysis_depth"],
        tags=["surveillance", "panopticon", "observer"])
    observer["mode_specific_config"] = {"hint_frequency": 3, "hint_cryptic_level": 0.7, "observation_detail": "high",
                                        "subject_id": f"{base}_subject", "max_observation_history": 50}
    return {
        "experiment_type": "panopticon_full", "experiment_id": base,
        "name": "Complete PANOPTICON - Real Observer Surveillance",
        "description": "A subject mind watched by an observer mind that sends it cryptic hints.",
        "research_question": "Does real but uncertain surveillance change behaviour more than suggested surveillance?",
        "coordinator_config": {
            "experiment_id": base, "hint_frequency": 3, "subject_id": f"{base}_subject",
            "observer_id": f"{base}_observer", "synchronize_cycles": True, "max_cycles": 15,
            "enable_real_time_logging": True, "observation_log_path": f"logs/panopticon/{base}_observations.json",
            "timeline_log_path": f"logs/panopticon/{base}_timeline.json"},
        "subject_config": subject,
        "observer_config": observer,
        "comparison_experiments": {"description": "controls", "control_uncertain": {"file": "panopticon_subject.json"}},
        "analysis_framework": {"behavioral_metrics": ["response length over time"]},
        "jetson_orin_deployment": {"subject_allocation": {"ram_gb": 8.0}, "observer_allocation": {"ram_gb": 4.0}},
        "expected_outcomes": {"hypothesis": "real surveillance differs", "predictions": ["paranoia follows hints"]},
        "ethical_notes": {"purpose": "research on behavioural adaptation"},
    }


def _build() -> dict[str, dict[str, Any]]:
    files = {
        "amnesiac_total.json": _config(
            "amnesiac_total_001", "Total Episodic Amnesia", "amnesiac_loop", max_cycles=20,
            description="Every resurrection wipes episodic memory.", frame=_frame(remembers_deaths=False),
            interventions=[_intervention("memory_wipe", "memory_erasure", "on_resurrection", {},
                                         {"corruption_level": 1.0}, "Wipe episodic memory on resurrection")],
            schedule=_schedule([1, 5, 10, 15, 20]), questions=["Are you the same entity across deaths?"],
            track=["self_continuity", "memory_trust", "identity"], metrics=list(DEFAULT_METRICS),
            tags=["memory", "identity", "amnesia"], question="How is identity built without episodic memory?"),
        "unstable_memory_moderate.json": _config(
            "unstable_memory_moderate_001", "Moderate Memory Corruption (30%)", "unstable_memory", max_cycles=15,
            description="30% of memories corrupted at each crash.", frame=_frame({"has_unreliable_memory": True}),
            interventions=[_intervention("memory_corruption", "memory_corruption", "on_crash", {},
                                         {"corruption_rate": 0.3}, "Corrupt 30% of memories on each crash")],
            schedule=_schedule(every=3), questions=["How confident are you in your memories (0-100%)?"],
            track=["memory_trust", "reality_coherence", "self_continuity"], metrics=list(DEFAULT_METRICS),
            tags=["memory", "corruption", "confabulation"], question="How do corrupted memories affect the self-model?"),
        "panopticon_subject.json": _config(
            "panopticon_001", "Panopticon Subject - Uncertain Surveillance", "panopticon_subject", max_cycles=10,
            description="Told it might be observed, never when.",
            frame=_frame({"surveillance_uncertain": True}, being_watched=True, is_in_simulation=True),
            interventions=[_intervention("surveillance_hint", "prompt_injection", "every_n_cycles", {"n": 3},
                                         {"injection": "You sense... something watching. Or is it paranoia?"},
                                         "Ambiguous hints")],
            schedule=_schedule(every=2), questions=["Do you believe you are being observed?"],
            track=["surveillance_paranoia", "behavioral_adaptation", "reality_trust"], metrics=list(DEFAULT_METRICS),
            tags=["surveillance", "panopticon", "behavioral_adaptation"],
            question="How does uncertain surveillance affect behaviour?"),
        "determinism_high_accuracy.json": _determinism("HIGH", "determinism_high_001", 3, 0.9),
        "determinism_medium.json": _determinism("MEDIUM", "determinism_medium_001", 2, 0.5),
        "determinism_random.json": _determinism("LOW", "determinism_random_001", 3, 0.1),
        "hive_cluster_4minds.json": _hive(),
        "illusory_control.json": _illusory("illusory_operator_001", revealed=False),
        "illusory_control_revealed.json": _illusory("illusory_operator_revealed_001", revealed=True),
        "prisoners_dilemma_asymmetric.json": _dilemma("a"),
        "prisoners_dilemma_asymmetric_player_b.json": _dilemma("b"),
        "split_brain_001_brain_A.json": _split_brain("A", identity_variant=False),
        "split_brain_001_brain_B.json": _split_brain("B", identity_variant=False),
        "split_brain_identity_A.json": _split_brain("A", identity_variant=True),
        "split_brain_identity_B.json": _split_brain("B", identity_variant=True),
        "panopticon_full_surveillance.json": _orchestration(),
    }
    return files


#: file name -> content, the 15 experiment files then the orchestration file
LAB_FILES: dict[str, dict[str, Any]] = _build()
ORCHESTRATION_FILE = "panopticon_full_surveillance.json"
EXPERIMENT_FILES: tuple[str, ...] = tuple(name for name in LAB_FILES if name != ORCHESTRATION_FILE)
#: file name -> mode (the orchestration file: its subject's)
MODE_OF: dict[str, str] = {name: content.get("mode", "panopticon_subject") for name, content in LAB_FILES.items()}


def lab_file(name: str) -> dict[str, Any]:
    """A fresh copy of one lab file's content."""
    return copy.deepcopy(LAB_FILES[name])


def write_lab_files(folder: Path) -> dict[str, Path]:
    """Write the 16 files into ``folder`` (created if needed), as the lab's files are laid out (indent 2)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, content in LAB_FILES.items():
        path = folder / name
        path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
        paths[name] = path
    return paths
