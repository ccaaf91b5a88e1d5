"""Entry point of a python-runner trial (private; see :mod:`sweeplab.runners.python`).

Imports only the standard library and sweeplab's light modules (the error tree, the trial records),
since every millisecond here is paid once per trial under ``isolation: process``.

``python -m sweeplab.runners._trial_call FUNCTION CONFIG TRIAL_DIR SEED EXPERIMENT_ID [ATTEMPT]`` runs one
trial; ``python -m sweeplab.runners._trial_call --check FUNCTION`` only loads the function (the fail-fast
check made before a sweep writes anything). ``FUNCTION`` is ``module:function`` (dotted names allowed on
both sides) or ``pickle:PATH``, a file holding the function as cloudpickle wrote it.

Exit codes: 0 done (what the function returned in ``TRIAL_DIR/metrics.json``); 1 the function raised;
2 the config is invalid (:class:`~sweeplab.errors.ConfigError`) or the function cannot be loaded.
A warm worker (:mod:`sweeplab.executors.warm_server`) loads the function once with :func:`load_function`
and runs each trial with :func:`run_trial` in a child forked from it.
"""

from __future__ import annotations

import importlib
import json
import numbers
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError, closest_match

__all__ = ["CallContext", "FunctionUnusable", "PICKLE_PREFIX", "load_function", "run_trial", "main"]

#: ``function: "pickle:PATH"``: the function is the object pickled in PATH (by cloudpickle)
PICKLE_PREFIX = "pickle:"


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

USAGE = ("usage: python -m sweeplab.runners._trial_call MODULE:FUNCTION CONFIG TRIAL_DIR SEED EXPERIMENT_ID "
         "[ATTEMPT]\n       python -m sweeplab.runners._trial_call --check MODULE:FUNCTION")


class FunctionUnusable(Exception):
    """The trial cannot run at all (bad arguments, missing function, unreadable config): exit 2."""


def _functions_of(module: Any) -> list[str]:
    """The public callables a module defines itself (what a misspelled name is compared with)."""
    return [name for name, value in vars(module).items()
            if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == module.__name__]


def _module_files(folders: list[str]) -> list[str]:
    names: list[str] = []
    for folder in folders:
        try:
            names += [entry[:-3] for entry in os.listdir(folder or ".") if entry.endswith(".py")]
        except OSError:
            continue
    return names


