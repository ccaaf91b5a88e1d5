"""Entry point of a python-runner trial process (private; see :mod:`sweeplab.runners.python`).

It lives outside ``sweeplab.runners`` so that a trial imports nothing but this module and the
error tree: every millisecond here is paid once per trial.

``python -m sweeplab.runners._trial_call MODULE:FUNCTION CONFIG TRIAL_DIR SEED EXPERIMENT_ID [ATTEMPT]``

Exit codes: 0 done (metrics in ``TRIAL_DIR/metrics.json``); 1 the function raised; 2 the
config is invalid (:class:`~sweeplab.errors.ConfigError`) or the function cannot be imported.
Imports only the standard library and sweeplab's light modules, so a trial starts fast.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..trial import numeric_metrics


class CallContext:
    """What a trial function learns about its attempt besides the config."""

    __slots__ = ("seed", "trial_dir", "experiment_id", "attempt")

    def __init__(self, seed: int, trial_dir: Path, experiment_id: str, attempt: int) -> None:
        self.seed = seed
        self.trial_dir = trial_dir
        self.experiment_id = experiment_id
        self.attempt = attempt

    def __repr__(self) -> str:
        return (f"CallContext(seed={self.seed!r}, trial_dir={self.trial_dir!r}, "
                f"experiment_id={self.experiment_id!r}, attempt={self.attempt!r})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CallContext) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__)

USAGE = "usage: python -m sweeplab.runners._trial_call MODULE:FUNCTION CONFIG TRIAL_DIR SEED EXPERIMENT_ID [ATTEMPT]"


class _Unusable(Exception):
    """The trial cannot run at all (bad arguments, missing function, unreadable config): exit 2."""


def _load_function(spec: str) -> Callable[..., Any]:
    module_name, _, attribute = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise _Unusable(f"cannot import module {module_name!r} for function {spec!r} "
                        f"(working folder {os.getcwd()}): {exc}") from exc
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise _Unusable(f"module {module_name!r} has no attribute {attribute!r} "
                            f"(function {spec!r})") from None
    if not callable(target):
        raise _Unusable(f"{spec!r} is not callable")
    return target


def _write_metrics(trial_dir: Path, metrics: dict[str, float]) -> None:
    target = trial_dir / "metrics.json"
    temporary = trial_dir / f".metrics.json.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(metrics, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def _prepare(argv: list[str]) -> tuple[Callable[..., Any], dict[str, Any], CallContext]:
    if len(argv) not in (5, 6):
        raise _Unusable(USAGE)
    spec, config_path, trial_dir, seed, experiment_id = argv[:5]
    try:
        context = CallContext(seed=int(seed), trial_dir=Path(trial_dir), experiment_id=experiment_id,
                              attempt=int(argv[5]) if len(argv) == 6 else 1)
    except ValueError:
        raise _Unusable(f"SEED and ATTEMPT must be integers\n{USAGE}") from None
    try:
        config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _Unusable(f"cannot read the trial config {config_path}: {exc}") from None
    if not isinstance(config, dict):
        raise _Unusable(f"the trial config {config_path} must be a JSON object")
    return _load_function(spec), config, context


def main(argv: list[str] | None = None) -> int:
    """Run one trial function; return the process exit code."""
    try:
        function, config, context = _prepare(sys.argv[1:] if argv is None else argv)
    except _Unusable as exc:
        print(f"sweeplab: {exc}", file=sys.stderr)
        return 2
    try:
        returned = function(config, context)
    except ConfigError as exc:
        print(exc, file=sys.stderr)  # the executor prefixes "invalid config: "
        return 2
    except Exception:  # noqa: BLE001 - any failure of user code is the trial's failure
        traceback.print_exc()
        return 1
    if returned is None:
        return 0
    if not isinstance(returned, Mapping):
        print(f"sweeplab: {function.__qualname__} returned {type(returned).__name__}; "
              "expected a mapping of metric names to numbers (or None)", file=sys.stderr)
        return 1
    context.trial_dir.mkdir(parents=True, exist_ok=True)
    _write_metrics(context.trial_dir, numeric_metrics(returned))
    return 0


if __name__ == "__main__":
    sys.exit(main())
