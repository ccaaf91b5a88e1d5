"""The Python API: :class:`ExperimentSweep`, with the original signature, for scripts and notebooks.

A thin layer over the engine: the spec is validated and resolved here, and a run is
``prepare(...).run(observer)`` (:mod:`sweeplab.engine.launch`). What the API adds:

* ``function=`` may be the function itself and ``base_config=`` a dict (:mod:`.inputs` turns them
  into the files the engine runs from, so a resume finds them again);
* its errors say the fix in Python (``resume=True``, not ``--resume``);
* in Jupyter, a run's progress is one display updated in place, and the results show as a table.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..console.python_terms import python_terms
from ..engine.launch import parallel_slots, prepare
from ..errors import JournalError, SpecError, SweepError, UserError
from ..journal.reader import JournalReader
from ..journal.views import trial_rows
from ..planning.plan import Plan
from ..planning.resolve import resolve
from ..planning.spec import check_sweep_id, spec_from_mapping
from .inputs import Staged
from .results import LAB_RUNNERS, SweepResults, result_of

if TYPE_CHECKING:
    import pandas as pd

    from ..engine.observer import Observer, SweepOutcome
    from ..executors.base import Executor

__all__ = ["ExperimentSweep", "in_python_terms"]


@contextmanager
def in_python_terms() -> Iterator[None]:
    """Errors raised inside say their fix as Python arguments (``resume=True``); same exception, same type."""
    try:
        yield
    except SweepError as exc:
        if exc.args and isinstance(exc.args[0], str):
            exc.args = (_argument_names(python_terms(exc.args[0])), *exc.args[1:])
        raise


#: spec keys whose ExperimentSweep argument has another name
_ARGUMENTS = {"parallel": "parallel_jobs", "timeout": "timeout_seconds", "sweep": "sweep_params"}


def _argument_names(message: str) -> str:
    """``ExperimentSweep: key 'parallel' ...`` names the argument: ``argument 'parallel_jobs'``."""
    if not message.startswith("ExperimentSweep: key '"):
        return message
    key = message[len("ExperimentSweep: key '"):].split("'", 1)[0]
    return message.replace(f"key '{key}'", f"argument '{_ARGUMENTS.get(key, key)}'", 1)


class ExperimentSweep:
    """A sweep over a base experiment config, runnable from Python.

    >>> def train(config, context):                                    # doctest: +SKIP
    ...     return {"loss": (config["lr"] - 0.1) ** 2 + context.seed % 7 * 1e-3}
    >>> sweep = ExperimentSweep(base_config={"lr": 0.1, "epochs": 3},  # doctest: +SKIP
    ...                         sweep_params={"lr": [0.01, 0.1, 1.0]}, function=train, repeats=2)
    >>> results = sweep.run_all()                                      # doctest: +SKIP
    >>> results.to_dataframe()                                         # doctest: +SKIP

    ``base_config`` is the path of a JSON file or a dict; ``function`` (the python runner) a
    callable — also one defined in a notebook, or a lambda — or ``"module:function"``. Extra
    keyword arguments are any other sweep spec keys (``repeats``, ``seed``, ``zip``, ``runner``,
    ``command``, ``limits``, ``max_failures``, ``expect_metrics`` …). Validation happens here,
    before anything is written; errors are :class:`~sweeplab.errors.UserError` subclasses whose
    message names the argument to change.
    """

    def __init__(self, base_config: str | Path | Mapping[str, Any], sweep_params: dict[str, Any],
                 sweep_id: str | None = None, parallel_jobs: int | str = 1, output_dir: str | Path = "logs/sweeps",
                 db_path: str | Path = "logs/experiments.db", resume: bool = False, jetson_optimized: bool = False,
                 timeout_seconds: float | None = None, max_retries: int = 2, tags: list[str] | None = None,
                 description: str = "", *, function: str | Callable[..., Any] | None = None,
                 **spec_keys: Any) -> None:
        if not isinstance(sweep_params, Mapping):
            raise SpecError(f"sweep_params must be a dict of {{dot path: values}}, got a {type(sweep_params).__name__}")
        staged = Staged(Path(output_dir))
        with in_python_terms():
            try:
                base_value = staged.base_config(base_config)
                function_value = staged.function(function)
                if sweep_id is None and not isinstance(base_config, (str, Path)):
                    # the engine names a sweep after its base file, here a hash: name it after the function
                    sweep_id = _default_id(function, spec_keys.get("command"), Path(output_dir))
                data: dict[str, Any] = {
                    "base_config": base_value, "sweep": dict(sweep_params), "sweep_id": sweep_id,
                    "parallel": parallel_jobs, "output_dir": str(output_dir), "db_path": str(db_path),
                    "resume": resume, "jetson_optimized": jetson_optimized, "timeout": timeout_seconds,
                    "max_retries": max_retries, "tags": list(tags or []), "description": description,
                    "function": function_value, **spec_keys,
                }
                self.spec = spec_from_mapping({k: v for k, v in data.items() if v is not None}, where="ExperimentSweep")
                self.resolved = resolve(self.spec)
                self.plan = Plan(self.resolved)
            except BaseException:
                staged.discard()  # a refused sweep leaves nothing behind
                raise
        self._staged = staged
        self.sweep_id = self.resolved.sweep_id
        self.sweep_dir = self.resolved.sweep_dir
        self.outcome: SweepOutcome | None = None

    def __len__(self) -> int:
        return len(self.plan)

    def __repr__(self) -> str:
        return (f"ExperimentSweep(sweep_id={self.sweep_id!r}, trials={len(self.plan)}, "
                f"runner={self.resolved.runner_name!r}, parameters={list(self.resolved.sweep_params())})")

    def run_all(self, verbose: bool = True, *, observer: Observer | None = None, allow_drift: bool = False,
                executor: Executor | None = None) -> SweepResults:
        """Run every trial not yet completed; return one result per trial started so far.

        ``observer`` gets the engine's hooks as trials start and end (see
        :class:`sweeplab.engine.observer.Observer`); without one, ``verbose`` draws progress: a
        line on a terminal, one display updated in place in Jupyter. ``executor`` replaces the
        one the spec asks for, and is shut down at the end.
        """
        if observer is None and verbose:
            from ..console.progress import ProgressObserver
            from ..console.screen import Screen
            observer = ProgressObserver(Screen(), self.resolved, python_api=True)
        with in_python_terms():
            self._staged.restore()
            try:
                launch = prepare(self.resolved, allow_drift=allow_drift, executor=executor)
            except UserError:
                self._staged.discard()  # refused before anything ran: the files made for it go too
                raise
            self.outcome = launch.run(observer)
        return self.results()

    def results(self) -> SweepResults:
        """The trials recorded in the journal so far, as :class:`SweepResult` records in plan order."""
        rows = []
        if self.resolved.db_path.is_file():
            with in_python_terms(), JournalReader.open(self.resolved.db_path) as reader:
                rows = trial_rows(reader, self.sweep_id)
        lab = self.resolved.runner_name in LAB_RUNNERS
        db = str(self.resolved.db_path)
        return SweepResults((result_of(row, db, lab=lab) for row in rows), sweep_id=self.sweep_id,
                            parameters=list(self.resolved.sweep_params()), total=len(self.plan), rows=rows)

    def to_dataframe(self) -> pd.DataFrame:
        """The trials so far as a typed DataFrame (see :meth:`SweepResults.to_dataframe`)."""
        return self.results().to_dataframe()

    def estimate_time_remaining(self, avg_experiment_duration: float) -> float:
        """Seconds left if each remaining trial takes ``avg_experiment_duration`` at this parallelism."""
        done = 0
        if self.resolved.db_path.is_file():
            try:
                with JournalReader.open(self.resolved.db_path) as reader:
                    done = reader.completed_count(self.sweep_id)
            except JournalError:
                done = 0
        remaining = max(0, len(self.plan) - done)
        with in_python_terms():
            slots = parallel_slots(self.resolved)  # on a cluster asked for 'auto': its worker threads
        return math.ceil(remaining / max(1, slots)) * float(avg_experiment_duration)


def _default_id(function: Any, command: Any, output_dir: Path) -> str:
    """``sweep_<function name>_<local time>`` for a sweep whose base config is a dict; ``_2``, ``_3`` … after
    it when a sweep of that id exists already (two sweeps of ``train`` started within one second)."""
    if isinstance(function, str):
        name = function.rpartition(":")[2].rpartition(".")[2]
    elif function is not None:
        name = getattr(function, "__name__", "") or type(function).__name__
    else:
        name = "command" if command is not None else "config"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:60].strip("-.") or "config"  # '<lambda>' -> 'lambda'
    sweep_id = f"sweep_{stem}_{time.strftime('%Y%m%d_%H%M%S')}"
    candidate, number = sweep_id, 1
    while (output_dir / candidate).exists():
        number += 1
        candidate = f"{sweep_id}_{number}"
    return check_sweep_id(candidate)
