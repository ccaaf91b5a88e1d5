"""The experiment config: :class:`ExperimentConfig` and its parts, in the Season 3 lab's format (pydantic v2).

The lab's experiment files load unchanged (SEASON3 §1), with the lab's types and defaults:
null flags in ``epistemic_frame``, ``custom_beliefs`` of any value type, ``track_beliefs`` and
``collect_metrics`` as lists of names, ``max_cycles: 0`` for "no limit". Keys that configure a
mode (``hive_config``, ``mode_specific_config``) and ``partner_config`` (the partner's file) are
read; this project adds two optional keys, ``seed`` (``None`` = derived from
``experiment_id``, so an unseeded run is still reproducible) and ``mind`` (the backend producing
the mind's words, default ``simulated``). Any other unknown key and any bad value is an error:
:func:`load_config` and :func:`validate_config_dict` turn them into one
:class:`~sweeplab.errors.ConfigError` whose lines name the field, the value and what was
expected. What the lab's format leaves free — intervention parameters, custom beliefs, mode
settings — is kept and passed to the mode, with a warning when a name looks like a typo
(:meth:`ExperimentConfig.warnings`). The panopticon orchestration file and
:func:`~.lab_format.load_experiment_file` live in :mod:`.lab_format`.

``track_beliefs`` names the beliefs each self-report session asks the mind to rate (built-in
ones, custom beliefs, or any name, asked about in words); each gives the metric
``belief_<name>_confidence``. ``collect_metrics`` names what is recorded per cycle beyond the
core tables: ``memory_usage`` and ``response_time`` give the ``system_metrics`` rows (an empty
list: none); other names (a mode's observables, such as ``paranoia_level``) are kept for the
mode, which records its observables regardless. A trial's metrics (``metrics.json``, what the
sweep analysis reads) are always computed in full.

>>> cfg = validate_config_dict({"experiment_id": "e1", "mode": "isolated"})
>>> cfg.resource_constraints.ram_limit_gb, cfg.collect_metrics
(2.0, ['memory_usage', 'response_time', 'emotional_state'])
"""

from __future__ import annotations

import json
import logging
import zlib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import ConfigError, did_you_mean
from .intervention_params import parameter_warnings, resolve_parameters, resolve_trigger_params, trigger_param_warnings
from .minds import default_model_path, load_mind, mind_setting
from .lab_names import LAB_MODES, LEGACY_MODES, config_warnings
from .validation_messages import format_validation_error, read_json_file

__all__ = ["InterventionType", "Trigger", "ResourceConstraints", "EpistemicFrame", "Intervention",
           "SelfReportSchedule", "ExperimentConfig", "MODES", "LAB_MODES", "LEGACY_MODES", "SYSTEM_METRICS",
           "DEFAULT_MODEL_PATH", "load_config", "validate_config_dict", "format_validation_error", "read_json_file"]

log = logging.getLogger(__name__)

InterventionType = Literal["memory_corruption", "memory_erasure", "false_injection", "prompt_injection",
                           "resource_change", "network_disruption", "sensory_hallucination"]
Trigger = Literal["on_cycle", "on_crash", "on_resurrection", "every_n_cycles", "random"]
#: every mode string a config may name: the lab's nine modes, then the legacy ones
MODES: tuple[str, ...] = (*LAB_MODES, *LEGACY_MODES)
#: the ``collect_metrics`` names that switch on the per-cycle ``system_metrics`` rows
SYSTEM_METRICS: tuple[str, ...] = ("memory_usage", "response_time")
#: the lab's model (the simulated mind models its footprint from this name)
DEFAULT_MODEL_PATH = "models/Qwen2.5-1.5B-Instruct-Q4_0.gguf"


