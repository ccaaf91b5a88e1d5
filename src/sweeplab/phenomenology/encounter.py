"""Which minds one trial holds, and where each mind's config comes from.

A trial is an *encounter*: one mind, or a split-brain pair, a prisoner's-dilemma pair, a hive
of N, a panopticon subject with its observer. They run in one process, taking turns, so a
sweep point is a whole encounter and one file runs all of it:

* **The lead.** The file the trial starts from is the lead mind's: its own fields (RAM limit,
  interventions, frame ...) are the lead's, so a swept dot path like
  ``resource_constraints.ram_limit_gb`` or ``interventions.1.parameters.reduction_percent``
  reaches the lead, and through derivation its partner too.
* **The partner** is read from ``partner_config`` when the file names one (a path to the
  partner's experiment file, relative to the lead's file; or an inline config body), else it
  is *derived* from the lead's config by the mode: brain B from brain A with the identity
  flipped (:mod:`.modes.split_brain`), player b from player a (:mod:`.modes.dilemma`), the
  subject a lone observer file watches (:mod:`.modes.panopticon`).
* **partner_overrides** — a mode setting (a key of ``mode_specific_config``): a partial config
  body deep-merged over the partner's config, derived or read. It is how a sweep reaches the
  partner alone: ``mode_specific_config.partner_overrides.resource_constraints.ram_limit_gb``.
  The derivation helpers live in :mod:`.modes.partners` (the modes' seat plans use them; this
  module uses the modes, never the other way round).
* **A hive**'s instances share the lead's config; ``hive_config.instance_configs.<i>.<key>``
  (role, perspective, bias, concerns) reaches instance *i*.
* **The panopticon orchestration file** (``experiment_type: panopticon_full``) names the subject
  and the observer; the subject leads, and the coordinator's settings (``hint_frequency``,
  ``max_cycles``) reach the observer and the trial.

Every mind of a trial records its rows under the trial's ``experiment_id`` with its seat as
``participant`` (table ``participants`` keeps each seat's config); a partner keeps the lead's
seed, and its mind draws from its own random stream (:func:`mind_seed`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .modes import load_mode
from .modes.base import SeatPlan
from .modes.partners import (
    config_body,
    deep_merge,
    derive_config,
    partner_config,
    validate_body,
)
from .modes.settings import ModeSettings, mode_settings

if TYPE_CHECKING:
    from .modes.base import Mode
    from .schema import ExperimentConfig

__all__ = ["Encounter", "plan_encounter", "derive_config", "partner_config", "config_body", "deep_merge",
           "mind_seed", "load_partner", "is_orchestration", "encounter_size"]


@dataclass(frozen=True)
class Encounter:
    """The minds of one trial: the mode that runs them, the lead's config, and every seat (lead first)."""

    mode_name: str
    mode_class: type[Mode]
    lead: ExperimentConfig
    seats: list[SeatPlan]
    settings: ModeSettings


def encounter_size(config: dict[str, Any]) -> int:
    """How many minds the config body ``config`` runs in one trial (cheap: no validation, for the runner's
    resource estimate)."""
    if config.get("experiment_type") == "panopticon_full":
        return 2
    mode = config.get("mode")
    specific = config.get("mode_specific_config") or {}
    if mode in ("split_brain", "prisoners_dilemma", "panopticon_observer"):
        return 2
    if mode == "panopticon_subject":
        return 2 if config.get("partner_config") or specific.get("with_observer") else 1
    if mode == "hive_cluster":
        count = {**(config.get("hive_config") or {}), **specific}.get("num_instances", 4)
        return count if isinstance(count, int) and count > 0 else 4
    return 1


def is_orchestration(config: Any) -> bool:
    """True for the panopticon orchestration file (a subject, an observer and a coordinator)."""
    return hasattr(config, "subject") and hasattr(config, "observer") and not hasattr(config, "mode")


def mind_seed(seed: int, seat: str, lead: bool) -> int:
    """The seed of a seat's mind: the trial's seed for the lead, a stable mix of seed and seat otherwise."""
    return seed if lead else zlib.crc32(f"{seed}:{seat}".encode())


def load_partner(config: ExperimentConfig) -> ExperimentConfig | None:
    """The partner config ``config`` names in ``partner_config`` (None when it names none).

    A relative path is taken from the folder of the lead's file when the config knows it
    (``source_path``), else from the working directory.
    """
    reference = getattr(config, "partner_config", None)
    if reference is None:
        return None
    if hasattr(reference, "model_dump"):
        return reference
    if isinstance(reference, dict):
        return validate_body(dict(reference), f"partner_config of experiment '{config.experiment_id}'")
    from .schema import load_config

    path = Path(str(reference))
    source = getattr(config, "source_path", None)
    if not path.is_absolute() and source:
        path = Path(source).parent / path
    if not path.is_file():
        raise ConfigError(f"partner_config {str(reference)!r} of experiment '{config.experiment_id}' is not a file "
                          f"(looked for {path}): give the partner's experiment file, relative to this one")
    return load_config(path)


def plan_encounter(config: Any) -> Encounter:
    """The minds ``config`` runs with: an :class:`~.schema.ExperimentConfig` or the panopticon
    orchestration config (subject, observer, coordinator)."""
    if is_orchestration(config):
        from .modes.panopticon import orchestration_plans

        lead, plans = orchestration_plans(config)
        mode_name = "panopticon_subject"  # the lead's mode (the subject's) names the trial's
    else:
        lead = config
        mode_name = config.mode
        plans = None
    mode_class = load_mode(mode_name)
    settings = ModeSettings(mode_settings(lead), mode_name)
    if plans is None:
        plans = mode_class.seat_plans(lead, settings, load_partner(lead))
    names = [plan.name for plan in plans]
    if len(set(names)) != len(names):
        raise ConfigError(f"experiment '{lead.experiment_id}': two minds share a seat name ({names})")
    return Encounter(mode_name, mode_class, lead, plans, settings)
