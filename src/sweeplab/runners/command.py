"""Run any program as a trial: ``runner: command`` with a command line and placeholders.

Example (YAML)::

    runner: command
    command: [python, train.py, --config, "{config}", --out, "{trial_dir}", --seed, "{seed}"]

or on the command line ``--command "python train.py --config {config}"`` (split with
:func:`shlex.split`, never given to a shell). ``python`` is run as written: it is the user's
Python, not necessarily sweeplab's.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from ..errors import ConfigError, SpecError
from .base import RunContext, Runner, TrialResources

__all__ = ["CommandRunner", "PLACEHOLDERS", "trial_env"]

#: placeholder -> what it becomes
PLACEHOLDERS: dict[str, str] = {
    "config": "path of the trial's resolved config (JSON)",
    "trial_dir": "this attempt's own folder",
    "db": "path of the database the trial writes its rows into",
    "seed": "the trial's seed",
    "experiment_id": "the trial's readable experiment id",
}
# only {identifier} is a placeholder, so JSON such as {"a": 1} in an argument stays as it is
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


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


def _parse_command(value: Any) -> list[str]:
    if value is None or value == "" or value == []:
        raise SpecError("the command runner needs 'command': a list of arguments or one string, "
                        "e.g. command: [python, train.py, --config, \"{config}\"]. "
                        f"Placeholders: {_valid_list()}")
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
        for name in _PLACEHOLDER.findall(argument):
            if name not in PLACEHOLDERS:
                raise SpecError(f"command argument {argument!r} uses the unknown placeholder "
                                f"{{{name}}}; valid placeholders are {_valid_list()}")
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
    """Run ``options["command"]`` with ``{config}``, ``{trial_dir}``, ``{db}``, ``{seed}``, ``{experiment_id}``."""

    name = "command"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.argv_template = _parse_command(self.options.get("command"))

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
        argv = [_PLACEHOLDER.sub(lambda match: values[match.group(1)], item) for item in self.argv_template]
        return argv, trial_env(context)
