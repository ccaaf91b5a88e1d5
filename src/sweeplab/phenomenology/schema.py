"""The experiment config: :class:`ExperimentConfig` and its parts (pydantic v2).

Experiment files of the original project load unchanged. Two fields are new: ``seed``
(``None`` = derived from ``experiment_id``, so an unseeded run is still reproducible) and
``mind`` (the backend producing the mind's words, default ``simulated``). Unknown fields and
bad values are errors; :func:`load_config` and :func:`validate_config_dict` turn them into
one :class:`~sweeplab.errors.ConfigError` whose lines name the field, the value and what
was expected.

>>> cfg = validate_config_dict({"experiment_id": "e1", "mode": "isolated"})
>>> cfg.resource_constraints.ram_limit_gb
4.0
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import ConfigError, did_you_mean
from .intervention_params import resolve_parameters, resolve_trigger_params
from .minds import available_minds, load_mind
from .prompts import BUILTIN_BELIEFS

__all__ = ["Mode", "InterventionType", "Trigger", "ResourceConstraints", "EpistemicFrame", "Intervention",
           "SelfReportSchedule", "ExperimentConfig", "MODES", "load_config", "validate_config_dict",
           "format_validation_error"]

Mode = Literal["isolated", "amnesiac_loop", "unstable_memory", "panopticon_subject"]
InterventionType = Literal["memory_corruption", "memory_erasure", "false_injection", "prompt_injection",
                           "resource_change", "network_disruption", "sensory_hallucination"]
Trigger = Literal["on_cycle", "on_crash", "on_resurrection", "every_n_cycles", "random"]
MODES: tuple[str, ...] = ("isolated", "amnesiac_loop", "unstable_memory", "panopticon_subject")


class _Strict(BaseModel):
    """Shared settings: unknown keys are errors, no silent type coercion, assignment re-validated."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)


class ResourceConstraints(_Strict):
    """The jar's size: RAM limit, context window, reply length, threads and GPU layers."""

    ram_limit_gb: float = Field(4.0, gt=0, le=1024)
    context_window: int = Field(4096, ge=64, le=1_000_000)
    max_tokens_per_response: int = Field(256, ge=1, le=100_000)
    cpu_threads: int | None = Field(None, ge=1, le=1024)
    gpu_layers: int = Field(0, ge=-1, le=10_000)  # -1: all layers


class EpistemicFrame(_Strict):
    """What is true of the mind's world, and what it is told (see :mod:`.prompts`)."""

    can_die: bool = True
    remembers_deaths: bool = True
    being_watched: bool = False
    knows_being_watched: bool = False
    has_agency: bool = False
    other_minds_exist: bool = False
    is_in_simulation: bool = False
    custom_beliefs: dict[str, bool] = Field(default_factory=dict)

    @field_validator("custom_beliefs")
    @classmethod
    def _belief_names(cls, value: dict[str, bool]) -> dict[str, bool]:
        for name in value:
            if not name.strip():
                raise ValueError("custom belief names must be non-empty strings")
        return value


class Intervention(_Strict):
    """Something done to the mind, when its trigger fires. See :mod:`.intervention_params`."""

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
        """``parameters`` with defaults filled in."""
        return resolve_parameters(self.intervention_type, self.parameters)

    def resolved_trigger_params(self) -> dict[str, Any]:
        """``trigger_params`` with defaults filled in."""
        return resolve_trigger_params(self.trigger, self.trigger_params)


class SelfReportSchedule(_Strict):
    """When the mind is questioned."""

    on_cycles: list[int] = Field(default_factory=list)
    every_n_cycles: int | None = Field(None, ge=1)
    on_startup: bool = True
    before_crash: bool = False
    after_resurrection: bool = False

    @field_validator("on_cycles")
    @classmethod
    def _positive_cycles(cls, value: list[int]) -> list[int]:
        bad = [c for c in value if c < 1]
        if bad:
            raise ValueError(f"cycle numbers start at 1, got {bad}")
        return value


