"""Run any program as a trial: ``runner: command`` with a command line and placeholders.

Example (YAML)::

    runner: command
    command: [python, train.py, --config, "{config}", --out, "{trial_dir}", --seed, "{seed}", --lr, "{lr}"]

or on the command line ``--command "python train.py --config {config}"`` (split with
:func:`shlex.split`, never given to a shell). ``python`` is run as written: it is the user's
Python, not necessarily sweeplab's.

Besides the fixed placeholders (:data:`PLACEHOLDERS`), ``{name}`` is the trial's value of a swept
parameter, named by its full dot path (``{optimizer.lr}``) or by any dotted tail of it that only one
swept path has (``{lr}``); ``{args}``, as a whole argument, becomes one ``--path=value`` argument per
swept parameter (as W&B's ``${args}`` and Hydra's overrides). Text is passed as it is, other values
as JSON (``true``, ``null``, ``[1, 2]``). See ``docs/trial_contract.md``.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from ..errors import ConfigError, SpecError
from .base import RunContext, Runner, TrialResources

__all__ = ["CommandRunner", "PLACEHOLDERS", "ARGS_PLACEHOLDER", "trial_env", "placeholder_text", "match_parameter"]

#: placeholder -> what it becomes
PLACEHOLDERS: dict[str, str] = {
    "config": "path of the trial's resolved config (JSON)",
    "trial_dir": "this attempt's own folder",
    "db": "path of the database the trial writes its rows into",
    "seed": "the trial's seed",
    "experiment_id": "the trial's readable experiment id",
}
#: as a whole argument: one ``--path=value`` argument per swept parameter
ARGS_PLACEHOLDER = "{args}"
# only {identifier} or {dotted.path} is a placeholder, so JSON such as {"a": 1} in an argument stays as it is
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


def _valid_list() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def trial_env(context: RunContext) -> dict[str, str]:
    """Environment variables that tell a trial process who it is and where to write."""
    return {
        "SWEEPLAB_SEED": str(context.seed),
        "SWEEPLAB_EXPERIMENT_ID": context.experiment_id,
        "SWEEPLAB_CONFIG": context.config_file,
        "SWEEPLAB_TRIAL_DIR": context.attempt_folder,
        "SWEEPLAB_DB": context.db_file,
    }


def placeholder_text(value: Any) -> str:
    """How a swept value is written into a command argument: text as it is, anything else as JSON.

    >>> [placeholder_text(v) for v in ("adam", 0.1, 3, True, None, [1, 2])]
    ['adam', '0.1', '3', 'true', 'null', '[1, 2]']
    """
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def match_parameter(name: str, paths: list[str]) -> str:
    """The swept path a placeholder ``name`` stands for: the path itself, or the one path that ends
    with ``.name``. Raises :class:`~sweeplab.errors.SpecError` when none or several match.

    >>> match_parameter("lr", ["model.lr", "model.layers"])
    'model.lr'
    """
    if name in paths:
        return name
    matches = [path for path in paths if path.endswith("." + name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise SpecError(f"the command placeholder {{{name}}} is ambiguous: it may be any of "
                        f"{', '.join('{' + m + '}' for m in matches)}; write the full dot path of the one meant")
    swept = ", ".join("{" + path + "}" for path in paths) or "none (nothing is swept)"
    raise SpecError(f"the command uses the unknown placeholder {{{name}}}: it is neither one of {_valid_list()}, "
                    f"{ARGS_PLACEHOLDER}, nor a swept parameter (swept: {swept}); name a swept parameter by its "
                    "dot path or its last key")


def _parse_command(value: Any) -> list[str]:
    if value is None or value == "" or value == []:
        raise SpecError("the command runner needs 'command': a list of arguments or one string, "
                        "e.g. command: [python, train.py, --config, \"{config}\"]. "
                        f"Placeholders: {_valid_list()}, {ARGS_PLACEHOLDER} and {{NAME}} for a swept parameter")
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise SpecError(f"command {value!r} cannot be split into arguments: {exc}") from None
    elif isinstance(value, (list, tuple)) and all(isinstance(item, (str, int, float)) for item in value):
        argv = [str(item) for item in value]
    else:
        raise SpecError(f"command must be a list of strings or one string, got {value!r}")
    if not argv or not argv[0].strip():
        raise SpecError(f"command {value!r} has no program to run")
    for argument in argv:
        if ARGS_PLACEHOLDER in argument and argument != ARGS_PLACEHOLDER:
            raise SpecError(f"command argument {argument!r}: {ARGS_PLACEHOLDER} expands to several arguments "
                            f"(--path=value each), so it must be an argument of its own: write it apart, "
                            f"e.g. [python, train.py, \"{ARGS_PLACEHOLDER}\"]")
    return argv


def _number(constraints: dict[str, Any], key: str, kind: type) -> Any:
    value = constraints.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"resource_constraints.{key} must be a positive number, got {value!r}")
    if kind is int and value != int(value):
        raise ConfigError(f"resource_constraints.{key} must be a whole number, got {value!r}")
    return kind(value)


def declared_resources(config: dict[str, Any]) -> TrialResources:
    """RAM and threads a config declares under ``resource_constraints`` (``ram_limit_gb``, ``cpu_threads``)."""
    constraints = config.get("resource_constraints")
    if not isinstance(constraints, dict):
        return TrialResources()
    threads = _number(constraints, "cpu_threads", int)
    return TrialResources(memory_gb=_number(constraints, "ram_limit_gb", float), cpu_threads=threads or 1)


class CommandRunner(Runner):
    """Run ``options["command"]`` with ``{config}``, ``{trial_dir}``, ``{db}``, ``{seed}``, ``{experiment_id}``,
    ``{args}`` and a ``{name}`` per swept parameter."""

    name = "command"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.argv_template = _parse_command(self.options.get("command"))
        self._parameter_names = {name for argument in self.argv_template
                                 for name in _PLACEHOLDER.findall(argument) if name not in PLACEHOLDERS}
        self._bound: dict[str, str] | None = None  # placeholder name -> swept path, once checked

    def check_parameters(self, paths: list[str]) -> None:
        """Tie every ``{name}`` of the command to one swept path; unknown or ambiguous names are refused."""
        names = self._parameter_names - {"args"}
        self._bound = {name: match_parameter(name, list(paths)) for name in sorted(names)}

    def resources(self, config: dict[str, Any]) -> TrialResources:
        """What the config declares under ``resource_constraints``; nothing declared → none / 1 thread."""
        return declared_resources(config)

    def command(self, context: RunContext) -> tuple[list[str], dict[str, str]]:
        """The argv with placeholders filled in for this attempt, and the ``SWEEPLAB_*`` variables."""
        values = {
            "config": context.config_file,
            "trial_dir": context.attempt_folder,
            "db": context.db_file,
            "seed": str(context.seed),
            "experiment_id": context.experiment_id,
        }
        params = context.params or {}
        if self._parameter_names - {"args"}:
            bound = self._bound
            if bound is None:  # not resolved through a sweep (a direct call): match against this trial's paths
                bound = {name: match_parameter(name, list(params)) for name in self._parameter_names - {"args"}}
            for name, path in bound.items():
                if path not in params:
                    raise SpecError(f"the command placeholder {{{name}}} names '{path}', which this trial does "
                                    "not sweep")
                values[name] = placeholder_text(params[path])
        argv: list[str] = []
        for item in self.argv_template:
            if item == ARGS_PLACEHOLDER:
                argv.extend(f"--{path}={placeholder_text(value)}" for path, value in params.items())
            else:
                argv.append(_PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), item))
        return argv, trial_env(context)