def _import_module(module_name: str, spec: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.split(".")[0] == exc.name.split(".")[0] == exc.name:
            # the module itself is missing (not something it imports)
            path = os.environ.get("PYTHONPATH", "")
            folders = [os.getcwd(), *(p for p in path.split(os.pathsep) if p)]
            match = closest_match(exc.name, _module_files(folders))
            hint = f"; did you mean '{match}'?" if match else ""
            raise FunctionUnusable(
                f"cannot import module '{module_name}' for function '{spec}': no module named '{exc.name}' in "
                f"{', '.join(dict.fromkeys(folders))} or the installed packages{hint}") from None
        raise FunctionUnusable(f"cannot import module '{module_name}' for function '{spec}': {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the module's own code failed while importing
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise FunctionUnusable(f"importing module '{module_name}' for function '{spec}' raised "
                               f"{type(exc).__name__}: {exc} ({where.filename}, line {where.lineno})") from None


def _unpickle(spec: str) -> Any:
    path = spec[len(PICKLE_PREFIX):]
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)  # a cloudpickle file loads with plain pickle (cloudpickle installed)
    except OSError as exc:
        raise FunctionUnusable(f"cannot read the pickled function '{path}': {exc.strerror or exc}") from None
    except Exception as exc:  # noqa: BLE001 - whatever the pickle needs may be missing here
        raise FunctionUnusable(f"cannot unpickle the function in '{path}': {type(exc).__name__}: {exc} "
                               "(it must be picklable by cloudpickle, and what it uses importable here)") from None


def load_function(spec: str) -> Callable[..., Any]:
    """The callable named by ``spec`` (``module:function`` or ``pickle:PATH``); raises :class:`FunctionUnusable`.

    A missing function names the closest one the module defines ("did you mean 'train'?").
    """
    if spec.startswith(PICKLE_PREFIX):
        target = _unpickle(spec)
        if not callable(target):
            raise FunctionUnusable(f"the object pickled in '{spec[len(PICKLE_PREFIX):]}' is a "
                                   f"{type(target).__name__}, not a function")
        return target
    module_name, _, attribute = spec.partition(":")
    target: Any = _import_module(module_name, spec)
    owner = target
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            known = _functions_of(owner)
            match = closest_match(attribute, known)
            hint = f"; did you mean '{match}'?" if match else ""
            listed = f" (it defines: {', '.join(sorted(known))})" if known else " (it defines no functions)"
            raise FunctionUnusable(f"module '{module_name}' has no attribute '{attribute}' "
                                   f"(function '{spec}'){hint}{listed}") from None
    if not callable(target):
        raise FunctionUnusable(f"'{spec}' is a {type(target).__name__}, not a function")
    return target


def _jsonable(value: Any) -> Any:
    """A returned value as JSON can hold it: numbers (numpy's too) as numbers, other values as JSON or text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)  # NaN and infinity stay: json writes NaN/Infinity, which the reader takes
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _write_metrics(trial_dir: Path, returned: Mapping[Any, Any]) -> None:
    # written in place: it is read only once this process has ended, so no reader sees it half-written
    # (a process killed while writing leaves a file the reader reports as unreadable)
    text = json.dumps({str(name): _jsonable(value) for name, value in returned.items()})
    with open(trial_dir / "metrics.json", "w", encoding="utf-8") as handle:
        handle.write(text)


def _prepare(argv: list[str]) -> tuple[dict[str, Any], CallContext]:
    if len(argv) not in (4, 5):
        raise FunctionUnusable(USAGE)
    config_path, trial_dir, seed, experiment_id = argv[:4]
    try:
        context = CallContext(seed=int(seed), trial_dir=Path(trial_dir), experiment_id=experiment_id,
                              attempt=int(argv[4]) if len(argv) == 5 else 1)
    except ValueError:
        raise FunctionUnusable(f"SEED and ATTEMPT must be integers\n{USAGE}") from None
    try:
        config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FunctionUnusable(f"cannot read the trial config {config_path}: {exc}") from None
    if not isinstance(config, dict):
        raise FunctionUnusable(f"the trial config {config_path} must be a JSON object")
    return config, context


def run_trial(function: Callable[..., Any], argv: list[str]) -> int:
    """Call ``function`` for the trial described by ``argv`` (``CONFIG TRIAL_DIR SEED EXPERIMENT_ID [ATTEMPT]``);
    return the exit code. What it returns is written to ``TRIAL_DIR/metrics.json``."""
    try:
        config, context = _prepare(argv)
    except FunctionUnusable as exc:
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
        name = getattr(function, "__qualname__", repr(function))
        print(f"sweeplab: {name} returned {type(returned).__name__}; "
              "expected a mapping of metric names to values (or None)", file=sys.stderr)
        return 1
    context.trial_dir.mkdir(parents=True, exist_ok=True)
    _write_metrics(context.trial_dir, returned)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one trial function (or ``--check`` one); return the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(f"sweeplab: {USAGE}", file=sys.stderr)
        return 2
    try:
        if args[0] == "--check":
            if len(args) != 2:
                raise FunctionUnusable(USAGE)
            load_function(args[1])
            # loaded: that was the check. Tearing down what the module imported (scikit-learn, say) would only
            # cost time before the sweep starts
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        function = load_function(args[0])
    except FunctionUnusable as exc:
        print(f"sweeplab: {exc}", file=sys.stderr)
        return 2
    return run_trial(function, args[1:])


if __name__ == "__main__":
    sys.exit(main())