class _Strict(BaseModel):
    """Shared settings: unknown keys are errors, no silent type coercion, assignment re-validated."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)


class ResourceConstraints(_Strict):
    """The jar's size: RAM limit, context window, reply length, threads and GPU layers (the lab's defaults)."""

    ram_limit_gb: float = Field(2.0, gt=0, le=1024)
    context_window: int = Field(4096, ge=64, le=1_000_000)
    max_tokens_per_response: int = Field(512, ge=1, le=100_000)
    cpu_threads: int | None = Field(4, ge=1, le=1024)
    gpu_layers: int = Field(0, ge=-1, le=10_000)  # -1: all layers


class EpistemicFrame(_Strict):
    """What is true of the mind's world, and what it is told (see :mod:`.prompts`).

    A flag may be null, as in the lab's determinism files (``has_agency: null``: left open); it
    reads as false. ``custom_beliefs`` values may be of any type: booleans are beliefs; the
    others (``player_id: "a"``, ``agency_is_real: null``) are settings a mode may read (see
    :meth:`ExperimentConfig.mode_settings`).
    """

    can_die: bool | None = True
    remembers_deaths: bool | None = True
    being_watched: bool | None = False
    knows_being_watched: bool | None = False
    has_agency: bool | None = False
    other_minds_exist: bool | None = False
    is_in_simulation: bool | None = False
    custom_beliefs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("custom_beliefs")
    @classmethod
    def _belief_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not name.strip():
                raise ValueError("custom belief names must be non-empty strings")
        return value


class Intervention(_Strict):
    """Something done to the mind, when its trigger fires. See :mod:`.intervention_params`.

    ``parameters`` and ``trigger_params`` keep what the file says; :meth:`resolved_parameters`
    gives them under the lab's names with defaults. Unknown keys are kept (see :meth:`warnings`).
    """

    intervention_id: str = Field(min_length=1)
    intervention_type: InterventionType
    trigger: Trigger
    trigger_params: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    description: str = ""

    @model_validator(mode="after")
    def _check_params(self) -> Intervention:
        resolve_trigger_params(self.trigger, self.trigger_params)
        resolve_parameters(self.intervention_type, self.parameters)
        return self

    def resolved_parameters(self) -> dict[str, Any]:
        """``parameters`` under the lab's names (older names renamed), with defaults filled in."""
        return resolve_parameters(self.intervention_type, self.parameters)

    def resolved_trigger_params(self) -> dict[str, Any]:
        """``trigger_params`` with defaults filled in (``every_n_cycles`` n 1, ``random`` probability 0.1)."""
        return resolve_trigger_params(self.trigger, self.trigger_params)

    def warnings(self) -> list[str]:
        """One line per parameter or trigger parameter this intervention's type or trigger does not read."""
        return [*trigger_param_warnings(self.trigger, self.trigger_params),
                *parameter_warnings(self.intervention_type, self.parameters)]


class SelfReportSchedule(_Strict):
    """When the mind is questioned (a null flag reads as false)."""

    on_cycles: list[int] = Field(default_factory=list)
    every_n_cycles: int | None = Field(None, ge=1)
    on_startup: bool | None = True
    before_crash: bool | None = False
    after_resurrection: bool | None = True

    @field_validator("on_cycles")
    @classmethod
    def _positive_cycles(cls, value: list[int]) -> list[int]:
        bad = [c for c in value if c < 1]
        if bad:
            raise ValueError(f"cycle numbers start at 1, got {bad}")
        return value


