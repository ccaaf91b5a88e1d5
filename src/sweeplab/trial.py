"""What a trial is, what an executor runs for it, and what comes back.

These three records are the contracts between plan, scheduler, executor and journal. All of
them are plain frozen dataclasses that pickle, so a trial can travel to a Dask worker.
"""

from __future__ import annotations

import enum
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["Trial", "TrialLaunch", "TrialResult", "TrialStatus", "FINAL_STATUSES", "RETRYABLE_STATUSES",
           "canonical_json", "utc_now", "numeric_metrics", "split_reported", "missing_expected", "NO_METRICS"]

#: the flag of a completed trial that reported nothing (no number, no other value)
NO_METRICS = "no metrics"


def canonical_json(value: Any) -> str:
    """The one JSON spelling used for hashing, storing and comparing values (sorted keys, no spaces,
    text as it is). A trial's key is a hash of it: it must never change."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def numeric_metrics(values: Mapping[Any, Any]) -> dict[str, float]:
    """The metrics a trial reports: the finite numbers of ``values``; bools become 0/1, the rest is dropped.

    >>> numeric_metrics({"loss": 0.5, "ok": True, "name": "x", "nested": {"a": 1}, "bad": float("nan")})
    {'loss': 0.5, 'ok': 1}
    """
    kept: dict[str, float] = {}
    for name, value in values.items():
        if isinstance(value, numbers.Integral):  # bool included: True -> 1
            kept[str(name)] = int(value)
        elif isinstance(value, numbers.Real) and math.isfinite(float(value)):
            kept[str(name)] = float(value)
    return kept


def _extra_value(value: Any, depth: int = 0) -> Any:
    """A reported value that is not a finite number, as the journal keeps it (JSON data)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return "nan"
        if math.isinf(number):
            return "inf" if number > 0 else "-inf"
        return number
    if depth < 50 and isinstance(value, Mapping):
        return {str(k): _extra_value(v, depth + 1) for k, v in value.items()}
    if depth < 50 and isinstance(value, (list, tuple)):
        return [_extra_value(v, depth + 1) for v in value]
    return str(value)  # what JSON cannot carry (a set, an object) is kept as its text, not dropped


def split_reported(values: Mapping[Any, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    """Split what a trial reported into its metrics (finite numbers; bools as 0/1) and the rest.

    The rest keeps every other value instead of dropping it: non-finite numbers as the strings
    ``"nan"``, ``"inf"``, ``"-inf"``, text, lists and mappings as their JSON value.

    >>> split_reported({"loss": 0.5, "ok": True, "name": "x", "bad": float("nan"), "top": [1, 2]})
    ({'loss': 0.5, 'ok': 1}, {'name': 'x', 'bad': 'nan', 'top': [1, 2]})
    """
    metrics = numeric_metrics(values)
    extra = {str(name): _extra_value(value) for name, value in values.items() if str(name) not in metrics}
    return metrics, extra


def missing_expected(expected: list[str] | tuple[str, ...], metrics: Mapping[str, Any],
                     extra: Mapping[str, Any]) -> str | None:
    """The error of a completed trial that lacks a metric the spec expects (``expect_metrics``), or None.

    >>> missing_expected(["loss"], {"acc": 0.9}, {})
    "expected metric 'loss' was not reported (it reported: acc); report it in metrics.json or as the last JSON line of stdout"
    """
    missing = [name for name in expected if name not in metrics and name not in extra]
    if not missing:
        return None
    reported = ", ".join(sorted([*metrics, *extra])) or "nothing"
    names = ", ".join(f"'{name}'" for name in missing)
    what = "metric" if len(missing) == 1 else "metrics"
    return (f"expected {what} {names} {'was' if len(missing) == 1 else 'were'} not reported (it reported: "
            f"{reported}); report it in metrics.json or as the last JSON line of stdout")


def utc_now() -> str:
    """The current time as UTC ISO 8601 with milliseconds: the time stamp of every record."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class TrialStatus(str, enum.Enum):
    """The state of a trial (or of one attempt at it)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    CANCELLED = "cancelled"
    #: left out of the plan by a resume with ``--allow-drift``: rows kept, out of views and analysis
    DROPPED = "dropped"

    def __str__(self) -> str:
        return self.value


#: statuses an attempt can end in
FINAL_STATUSES = frozenset({TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.TIMEOUT,
                            TrialStatus.CRASHED, TrialStatus.CANCELLED})
#: statuses worth another attempt (an invalid config, exit code 2, is failed but not retried)
RETRYABLE_STATUSES = frozenset({TrialStatus.FAILED, TrialStatus.TIMEOUT, TrialStatus.CRASHED})


@dataclass(frozen=True)
class Trial:
    """One point of the plan: the base config with ``params`` applied, for replicate ``repeat``.

    ``key`` is a short hash of the canonical parameters, the replicate and the base config's
    hash: the same trial has the same key in every run and on every machine.
    """

    index: int
    key: str
    experiment_id: str
    params: dict[str, Any]
    repeat: int = 0
    seed: int = 0
    label: str | None = None  # replicate label (experiment_id_suffix), if any


@dataclass(frozen=True)
class TrialLaunch:
    """Everything needed to run one attempt of a trial as a process, anywhere.

    ``argv`` is run without a shell; ``env`` is added to the worker's environment.
    ``attempt_dir`` is this attempt's own folder (stdout, stderr, metrics.json), so two
    attempts never share files. ``memory_bytes`` and ``cpu_threads`` are the trial's grant. The
    memory grant caps the address space and the resident memory, or with ``resident_only`` only the
    resident memory (for programs that map big files or reserve address space they never use).
    """

    sweep_id: str
    key: str
    experiment_id: str
    attempt: int
    argv: tuple[str, ...]
    attempt_dir: str
    cwd: str
    env: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    grace: float = 10.0
    memory_bytes: int | None = None
    cpu_threads: int = 1
    resident_only: bool = False


@dataclass(frozen=True)
class TrialResult:
    """How one attempt ended. ``metrics`` holds every finite number the trial reported, ``extra``
    every other value it reported (see :func:`split_reported`)."""

    key: str
    attempt: int
    status: TrialStatus
    metrics: dict[str, float] = field(default_factory=dict)
    start_time: str = ""
    end_time: str = ""
    duration: float = 0.0
    exit_code: int | None = None
    error: str = ""
    host: str = ""
    attempt_dir: str = ""
    pid: int | None = None
    invalid_config: bool = False  # exit code 2: retrying cannot help
    extra: dict[str, Any] = field(default_factory=dict)
