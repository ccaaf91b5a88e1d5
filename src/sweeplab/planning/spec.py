"""The sweep specification: one validated model for YAML files, CLI flags and Python calls.

:func:`load_spec` reads a YAML file; :func:`spec_from_mapping` validates any mapping of the
same keys. Nothing here writes to disk. Resolving the spec against its base config (paths,
types, runner) happens in :mod:`sweeplab.planning.resolve`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import SpecError, did_you_mean
from .json_data import JsonProblem, json_problem, short_repr
from .strategy import check_strategy
from .values import check_values
from .yaml_types import load_yaml

__all__ = ["SweepSpec", "Limits", "Objective", "RefineOptions", "STRATEGIES", "ISOLATIONS", "load_spec", "spec_from_mapping", "check_sweep_id", "REPLICATE_KEY",
           "MAX_SWEEP_ID_LENGTH", "MAX_REPEATS", "MIN_MEMORY_GB", "MAX_MEMORY_GB"]

#: the original format's replication key: a label list under ``sweep``, not a config path
REPLICATE_KEY = "experiment_id_suffix"
_SWEEP_ID = re.compile(r"[A-Za-z0-9_.-]+")
_SCHEDULER = re.compile(r"(?:(?:tcp|tls|ws|wss|ucx)://)?[A-Za-z0-9_.\[\]:-]+:\d+")
#: a sweep id names a folder and prefixes every experiment id: longer ones break file-name limits
MAX_SWEEP_ID_LENGTH = 200
#: replicates per grid point (each one is a label, a seed and a trial of every grid point)
MAX_REPEATS = 100_000
#: RAM limits of a trial, in GB: below the minimum no process can start (a limit of 1e-300 GB would
#: round to zero bytes, which means no limit at all); above the maximum, no machine has it
MIN_MEMORY_GB = 0.01
MAX_MEMORY_GB = 1_000_000.0
#: a file name (one path component) and a whole path, in bytes, as Linux and macOS allow them
_NAME_MAX = 255
_PATH_MAX = 4000


class Limits(BaseModel):
    """Resource limits for generic runners, whose configs do not declare any."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    memory_gb: float | None = Field(default=None, ge=MIN_MEMORY_GB, le=MAX_MEMORY_GB)
    cpu_threads: int | None = Field(default=None, ge=1)
    #: hold trials to their RAM by resident memory only, without capping their address space
    #: (GPU frameworks and programs that map large files reserve far more than they touch)
    resident_only: bool = False


#: how a sweep chooses its trials: the full grid, sampled designs, Optuna's search, threshold refinement
STRATEGIES = ("grid", "random", "lhs", "sobol", "bayesian", "refine")
#: how the python runner isolates a trial: a warm worker process that runs many trials, or a fresh process
ISOLATIONS = ("worker", "process")


class Objective(BaseModel):
    """The metric a sweep optimises: used by the report, the best configuration, status and searches."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    metric: str = Field(min_length=1)
    direction: Literal["maximize", "minimize"]


class RefineOptions(BaseModel):
    """How ``strategy: refine`` narrows a threshold: the metric that changes, and the width to reach."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    #: the metric whose change locates the threshold (default: the objective's metric)
    metric: str | None = Field(default=None, min_length=1)
    #: stop when the interval holding the change is at most this wide (in the parameter's units)
    resolution: float = Field(gt=0)
    #: new levels placed evenly inside the interval each round
    levels_per_round: int = Field(default=3, ge=1, le=50)