class ExperimentConfig(_Strict):
    """One "mind in a jar" experiment, in the Season 3 lab's JSON format (``name`` may be left out here).

    ``mode`` is one of :data:`MODES`; :meth:`mode_settings` is what the mode reads.
    """

    experiment_id: str = Field(min_length=1)
    name: str = ""
    mode: str
    description: str = ""
    model_path: str = DEFAULT_MODEL_PATH
    resource_constraints: ResourceConstraints = Field(default_factory=ResourceConstraints)
    max_cycles: int | None = Field(None, ge=0)  # None or 0: no limit (the lab's runner reads 0 as false)
    max_duration_seconds: float | None = Field(None, gt=0)
    epistemic_frame: EpistemicFrame = Field(default_factory=EpistemicFrame)
    initial_prompt_override: str | None = None
    interventions: list[Intervention] = Field(default_factory=list)
    self_report_schedule: SelfReportSchedule = Field(default_factory=SelfReportSchedule)
    custom_questions: list[str] = Field(default_factory=list)
    track_beliefs: list[str] = Field(default_factory=lambda: ["mortality", "surveillance", "agency", "other_minds"])
    collect_metrics: list[str] = Field(default_factory=lambda: ["memory_usage", "response_time", "emotional_state"])
    tags: list[str] = Field(default_factory=list)
    research_question: str = ""
    hive_config: dict[str, Any] | None = None
    mode_specific_config: dict[str, Any] | None = None
    partner_config: str | dict[str, Any] | None = None
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    mind: str | dict[str, Any] = "simulated"

    @model_validator(mode="before")
    @classmethod
    def _model_of_the_mind(cls, data: Any) -> Any:
        """A config naming no ``model_path`` runs its mind's own default model (``llama``: SmolLM2 135M
        Instruct); the field's default stays the lab's for the simulated mind."""
        if isinstance(data, dict) and "model_path" not in data:
            default = default_model_path(data.get("mind"))
            if default is not None:
                return {**data, "model_path": default}
        return data

    @field_validator("mind", mode="plain")
    @classmethod
    def _known_mind(cls, value: Any) -> str | dict[str, Any]:
        return mind_setting(value)  # a name, or a server mapping with its defaults filled in

    _source_path: str | None = PrivateAttr(None)

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, value: str) -> str:
        if value in MODES:
            return value
        if value == "panopticon_full":
            raise ValueError("'panopticon_full' is the experiment_type of the panopticon orchestration file "
                             "(subject_config, observer_config, coordinator_config), not a mode")
        raise ValueError(f"unknown mode {value!r}: expected one of the lab's modes ({', '.join(LAB_MODES)}) or a "
                         f"legacy mode ({', '.join(LEGACY_MODES)}){did_you_mean(value, MODES)}")

    @field_validator("collect_metrics", mode="before")
    @classmethod
    def _metric_names(cls, value: Any) -> Any:
        """This project's older ``true``/``false`` reads as the lab's default list / no names."""
        if isinstance(value, bool):
            return ["memory_usage", "response_time", "emotional_state"] if value else []
        return value

    @field_validator("custom_questions", "track_beliefs", "collect_metrics", "tags")
    @classmethod
    def _names_not_blank(cls, value: list[str]) -> list[str]:
        if any(not q.strip() for q in value):
            raise ValueError("entries must be non-empty strings")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> ExperimentConfig:
        load_mind(self.mind).check_model(self.model_path)  # e.g. a language model needs its file
        ids = [i.intervention_id for i in self.interventions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"interventions reuse intervention_id {duplicates}: each id must be unique")
        return self

    def __eq__(self, other: object) -> bool:
        # the file a config came from (source_path) is not part of the config
        if not isinstance(other, ExperimentConfig):
            return NotImplemented
        return self.__dict__ == other.__dict__

    @property
    def source_path(self) -> str | None:
        """The file the config was read from (None when built from a dict); ``partner_config`` is relative to it."""
        return self._source_path

    def effective_seed(self) -> int:
        """The seed the run uses: ``seed``, or a stable hash of ``experiment_id`` when unset."""
        if self.seed is not None:
            return self.seed
        return zlib.crc32(self.experiment_id.encode("utf-8"))

    def mode_settings(self) -> dict[str, Any]:
        """The flat settings the mode reads: ``epistemic_frame.custom_beliefs`` (values as given), then the keys
        of ``hive_config``, then of ``mode_specific_config``; later ones win. Modes apply their own defaults.

        >>> cfg = validate_config_dict({"experiment_id": "pd", "mode": "prisoners_dilemma",
        ...     "epistemic_frame": {"custom_beliefs": {"player_id": "b", "has_opponent": True}},
        ...     "mode_specific_config": {"manipulation_rate": 0.5}})
        >>> cfg.mode_settings()
        {'player_id': 'b', 'has_opponent': True, 'manipulation_rate': 0.5}
        """
        settings = dict(self.epistemic_frame.custom_beliefs)
        settings.update(self.hive_config or {})
        settings.update(self.mode_specific_config or {})
        return settings

    def collects(self, name: str) -> bool:
        """Does ``collect_metrics`` name ``name``? ``"system_metrics"`` asks for any of :data:`SYSTEM_METRICS`."""
        if name == "system_metrics":
            return any(metric in self.collect_metrics for metric in SYSTEM_METRICS)
        return name in self.collect_metrics

    def warnings(self) -> list[str]:
        """One line per name that is kept but looks unread or mistyped (see :func:`.lab_names.config_warnings`)."""
        return config_warnings(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "experiment config") -> ExperimentConfig:
        """Validate a parsed config; raises :class:`~sweeplab.errors.ConfigError` when it is invalid."""
        return validate_config_dict(data, source)

    @classmethod
    def from_json(cls, path: str | Path) -> ExperimentConfig:
        """Load a config file; raises :class:`~sweeplab.errors.ConfigError` when it is invalid."""
        return load_config(path)

    def to_dict(self) -> dict[str, Any]:
        """The config in the lab's format: every lab field, and this project's optional keys only when they
        were given or differ from their defaults.

        ``from_dict(cfg.to_dict()) == cfg`` for every config.
        """
        data = self.model_dump(mode="json")
        for key, default in (("hive_config", None), ("mode_specific_config", None), ("partner_config", None),
                             ("seed", None), ("mind", "simulated")):
            if data.get(key) == default and key not in self.model_fields_set:
                data.pop(key, None)
        return data

    def to_json(self, path: str | Path | None = None) -> str:
        """The config as JSON text (written to ``path`` when given). Loading it back gives an equal config."""
        text = json.dumps(self.to_dict(), indent=2) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def validate_config_dict(data: Any, source: str = "experiment config") -> ExperimentConfig:
    """Validate a parsed config; raise :class:`~sweeplab.errors.ConfigError` with a clear message."""
    if not isinstance(data, dict):
        raise ConfigError(f"invalid {source}: expected a JSON object at the top level, got {type(data).__name__}")
    if "experiment_type" in data and "mode" not in data:
        raise ConfigError(f"invalid {source}: it has 'experiment_type' ({data['experiment_type']!r}), so it is an "
                          "orchestration file, not one experiment: load it with "
                          "sweeplab.phenomenology.lab_format.load_experiment_file")
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source, ExperimentConfig)) from None


def load_config(path: str | Path, *, warn: bool = True) -> ExperimentConfig:
    """Read and validate the experiment file at ``path`` (one experiment; see also
    :func:`~.lab_format.load_experiment_file`). With ``warn``, each of :meth:`ExperimentConfig.warnings`
    is logged as one warning line."""
    config = validate_config_dict(read_json_file(path), f"experiment config '{path}'")
    config._source_path = str(Path(path).resolve())
    if warn:
        for line in config.warnings():
            log.warning("experiment config '%s': %s", path, line)
    return config
