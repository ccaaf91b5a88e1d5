"""The Season 3 lab's files beyond one experiment: the orchestration file, loading any file, and warnings.

:func:`load_experiment_file` reads any of the lab's experiment files and returns

* an :class:`~.schema.ExperimentConfig` for an experiment file (one with a ``mode``), or
* a :class:`PanopticonOrchestration` for the panopticon orchestration file
  (``experiment_type: panopticon_full``): its ``subject`` and ``observer`` are ExperimentConfigs
  built from ``subject_config`` and ``observer_config`` (each with its ``mode_specific_config``),
  ``coordinator_config`` holds the coordinator's settings, and the file's prose keys
  (``comparison_experiments``, ``analysis_framework``, ``jetson_orin_deployment``,
  ``expected_outcomes``, ``ethical_notes``) are kept as given. It runs as one trial, and serves
  as a sweep's base config, whose dot paths then start with ``subject_config.``,
  ``observer_config.`` or ``coordinator_config.``.

:func:`experiment_from_dict` does the same for a parsed dict. The lab's format leaves some
names free (intervention parameters, custom beliefs, mode settings): they are
kept and passed on, and :func:`~.lab_names.config_warnings` gives one line for each that is not
read or looks mistyped, with the likely intended name; the loaders log each as a warning.

>>> orchestration = experiment_from_dict({
...     "experiment_type": "panopticon_full", "experiment_id": "pan",
...     "coordinator_config": {"max_cycles": 4},
...     "subject_config": {"experiment_id": "pan_subject", "name": "s", "mode": "panopticon_subject"},
...     "observer_config": {"experiment_id": "pan_observer", "name": "o", "mode": "panopticon_observer",
...                         "mode_specific_config": {"hint_frequency": 2}}})
>>> orchestration.subject.mode, orchestration.observer.mode_settings(), orchestration.coordinator_config["max_cycles"]
('panopticon_subject', {'hint_frequency': 2}, 4)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ..errors import ConfigError, closest_match
from .lab_names import MODE_SETTING_KEYS, config_warnings
from .schema import ExperimentConfig, validate_config_dict
from .validation_messages import format_validation_error, read_json_file

__all__ = ["PanopticonOrchestration", "CoordinatorConfig", "MODE_SETTING_KEYS", "ORCHESTRATION_TYPES",
           "PROSE_KEYS", "load_experiment_file", "experiment_from_dict", "is_orchestration_dict",
           "config_warnings", "LabConfig"]

log = logging.getLogger(__name__)

#: the ``experiment_type`` values of orchestration files
ORCHESTRATION_TYPES: tuple[str, ...] = ("panopticon_full",)
#: the orchestration file's keys that only document the experiment (kept, never read)
PROSE_KEYS: tuple[str, ...] = ("comparison_experiments", "analysis_framework", "jetson_orin_deployment",
                               "expected_outcomes", "ethical_notes")


class CoordinatorConfig(BaseModel):
    """The panopticon coordinator's settings (the lab's defaults). Reads like a mapping too
    (``coordinator_config["max_cycles"]``, ``.get``, ``dict(...)``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    experiment_id: str | None = None
    hint_frequency: int = Field(3, ge=1)
    subject_id: str | None = None
    observer_id: str | None = None
    synchronize_cycles: bool = True
    max_cycles: int | None = Field(None, ge=0)
    enable_real_time_logging: bool = True
    observation_log_path: str | None = None
    timeline_log_path: str | None = None

    def keys(self) -> list[str]:
        """The setting names."""
        return list(type(self).model_fields)

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """The setting ``key``, or ``default`` when it is not a setting or is null."""
        value = getattr(self, key, None) if key in type(self).model_fields else None
        return default if value is None else value


class PanopticonOrchestration(BaseModel):
    """The panopticon orchestration file: a subject, its observer and their coordinator, run as one trial.

    ``subject`` and ``observer`` are the two :class:`~.schema.ExperimentConfig`s (a top-level
    ``seed`` or ``mind`` reaches each of them unless it sets its own); the prose keys are kept.
    It has no ``mode``: that is how the experiment tells it from a single experiment.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    experiment_type: Literal["panopticon_full"]
    experiment_id: str = Field(min_length=1)
    name: str = ""
    description: str = ""
    research_question: str = ""
    coordinator_config: CoordinatorConfig = Field(default_factory=CoordinatorConfig)
    subject_config: ExperimentConfig
    observer_config: ExperimentConfig
    comparison_experiments: Any = None
    analysis_framework: Any = None
    jetson_orin_deployment: Any = None
    expected_outcomes: Any = None
    ethical_notes: Any = None
    tags: list[str] = Field(default_factory=list)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    mind: str | dict[str, Any] | None = None

    _subject: ExperimentConfig = PrivateAttr()
    _observer: ExperimentConfig = PrivateAttr()
    _source_path: str | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _the_two_minds(self) -> PanopticonOrchestration:
        for field, mode in (("subject_config", "panopticon_subject"), ("observer_config", "panopticon_observer")):
            given = getattr(self, field).mode
            if given != mode:
                raise ValueError(f"{field}.mode is {given!r}: the panopticon orchestration file needs {mode!r} there")
        self._subject = self._member(self.subject_config)
        self._observer = self._member(self.observer_config)
        return self

    def _member(self, config: ExperimentConfig) -> ExperimentConfig:
        update: dict[str, Any] = {}
        if self.seed is not None and config.seed is None:
            update["seed"] = self.seed
        if self.mind is not None and "mind" not in config.model_fields_set:
            update["mind"] = self.mind
        return validate_config_dict({**config.model_dump(mode="json"), **update}) if update else config

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PanopticonOrchestration):
            return NotImplemented
        return self.__dict__ == other.__dict__

    @property
    def subject(self) -> ExperimentConfig:
        """The watched mind's config (from ``subject_config``)."""
        return self._subject

    @property
    def observer(self) -> ExperimentConfig:
        """The watcher's config (from ``observer_config``)."""
        return self._observer

    @property
    def source_path(self) -> str | None:
        """The file the orchestration was read from (None when built from a dict)."""
        return self._source_path

    def effective_seed(self) -> int:
        """The trial's seed: the subject's (see :meth:`~.schema.ExperimentConfig.effective_seed`)."""
        return self.subject.effective_seed()

    def warnings(self) -> list[str]:
        """The subject's and the observer's warnings, under their keys."""
        return [f"{field}.{line}" for field, config in (("subject_config", self.subject),
                                                         ("observer_config", self.observer))
                for line in config.warnings()]

    def to_dict(self) -> dict[str, Any]:
        """The orchestration file's content (unset optional keys left out)."""
        data = self.model_dump(mode="json", exclude={"subject_config", "observer_config"})
        for key in (*PROSE_KEYS, "seed", "mind"):
            if data[key] is None:
                del data[key]
        data["subject_config"] = self.subject_config.to_dict()
        data["observer_config"] = self.observer_config.to_dict()
        return data


#: what :func:`load_experiment_file` returns
LabConfig = ExperimentConfig | PanopticonOrchestration


def is_orchestration_dict(data: Any) -> bool:
    """True for a parsed orchestration file (an ``experiment_type`` and no ``mode``)."""
    return isinstance(data, dict) and "experiment_type" in data and "mode" not in data


def experiment_from_dict(data: Any, source: str = "experiment config") -> LabConfig:
    """Validate a parsed experiment file: an ExperimentConfig, or a PanopticonOrchestration.

    Raises :class:`~sweeplab.errors.ConfigError` naming each bad key, its value and what is expected.
    """
    if not is_orchestration_dict(data):
        return validate_config_dict(data, source)
    kind = data["experiment_type"]
    if kind not in ORCHESTRATION_TYPES:
        match = closest_match(str(kind), ORCHESTRATION_TYPES)
        hint = f"; did you mean '{match}'?" if match else ""
        raise ConfigError(f"invalid {source}:\n  - field 'experiment_type' = {kind!r} is invalid: expected one of "
                          f"{', '.join(ORCHESTRATION_TYPES)} (or give a 'mode' for one experiment){hint}")
    try:
        return PanopticonOrchestration.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source, PanopticonOrchestration)) from None


def load_experiment_file(path: str | Path, *, warn: bool = True) -> LabConfig:
    """Read any of the lab's experiment files (see the module docstring); with ``warn``, log each of its
    :func:`config_warnings` as one warning line."""
    source = f"experiment config '{path}'"
    config = experiment_from_dict(read_json_file(path), source)
    resolved = str(Path(path).resolve())
    config._source_path = resolved
    if isinstance(config, PanopticonOrchestration):
        config.subject._source_path = config.observer._source_path = resolved
    if warn:
        for line in config.warnings():
            log.warning("%s: %s", source, line)
    return config
