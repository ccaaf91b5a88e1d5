"""Run a Python function as a trial: ``runner: python`` with ``function: "module:function"``.

The function runs in a fresh process (``python -m sweeplab.runners._trial_call``) started in the
sweep's working folder, so a module next to the sweep file imports. It is called as
``fn(config, context)`` with the resolved config (a dict) and a :class:`CallContext`; the
numbers of the mapping it returns become the trial's metrics. Raising
:class:`~sweeplab.errors.ConfigError` marks the config invalid (exit code 2, not retried).

Example::

    # train.py
    def train(config, context):
        return {"loss": run(config["lr"], seed=context.seed)}

    runner: python
    function: "train:train"
"""

from __future__ import annotations

import re
import sys
from typing import Any

from ..errors import SpecError
from ._trial_call import CallContext
from .base import RunContext, Runner, TrialResources
from .command import declared_resources, trial_env

__all__ = ["CallContext", "PythonRunner"]

_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_FUNCTION = re.compile(rf"^({_DOTTED}):({_DOTTED})$")


class PythonRunner(Runner):
    """Call ``options["function"]`` (``"module:function"``) in a fresh Python process per attempt."""

    name = "python"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        function = self.options.get("function")
        if not isinstance(function, str) or not _FUNCTION.match(function.strip()):
            raise SpecError(f"the python runner needs function: \"module:function\" "
                            f"(e.g. \"train:main\" or \"pkg.train:main\"), got {function!r}")
        self.function = function.strip()

    def resources(self, config: dict[str, Any]) -> TrialResources:
        """What the config declares under ``resource_constraints``; nothing declared → none / 1 thread."""
        return declared_resources(config)

    def command(self, context: RunContext) -> tuple[list[str], dict[str, str]]:
        """``python -m sweeplab.runners._trial_call FUNCTION CONFIG TRIAL_DIR SEED EXPERIMENT_ID ATTEMPT``."""
        argv = [sys.executable, "-m", "sweeplab.runners._trial_call", self.function, context.config_file,
                context.attempt_folder, str(context.seed), context.experiment_id, str(context.attempt)]
        return argv, trial_env(context)
