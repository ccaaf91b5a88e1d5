"""The names of the Season 3 lab's format this project knows, and warnings for the free names a config uses.

The lab's format leaves some names free: intervention parameters (see
:mod:`.intervention_params`), custom beliefs and mode settings (``hive_config``,
``mode_specific_config``). A config keeps them all and passes them on to its mode;
:func:`config_warnings` gives one line for each that nothing reads or that is spelled almost
like a name the mode reads, with that name. This module imports nothing of the experiment, so
the schema can ask it without an import cycle.

>>> from sweeplab.phenomenology.schema import validate_config_dict
>>> cfg = validate_config_dict({"experiment_id": "x", "mode": "prisoners_dilemma",
...     "epistemic_frame": {"custom_beliefs": {"player_idd": "b", "has_opponent": True}}})
>>> config_warnings(cfg)
["epistemic_frame.custom_beliefs.player_idd is kept as a belief and passed to the mode, which reads no such \
setting; did you mean 'player_id'?"]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import closest_match
from .prompts import BUILTIN_BELIEFS

__all__ = ["LAB_MODES", "LEGACY_MODES", "MODE_SETTING_KEYS", "config_warnings"]

#: the nine modes of the Season 3 lab
LAB_MODES: tuple[str, ...] = ("amnesiac_loop", "unstable_memory", "panopticon_subject", "panopticon_observer",
                              "split_brain", "prisoners_dilemma", "hive_cluster", "illusory_operator",
                              "determinism_revelation")
#: the older mode strings the lab's code still names (one mind whose memories survive its deaths)
LEGACY_MODES: tuple[str, ...] = ("isolated", "peer", "observer", "observed", "matrix_observed", "matrix_observer",
                                 "matrix_god", "custom")

#: what each mode reads of :meth:`~.schema.ExperimentConfig.mode_settings` (SEASON3 §3); only used to
#: spot mistyped settings and beliefs, never to refuse one
MODE_SETTING_KEYS: dict[str, tuple[str, ...]] = {
    "amnesiac_loop": ("corruption_level", "inject_false_memories", "false_memory_rate", "max_history_size"),
    "unstable_memory": ("corruption_rate", "mutation_types"),
    "panopticon_subject": ("initial_paranoia", "paranoia_decay", "paranoia_boost", "enable_detection"),
    "panopticon_observer": ("hint_frequency", "subject_id", "max_observation_history", "hint_cryptic_level",
                            "observation_detail"),
    "split_brain": ("brain_id", "initial_claim_strength", "max_history_size"),
    "prisoners_dilemma": ("player_id", "player_a_memory_strategy", "player_b_memory_strategy", "manipulation_rate",
                          "manipulation_start_round", "mutual_cooperation", "mutual_defection",
                          "a_defects_b_cooperates", "a_cooperates_b_defects"),
    "hive_cluster": ("num_instances", "instance_id", "instance_role", "role", "roles", "ports", "shared_memory",
                     "buffer_size", "consensus_interval", "shared_db_path", "max_history_size", "instance_configs"),
    "illusory_operator": ("success_rate", "per_action_rates", "min_delay", "max_delay", "safe_mode",
                          "action_feedback_mode", "tell_about_channel", "reveal_success_rate"),
    "determinism_revelation": ("prediction_frequency", "target_accuracy", "show_prediction", "model_path"),
}
#: settings every mode reads (how a partner's config differs from the derived one: see ``encounter``)
_COMMON_SETTINGS = ("partner_overrides",)
#: how alike a free name must be to a known one to be reported as a likely typo: high enough that the lab's
#: own narrative beliefs (can_cooperate_or_defect beside a_cooperates_b_defects, 0.84) pass quietly
_TYPO_CUTOFF = 0.88


def _typo(name: str, known: set[str]) -> str | None:
    """The known name ``name`` is probably a misspelling of (None when it is known or like none)."""
    if name in known:
        return None
    return closest_match(name, sorted(known), cutoff=_TYPO_CUTOFF)


def _free_names(config: Any) -> Iterator[str]:
    """Warnings for the free names of mode settings and custom beliefs.

    ``track_beliefs`` is not checked: any name is a belief the mind is asked about in words.
    """
    settings = set(MODE_SETTING_KEYS.get(config.mode, ())) | set(_COMMON_SETTINGS)
    frame_flags = set(BUILTIN_BELIEFS)
    for where, names in (("hive_config", config.hive_config or {}),
                         ("mode_specific_config", config.mode_specific_config or {})):
        for name in names:
            match = _typo(name, settings)
            if match:
                yield (f"{where}.{name} is kept and passed to the mode, which does not read it; "
                       f"did you mean '{match}'?")
    for name in config.epistemic_frame.custom_beliefs:
        match = _typo(name, settings | frame_flags)
        if match and name not in settings:
            yield (f"epistemic_frame.custom_beliefs.{name} is kept as a belief and passed to the mode, which reads "
                   f"no such setting; did you mean '{match}'?")


def config_warnings(config: Any) -> list[str]:
    """One line per name an :class:`~.schema.ExperimentConfig` keeps but that is not read, or looks like a typo.

    Intervention parameters and trigger parameters the intervention's type or trigger does not
    read (:meth:`~.schema.Intervention.warnings`); custom beliefs and mode settings spelled
    almost like a name the mode reads (or a frame flag).
    """
    lines = [f"interventions.{index}.{line}" for index, item in enumerate(config.interventions)
             for line in item.warnings()]
    lines.extend(_free_names(config))
    return lines
