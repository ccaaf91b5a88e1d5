"""Run a Python function as a trial: ``runner: python`` with ``function: "module:function"``.

The function is called as ``fn(config, context)`` with the resolved config (a dict) and a
:class:`CallContext` (``seed``, ``trial_dir``, ``experiment_id``, ``attempt``); the mapping it returns is
the trial's reported values (``metrics.json`` in the attempt folder: numbers become metrics, other values
are kept as text). Raising :class:`~sweeplab.errors.ConfigError` marks the config invalid (exit code 2,
not retried).

**Where the module is found.** ``module`` is imported with the sweep spec's folder on ``PYTHONPATH``
(set for the trial; sweeplab never edits ``sys.path``) and the trial's working folder first, so a
module next to the sweep YAML imports whatever folder the sweep is run from.

**The function as an object** (the Python API, notebooks): ``function: "pickle:PATH"`` names a file
holding the function as ``cloudpickle.dump`` wrote it, so functions defined in ``__main__``, in a notebook
cell, and lambdas run too. A relative ``PATH`` is taken from the spec's folder; the file must stay
in place for a resume, so the Python API writes it inside the sweep folder. Only trial processes (and
the fail-fast check) unpickle it, never the coordinator.

**Fail fast.** Before a run writes anything, the function is loaded in a child process started like a
trial: a misspelled name is refused with exit code 2 and "did you mean 'train'?", and the sweep id stays
free. With warm workers on this machine that child is the first warm worker itself (the engine starts the
slots' workers before anything is written and waits for one to load the function, so the module is
imported once per worker, not once more before them); otherwise :meth:`PythonRunner.preflight` runs
``python -m sweeplab.runners._trial_call --check`` (a Dask sweep, ``isolation: process``).

**Isolation** (``isolation:`` in the spec, ``--isolation`` on the command line):

* ``worker`` (the default): warm workers (:mod:`sweeplab.executors.warm`). One long-lived process per slot
  imports the module (or unpickles the function) once; each attempt then runs in a process forked from it,
  in a session of its own. A trial's timeout, memory grant, crash and cancellation act on that process
  exactly as on a fresh one (the worker itself is never touched and serves the next trial), and every trial
  starts from the worker's state just after the import: module globals, the working folder and the
  environment changed by one trial are not seen by the next. Python's ``random`` and NumPy's global
  generator are reseeded from the operating system in each trial, as in a fresh process (a trial that
  wants reproducible numbers seeds them from ``context.seed``, as today). What differs from a fresh
  process: code that runs at import time runs once per worker, with the worker's environment (no
  ``SWEEPLAB_*`` trial variables yet), and its output is not in a trial's ``stderr.txt``; a module that
  starts threads or a GPU context at import time is not safe to fork: use ``isolation: process``.
  On a Dask cluster each Dask worker process keeps its own warm workers for its threads.
* ``process``: a fresh interpreter per attempt (``python -m sweeplab.runners._trial_call``), as before.

The trial's environment says which: ``SWEEPLAB_ISOLATION=worker|process``.

Example::

    # train.py, next to sweep.yaml
    def train(config, context):
        return {"loss": run(config["lr"], seed=context.seed)}

    runner: python
    function: "train:train"
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ._trial_call import PICKLE_PREFIX, CallContext
from .base import RunContext, Runner, TrialResources
from .command import declared_resources, trial_env

__all__ = ["CallContext", "PythonRunner", "ISOLATION_VARIABLE", "TRIAL_CALL_MODULE", "PREFLIGHT_TIMEOUT"]

_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_FUNCTION = re.compile(rf"^({_DOTTED}):({_DOTTED})$")
#: the module a python-runner attempt runs (``python -m``); warm workers recognise its launches by it
TRIAL_CALL_MODULE = "sweeplab.runners._trial_call"
#: the environment variable that tells a trial (and the executor) how it is isolated
ISOLATION_VARIABLE = "SWEEPLAB_ISOLATION"
#: seconds the fail-fast check may take to import the trial's module (a heavy import takes seconds)
PREFLIGHT_TIMEOUT = 300.0


class PythonRunner(Runner):
    """Call ``options["function"]`` (``"module:function"`` or ``"pickle:PATH"``) once per attempt."""

    name = "python"
    isolations = ("worker", "process")

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        function = self.options.get("function")
        if isinstance(function, str) and function.strip().startswith(PICKLE_PREFIX) \
                and function.strip()[len(PICKLE_PREFIX):]:
            self.function = function.strip()
        elif not isinstance(function, str) or not _FUNCTION.match(function.strip()):
            raise SpecError(f"the python runner needs function: \"module:function\" "
                            f"(e.g. \"train:main\" or \"pkg.train:main\"), or \"pickle:PATH\" of a function "
                            f"pickled with cloudpickle; got {function!r}")
        else:
            self.function = function.strip()

    def resources(self, config: dict[str, Any]) -> TrialResources:
        """What the config declares under ``resource_constraints``; nothing declared → none / 1 thread."""
        return declared_resources(config)

    # --- where the function is found ----------------------------------------------------------
    def _target(self) -> str:
        """The function argument a trial gets: a pickle's path made absolute (from the spec's folder)."""
        if not self.function.startswith(PICKLE_PREFIX):
            return self.function
        path = Path(self.function[len(PICKLE_PREFIX):]).expanduser()
        if not path.is_absolute():
            path = (self.folder or Path.cwd()) / path
        return PICKLE_PREFIX + str(path.resolve())

    def _env(self) -> dict[str, str]:
        """What every attempt adds to its environment besides the trial's own variables."""
        env = {ISOLATION_VARIABLE: self.isolation}
        if self.folder is not None:
            inherited = os.environ.get("PYTHONPATH", "")
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(self.folder).resolve()), inherited) if p)
        return env

    def preflight(self) -> None:
        """Load the function in a child process started as a trial is; refuse the sweep if it cannot load."""
        argv = [sys.executable, "-m", TRIAL_CALL_MODULE, "--check", self._target()]
        try:
            # started as a trial is: in the spec's folder (the trials' working folder), with its PYTHONPATH
            done = subprocess.run(argv, env={**os.environ, **self._env()}, capture_output=True, text=True,
                                  timeout=PREFLIGHT_TIMEOUT, stdin=subprocess.DEVNULL,
                                  cwd=str(self.folder) if self.folder is not None else None)
        except subprocess.TimeoutExpired:
            raise self.refusal(None) from None
        if done.returncode != 0:
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            raise self.refusal(lines[-1].removeprefix("sweeplab: ") if lines else f"exit code {done.returncode}")

    def refusal(self, reason: str | None) -> SpecError:
        """The error refusing a sweep whose function cannot be loaded (``reason`` None: the load did not end)."""
        if reason is None:
            return SpecError(f"loading the function '{self.function}' took more than {PREFLIGHT_TIMEOUT:g} s "
                             "(its module's import does not finish): make the import quick")
        return SpecError(f"function: {reason}. Check the name in 'function' (--function); nothing was run "
                         "or written")

    def command(self, context: RunContext) -> tuple[list[str], dict[str, str]]:
        """``python -m sweeplab.runners._trial_call FUNCTION CONFIG TRIAL_DIR SEED EXPERIMENT_ID ATTEMPT``."""
        argv = [sys.executable, "-m", TRIAL_CALL_MODULE, self._target(), context.config_file,
                context.attempt_folder, str(context.seed), context.experiment_id, str(context.attempt)]
        return argv, {**trial_env(context), **self._env()}
