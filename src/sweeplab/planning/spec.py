"""The sweep specification: one validated model for YAML files, CLI flags and Python calls.

:func:`load_spec` reads a YAML file; :func:`spec_from_mapping` validates any mapping of the
same keys. Nothing here writes to disk. Resolving the spec against its base config (paths,
types, runner) happens in :mod:`sweeplab.planning.resolve`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import SpecError, did_you_mean
from .yaml_types import load_yaml

__all__ = ["SweepSpec", "Limits", "load_spec", "spec_from_mapping", "check_sweep_id", "REPLICATE_KEY"]

#: the original format's replication key: a label list under ``sweep``, not a config path
REPLICATE_KEY = "experiment_id_suffix"
_SWEEP_ID = re.compile(r"[A-Za-z0-9_.-]+")
_SCHEDULER = re.compile(r"(?:(?:tcp|tls|ws|wss|ucx)://)?[A-Za-z0-9_.\[\]:-]+:\d+")


class Limits(BaseModel):
    """Resource limits for generic runners, whose configs do not declare any."""

    model_config = ConfigDict(extra="forbid")
    memory_gb: float | None = Field(default=None, gt=0)
    cpu_threads: int | None = Field(default=None, ge=1)
    #: hold trials to their RAM by resident memory only, without capping their address space
    #: (GPU frameworks and programs that map large files reserve far more than they touch)
    resident_only: bool = False


class SweepSpec(BaseModel):
    """Every key a sweep YAML may hold. See ``sweeps/README.md`` for the user guide."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sweep_id: str | None = None
    base_config: str
    description: str = ""
    sweep: dict[str, Any] = Field(default_factory=dict)
    zip: list[Any] = Field(default_factory=list)
    repeats: int = Field(default=1, ge=1)
    seed: int = 0
    runner: str | None = None
    command: list[str] | str | None = None
    function: str | None = None
    parallel: int | Literal["auto"] = 1
    jetson_optimized: bool = False
    timeout: float | None = Field(default=None, gt=0)
    grace_period: float = Field(default=10.0, ge=0)
    db_path: str = "logs/experiments.db"
    output_dir: str = "logs/sweeps"
    resume: bool = False
    max_retries: int = Field(default=2, ge=0)
    tags: list[str] = Field(default_factory=list)
    limits: Limits | None = None
    dask_scheduler: str | None = None  # run the trials on this Dask cluster instead of here

    @field_validator("dask_scheduler")
    @classmethod
    def _check_scheduler(cls, value: str | None) -> str | None:
        if value is None or value == "local":
            return None
        if not _SCHEDULER.fullmatch(value):
            raise ValueError("expected the Dask scheduler's address, such as tcp://host:8786")
        return value

    @field_validator("sweep_id")
    @classmethod
    def _check_id(cls, value: str | None) -> str | None:
        if value is not None:
            check_sweep_id(value)
        return value

    @field_validator("parallel", mode="before")
    @classmethod
    def _check_parallel(cls, value: Any) -> Any:
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise ValueError("expected a positive integer or 'auto'")

    @field_validator("repeats", "seed", "max_retries", "timeout", "grace_period", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # pydantic's lax mode reads true as 1: 'repeats: true' must be an error, not one replicate
        if isinstance(value, bool):
            raise ValueError("expected a number, not true/false")
        return value


def check_sweep_id(value: str) -> str:
    """Reject sweep ids that are not safe folder names."""
    if not isinstance(value, str) or not value or not _SWEEP_ID.fullmatch(value) or value in (".", "..") or ".." in value:
        raise SpecError(
            f"sweep_id {value!r} is not valid: use only letters, digits, '-', '_' and '.', "
            "with no path separators and no '..'"
        )
    return value


_FIELDS = tuple(SweepSpec.model_fields)
# what a key expects, where pydantic's own words would name its types rather than the user's options
_EXPECTED = {
    "parallel": "expected a positive integer or 'auto'",
    "command": "expected the command as a list of strings (YAML) or one string (split like a shell would)",
    "timeout": "expected a positive number of seconds, or null for no limit",
    "sweep_id": "use only letters, digits, '-', '_' and '.'",
    "dask_scheduler": "expected the Dask scheduler's address, such as tcp://host:8786 (or 'local' to run here)",
}


def _unknown_key_message(key: str, where: str, choices: tuple[str, ...]) -> str:
    suggestion = did_you_mean(key, choices, cutoff=0.5)
    return f"unknown key '{key}' in {where}{suggestion} Valid keys: {', '.join(choices)}"


def _explain(error: ValidationError, where: str) -> str:
    first = error.errors()[0]
    parts = [str(p) for p in first["loc"]]
    # a union's branch name ('int', 'list[str]') is pydantic's, not the user's key
    if parts and parts[0] in _FIELDS and parts[0] not in ("limits", "sweep", "zip", "tags"):
        parts = parts[:1]
    loc = ".".join(parts)
    value = first.get("input")
    if first["type"] == "missing":
        return f"{where}: the required key '{loc}' is missing"
    if first["type"] == "extra_forbidden":
        choices = tuple(Limits.model_fields) if loc.startswith("limits.") else _FIELDS
        return _unknown_key_message(loc.split(".")[-1], f"{where}{' (' + loc + ')' if '.' in loc else ''}", choices)
    message = _EXPECTED.get(loc) or first["msg"].removeprefix("Value error, ")
    return f"{where}: key '{loc}' has the value {value!r}, which is not valid: {message}"


def spec_from_mapping(data: Any, where: str = "the sweep spec") -> SweepSpec:
    """Validate a mapping of sweep keys into a :class:`SweepSpec` (errors name ``where``)."""
    if not isinstance(data, dict):
        raise SpecError(f"{where} must be a mapping of keys (sweep_id, base_config, sweep, ...), got {type(data).__name__}")
    for key in data:
        if key not in _FIELDS:
            raise SpecError(_unknown_key_message(str(key), where, _FIELDS))
    if "sweep" in data and not isinstance(data["sweep"], dict):
        raise SpecError(f"{where}: 'sweep' must map dot paths to lists of values, got {data['sweep']!r}")
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_explain(exc, where)) from None


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep YAML file (safe loading, YAML 1.2 scalars: ``1e-3`` is a number)."""
    file = Path(path)
    if not file.is_file():
        raise SpecError(f"sweep config file '{file}' does not exist: give the path of a YAML sweep file")
    try:
        data = load_yaml(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"sweep config file '{file}' is not valid YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"sweep config file '{file}' cannot be read: {exc}") from None
    if data is None:
        raise SpecError(f"sweep config file '{file}' is empty: it needs at least 'base_config' and 'sweep'")
    return spec_from_mapping(data, where=f"'{file}'")