class SweepSpec(BaseModel):
    """Every key a sweep YAML may hold. See ``sweeps/README.md`` for the user guide."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    sweep_id: str | None = None
    base_config: str
    description: str = ""
    sweep: dict[str, Any] = Field(default_factory=dict)
    zip: list[Any] = Field(default_factory=list)
    repeats: int = Field(default=1, ge=1, le=MAX_REPEATS)
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
    #: the metric to optimise; a list only for multi-objective searches (the first is the report's)
    objective: Objective | list[Objective] | None = None
    strategy: Literal["grid", "random", "lhs", "sobol", "bayesian", "refine"] = "grid"
    #: trials of a sampled or searched design (random, lhs, sobol, bayesian); the budget of refine
    n_trials: int | None = Field(default=None, ge=1, le=10_000_000)
    #: bayesian: the Optuna sampler by name (tpe, gp, cmaes, random, qmc, nsgaii, nsgaiii)
    sampler: str | None = None
    #: refine: its metric, resolution and levels per round
    refine: RefineOptions | None = None
    #: metrics every trial must report: a trial without one of them fails instead of completing
    expect_metrics: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    #: stop admitting trials when the first N attempts all failed with the same error (0: never stop)
    max_failures: int = Field(default=5, ge=0)
    #: python runner: 'worker' (warm processes that run many trials) or 'process' (one per trial)
    isolation: Literal["worker", "process"] | None = None

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """The objective(s) as a tuple, empty when the spec names none."""
        if self.objective is None:
            return ()
        return tuple(self.objective) if isinstance(self.objective, list) else (self.objective,)

    @field_validator("dask_scheduler")
    @classmethod
    def _check_scheduler(cls, value: str | None) -> str | None:
        if value is None or value == "local":
            return None
        if not _SCHEDULER.fullmatch(value):
            raise ValueError("expected the Dask scheduler's address, such as tcp://host:8786")
        return value

    @field_validator("base_config", "db_path", "output_dir")
    @classmethod
    def _check_path(cls, value: str) -> str:
        problem = path_problem(value)
        if problem:
            raise ValueError(problem)
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

    @field_validator("repeats", "seed", "max_retries", "timeout", "grace_period", "n_trials", "max_failures",
                     mode="before")
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
            f"sweep_id {short_repr(value)} is not valid: use only letters, digits, '-', '_' and '.', "
            "with no path separators and no '..'"
        )
    if len(value) > MAX_SWEEP_ID_LENGTH:
        raise SpecError(f"sweep_id {short_repr(value)} is {len(value)} characters long: at most "
                        f"{MAX_SWEEP_ID_LENGTH} are allowed (it names a folder and begins every experiment id); "
                        "choose a shorter id")
    return value


def path_problem(value: str) -> str | None:
    """Why ``value`` cannot be a file or folder path on this system, or None."""
    if "\0" in value:
        return "a path cannot hold a NUL character (\\0)"
    try:
        encoded = os.fsencode(value)
    except UnicodeEncodeError:
        return "the path is not valid Unicode text"
    longest = max(encoded.split(b"/"), key=len)
    if len(longest) > _NAME_MAX:
        return (f"a file or folder name in the path is {len(longest)} bytes long; file systems allow at most "
                f"{_NAME_MAX}: shorten it")
    if len(os.fsencode(os.path.abspath(value))) > _PATH_MAX:
        return f"the path is longer than {_PATH_MAX} bytes (from the root), which is more than file systems allow"
    return None


_FIELDS = tuple(SweepSpec.model_fields)
# what a key expects, where pydantic's own words would name its types rather than the user's options
_EXPECTED = {
    "parallel": "expected a positive integer or 'auto'",
    "command": "expected the command as a list of strings (YAML) or one string (split like a shell would)",
    "timeout": "expected a positive number of seconds, or null for no limit",
    "sweep_id": "use only letters, digits, '-', '_' and '.'",
    "grace_period": "expected a finite number of seconds, 0 or more",
    "repeats": f"expected a whole number of replicates from 1 to {MAX_REPEATS}",
    "limits.memory_gb": (f"expected the RAM of one trial in GB, from {MIN_MEMORY_GB} (about 10 MB: smaller limits "
                         f"are none a process can start under) to {MAX_MEMORY_GB:.0f}; leave it out for no limit"),
    "dask_scheduler": "expected the Dask scheduler's address, such as tcp://host:8786 (or 'local' to run here)",
    "objective": "expected {metric: NAME, direction: maximize|minimize} (or a list of them for a multi-objective search)",
    "strategy": f"expected one of {', '.join(STRATEGIES)}",
    "n_trials": "expected a whole number of trials, 1 or more",
    "expect_metrics": "expected a list of metric names (none of them empty)",
    "max_failures": "expected a whole number, 0 or more (0: never stop for repeated failures)",
    "isolation": f"expected one of {', '.join(ISOLATIONS)}",
    "sampler": "expected the name of an Optuna sampler: tpe, gp, cmaes, random, qmc, nsgaii or nsgaiii",
    "refine": "expected {resolution: WIDTH, metric: NAME, levels_per_round: N}",
    "refine.resolution": "expected the width to reach, a positive number in the parameter's units",
    "refine.levels_per_round": "expected a whole number of new levels per round, from 1 to 50",
}


def _unknown_key_message(key: str, where: str, choices: tuple[str, ...]) -> str:
    suggestion = did_you_mean(key, choices, cutoff=0.5)
    return f"unknown key '{key}' in {where}{suggestion} Valid keys: {', '.join(choices)}"


def _explain(error: ValidationError, where: str) -> str:
    first = error.errors()[0]
    parts = [str(p) for p in first["loc"]]
    if first["type"] in ("extra_forbidden", "missing") and parts[:1] == ["objective"] and len(parts) > 1:
        parts = ["objective", parts[-1]]  # drop the union branch pydantic names ('Objective', 'list[...]')
    # a union's branch name ('int', 'list[str]') is pydantic's, not the user's key
    if (parts and parts[0] in _FIELDS and parts[0] not in ("limits", "sweep", "zip", "tags", "expect_metrics", "refine")
            and first["type"] not in ("extra_forbidden", "missing")):
        parts = parts[:1]
    loc = ".".join(parts)
    value = first.get("input")
    if first["type"] == "missing":
        return f"{where}: the required key '{loc}' is missing"
    if first["type"] == "extra_forbidden":
        choices = (tuple(Limits.model_fields) if loc.startswith("limits.") else
                   tuple(Objective.model_fields) if loc.startswith("objective.") else
                   tuple(RefineOptions.model_fields) if loc.startswith("refine.") else _FIELDS)
        return _unknown_key_message(loc.split(".")[-1], f"{where}{' (' + loc + ')' if '.' in loc else ''}", choices)
    message = (_EXPECTED.get(loc) or (_EXPECTED.get(parts[0]) if parts[0] in ("expect_metrics", "tags") else None)
               or first["msg"].removeprefix("Value error, "))
    return f"{where}: key '{loc}' has the value {short_repr(value)}, which is not valid: {message}"


def spec_from_mapping(data: Any, where: str = "the sweep spec") -> SweepSpec:
    """Validate a mapping of sweep keys into a :class:`SweepSpec` (errors name ``where``)."""
    if not isinstance(data, dict):
        raise SpecError(f"{where} must be a mapping of keys (sweep_id, base_config, sweep, ...), got {type(data).__name__}")
    for key in data:
        if key not in _FIELDS:
            raise SpecError(_unknown_key_message(str(key), where, _FIELDS))
    if "sweep" in data and not isinstance(data["sweep"], dict):
        raise SpecError(f"{where}: 'sweep' must map dot paths to lists of values, got {short_repr(data['sweep'])}")
    _check_swept_values(data, where)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_explain(exc, where)) from None
    _check_other_values(data, where)
    check_strategy(spec, where)
    return spec


def _check_swept_values(data: dict[str, Any], where: str) -> None:
    """The values under 'sweep' and in zip mappings become trial parameters: bounded JSON data only."""
    for path, raw in data.get("sweep", {}).items():
        if not isinstance(path, str):
            read_as = {bool: "true/false", int: "an integer", float: "a number", type(None): "null"}.get(
                type(path), f"a {type(path).__name__}")
            raise SpecError(f"{where}: the parameter {short_repr(path)} under 'sweep' was read as {read_as}, not "
                            f"as a dot path: write it as text (in YAML, quote it: '{path}')")
        found = json_problem(path)
        if found is not None:
            raise SpecError(f"{where}: the parameter {short_repr(path)} under 'sweep' {found.problem}")
        check_values(path, raw)
    groups = data.get("zip")
    for group in groups if isinstance(groups, list) else []:
        if isinstance(group, dict):
            for path, raw in group.items():
                check_values(str(path), raw)


def _check_other_values(data: dict[str, Any], where: str) -> None:
    """Every other key: integers of 64 bits, valid Unicode, bounded depth, and no NUL in text (these
    values become paths, commands, and columns of the journal)."""
    for key, value in data.items():
        if key == "sweep":  # checked above; a zip group of names is checked here
            continue
        found = json_problem(value)
        texts = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] \
            if isinstance(value, list) else []
        if found is None and any("\0" in text for text in texts):
            found = JsonProblem("", "holds a NUL character (\\0), which paths, commands and the journal's text "
                                "cannot hold", value)
        if found is not None:
            location, problem, part = found
            inner = location if location.startswith("[") else f".{location}" if location else ""
            raise SpecError(f"{where}: key '{key}{inner}' has the value {short_repr(part)}, which is not valid: "
                            f"it {problem}")


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