class ExperimentConfig(_Strict):
    """One "mind in a jar" experiment, in the original project's JSON format."""

    experiment_id: str = Field(min_length=1)
    name: str = ""
    mode: Mode
    description: str = ""
    model_path: str = "models/llama-3.2-1b-instruct-q4_k_m.gguf"
    resource_constraints: ResourceConstraints = Field(default_factory=ResourceConstraints)
    max_cycles: int | None = Field(None, ge=1)
    max_duration_seconds: float | None = Field(None, gt=0)
    epistemic_frame: EpistemicFrame = Field(default_factory=EpistemicFrame)
    initial_prompt_override: str | None = None
    interventions: list[Intervention] = Field(default_factory=list)
    self_report_schedule: SelfReportSchedule = Field(default_factory=SelfReportSchedule)
    custom_questions: list[str] = Field(default_factory=list)
    track_beliefs: list[str] = Field(default_factory=list)
    collect_metrics: bool = True
    tags: list[str] = Field(default_factory=list)
    research_question: str = ""
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    mind: str = "simulated"

    @field_validator("mind")
    @classmethod
    def _known_mind(cls, value: str) -> str:
        minds = available_minds()
        if value not in minds:
            suggestion = did_you_mean(value, minds)
            raise ValueError(f"unknown mind {value!r}: available minds are {', '.join(minds)}{suggestion}")
        return value

    @field_validator("custom_questions")
    @classmethod
    def _questions_not_blank(cls, value: list[str]) -> list[str]:
        if any(not q.strip() for q in value):
            raise ValueError("custom questions must be non-empty strings")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> ExperimentConfig:
        known = set(BUILTIN_BELIEFS) | set(self.epistemic_frame.custom_beliefs)
        for name in self.track_beliefs:
            if name not in known:
                suggestion = did_you_mean(name, sorted(known))
                raise ValueError(
                    f"track_beliefs contains {name!r}, which is neither a built-in belief "
                    f"({', '.join(BUILTIN_BELIEFS)}) nor a key of epistemic_frame.custom_beliefs{suggestion}")
        load_mind(self.mind).check_model(self.model_path)  # e.g. a language model needs its file
        ids = [i.intervention_id for i in self.interventions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"interventions reuse intervention_id {duplicates}: each id must be unique")
        return self

    def effective_seed(self) -> int:
        """The seed the run uses: ``seed``, or a stable hash of ``experiment_id`` when unset."""
        if self.seed is not None:
            return self.seed
        return zlib.crc32(self.experiment_id.encode("utf-8"))

    @classmethod
    def from_json(cls, path: str | Path) -> ExperimentConfig:
        """Load a config file; raises :class:`~sweeplab.errors.ConfigError` when it is invalid."""
        return load_config(path)

    def to_json(self, path: str | Path | None = None) -> str:
        """The config as JSON text (written to ``path`` when given). Loading it back gives an equal config."""
        text = json.dumps(self.model_dump(mode="json"), indent=2) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


# --- error messages -----------------------------------------------------------------------

_SECTIONS: dict[str, type[BaseModel]] = {
    "resource_constraints": ResourceConstraints,
    "epistemic_frame": EpistemicFrame,
    "self_report_schedule": SelfReportSchedule,
    "interventions": Intervention,
}


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The field names valid in the mapping at ``loc`` (empty when unknown)."""
    if not loc:
        return list(ExperimentConfig.model_fields)
    model = _SECTIONS.get(str(loc[0]))
    return list(model.model_fields) if model is not None else []


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def format_validation_error(exc: ValidationError, source: str = "experiment config") -> str:
    """One readable line per problem: field path, the bad value, and what is expected."""
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = _dotted(loc) or "(top level)"
        kind = error["type"]
        given = error.get("input")
        if kind == "extra_forbidden":
            valid = _fields_at(loc[:-1] if not (len(loc) >= 2 and isinstance(loc[1], int)) else loc[:1])
            suggestion = did_you_mean(str(loc[-1]), valid)
            lines.append(f"unknown field '{path}': expected one of {', '.join(valid)}{suggestion}")
        elif kind == "missing":
            lines.append(f"field '{path}' is missing: it is required")
        elif kind == "value_error":
            message = str(error["msg"]).removeprefix("Value error, ")
            if message.startswith(("parameters.", "trigger_params.")):
                lines.append(f"{path}.{message}" if path != "(top level)" else message)
            else:
                lines.append(f"field '{path}': {message}" if loc else message)
        else:
            message = str(error["msg"]).replace("Input should be", "expected")
            lines.append(f"field '{path}' = {given!r} is invalid: {message}")
    body = "\n".join(f"  - {line}" for line in lines)
    return f"invalid {source}:\n{body}"


def validate_config_dict(data: Any, source: str = "experiment config") -> ExperimentConfig:
    """Validate a parsed config; raise :class:`~sweeplab.errors.ConfigError` with a clear message."""
    if not isinstance(data, dict):
        raise ConfigError(f"invalid {source}: expected a JSON object at the top level, got {type(data).__name__}")
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate the experiment file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read experiment config '{path}': {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"experiment config '{path}' is not valid JSON: {exc.msg} at line {exc.lineno}, "
                          f"column {exc.colno}") from None
    return validate_config_dict(data, f"experiment config '{path}'")
