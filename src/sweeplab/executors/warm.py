"""Warm workers: python-runner attempts run in processes forked from a worker that imported the function.

A fresh interpreter per attempt costs tens of milliseconds, and a heavy import (scikit-learn, torch)
seconds, for every trial. The python runner's launches with ``SWEEPLAB_ISOLATION=worker`` (the
default; see :mod:`sweeplab.runners.python`) are run here instead: :class:`WarmPool` keeps up to one
worker process per slot (:mod:`sweeplab.executors.warm_server`) for each function, working folder and
environment; a worker loads the function once and forks one process per attempt. Only the first worker
of a function imports it: every other one is a clone forked from a live worker of the same function and
setting once that worker's import is done (:mod:`.warm_server`), so a sweep imports scikit-learn once,
not once per slot, and a worker replaced after a crash starts in milliseconds.

The design is a fork server, not a process that calls many trials in itself, so that what holds for a
fresh process holds for each attempt, unchanged:

* the attempt's process leads its own process group: its timeout, cancellation and memory watchdog
  signal that group exactly as :class:`~sweeplab.executors.attempt.AttemptProcess` does for a fresh
  process, and its exit code is classified the same way (``crashed`` for a signal, 2 = invalid config…);
  the worker is never signalled and serves the next attempt;
* a crash (``os.abort()``, a segfault) ends that process only; the memory grant is its ``RLIMIT_AS`` and
  the watchdog over its resident memory;
* every attempt starts from the worker's state just after the import: globals, the working folder and
  the environment a trial changes are gone with its process; ``random`` and NumPy's global generator
  are reseeded from the system as in a fresh process;
* the coordinator's death (even ``kill -9``) closes the workers' request pipes: each kills its running
  attempt's group and exits, so a resume finds nothing running and reruns what was not journaled.

A worker that dies while an attempt runs (killed from outside) ends that attempt as ``crashed`` and is
replaced by the next attempt that needs one.

On a Dask cluster, each Dask worker process keeps such a pool for its threads (:func:`dask_worker_pool`),
so a python-runner task runs in a process forked from a warm worker on that machine.

Limits: a clone exists only once the worker it is cloned from has imported; killing that worker before
(a trial's timeout shorter than the import) loses the clones it had not forked yet, and their attempts end
``crashed`` (a retry gets a new worker). The first attempt of a worker waits for its import (its timeout counts from its submission, as
a fresh process's counts its own import); what a module prints at import time is not in any trial's
files; ``SWEEPLAB_*`` variables read at import time are not the trial's; a module that starts threads
or a GPU context when imported cannot be forked safely and needs ``isolation: process``. An attempt's
process is found by its worker, not by its environment (``/proc/PID/environ`` shows the worker's), so
``sweeplab resume`` relies on the workers having ended their attempts.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import threading
import time
from collections.abc import Mapping

from ..trial import TrialLaunch, TrialResult
from .attempt import AttemptProcess, child_env, signal_group, tree_rss
from .base import ATTEMPT_DIR_VARIABLE
from .outcome import EndReason
from .warm_worker import WarmWorker, reap_unborn_clones

__all__ = ["WarmAttempt", "WarmPool", "WarmWorker", "warm_function", "dask_worker_pool", "TRIAL_CALL_MODULE",
           "ISOLATION_VARIABLE"]

logger = logging.getLogger(__name__)

#: seconds the pool's close waits for the clones closed before they existed to come and go
UNBORN_WAIT = 10.0
#: the module a python-runner launch runs (``python -m``): its argv is ``[python, -m, module, FUNCTION, ...]``
TRIAL_CALL_MODULE = "sweeplab.runners._trial_call"
#: ``worker`` in a launch's environment asks for a warm worker (the python runner sets it)
ISOLATION_VARIABLE = "SWEEPLAB_ISOLATION"
#: variables that belong to one trial, set in its process, never in the worker's environment
_TRIAL_PREFIX = "SWEEPLAB_"


def warm_function(launch: TrialLaunch) -> str | None:
    """The function of a launch a warm worker may run (``worker`` isolation of the python runner), else None."""
    argv = launch.argv
    if (launch.env.get(ISOLATION_VARIABLE) == "worker" and len(argv) >= 5 and argv[1] == "-m"
            and argv[2] == TRIAL_CALL_MODULE and not argv[3].startswith("-")):
        return argv[3]
    return None


class WarmPool:
    """The warm workers of one executor: at most ``slots`` alive, idle ones kept per function and setting."""

    def __init__(self, slots: int, environ: Mapping[str, str]) -> None:
        self.slots = slots
        self._environ = environ
        self._idle: list[WarmWorker] = []  # oldest first
        self._busy: set[WarmWorker] = set()
        # a Dask worker's threads share its pool; the local executor's one thread pays an uncontended lock
        self._lock = threading.Lock()

    def _worker_env(self, launch: TrialLaunch) -> dict[str, str]:
        without_trial = dataclasses.replace(launch, env={k: v for k, v in launch.env.items()
                                                         if not k.startswith(_TRIAL_PREFIX)})
        env = child_env(without_trial, self._environ)
        env.pop(ATTEMPT_DIR_VARIABLE, None)  # a worker is no attempt: the stray reaper must leave it alone
        return env

    def _key(self, launch: TrialLaunch, function: str) -> tuple[dict[str, str], tuple[object, ...]]:
        env = self._worker_env(launch)
        return env, (launch.argv[0], function, launch.cwd, tuple(sorted(env.items())))

    def take(self, launch: TrialLaunch, function: str) -> WarmWorker:
        """A worker for ``launch``: an idle one of the same function and setting, else a new one."""
        env, key = self._key(launch, function)
        with self._lock:
            return self._take(launch, function, env, key)

    def prestart(self, launch: TrialLaunch, function: str, count: int) -> list[WarmWorker]:
        """Start up to ``count`` idle workers for launches like ``launch`` now (within the slots): the first
        one's import runs while the coordinator gets ready, the others are its clones, and :meth:`take`
        hands them out like any idle one."""
        env, key = self._key(launch, function)
        with self._lock:
            room = self.slots - len(self._idle) - len(self._busy)
            started: list[WarmWorker] = []
            for _ in range(min(count, room)):
                started.append(self._new(launch, function, env, key))
                self._idle.append(started[-1])
        return started

    def _new(self, launch: TrialLaunch, function: str, env: dict[str, str], key: tuple[object, ...]) -> WarmWorker:
        """A new worker: a clone of a live worker of the same function and setting (the one that has loaded
        it, if any), else a fresh interpreter that imports the function."""
        same = [worker for worker in (*self._idle, *self._busy) if worker.key == key and not worker.lost]
        parent = next((worker for worker in same if worker.ready), same[0] if same else None)
        worker = WarmWorker(launch.argv[0], function, launch.cwd, env, key, parent=parent)
        logger.debug("started warm worker for %s (%s)", function, "fresh" if parent is None else "a clone")
        return worker

    def _take(self, launch: TrialLaunch, function: str, env: dict[str, str], key: tuple[object, ...]) -> WarmWorker:
        reap_unborn_clones()  # (a look at their pipes, if there are any)
        for worker in list(self._idle):
            if worker.process.poll() is not None:  # died while idle (killed from outside): never handed out
                self._idle.remove(worker)
                worker.close(kill=True)
            elif worker.key == key and not worker.lost:
                self._idle.remove(worker)
                self._busy.add(worker)
                return worker
        while self._idle and len(self._idle) + len(self._busy) >= self.slots:
            self._idle.pop(0).close()  # a setting no longer asked for: make room
        worker = self._new(launch, function, env, key)
        self._busy.add(worker)
        return worker

    def give_back(self, worker: WarmWorker) -> None:
        """An attempt of ``worker`` ended: keep it for the next one, or drop it if it is gone."""
        with self._lock:
            self._busy.discard(worker)
            worker.busy = False
            if not worker.lost:
                self._idle.append(worker)
                return
        worker.close(kill=True)

    def close(self) -> None:
        """Stop every worker (the executor is shutting down; no attempt runs)."""
        with self._lock:
            workers = [*self._idle, *self._busy]
            self._idle.clear()
            self._busy.clear()
        for worker in workers:
            # a worker still importing would only read its closed pipe once the import ends: kill it now
            worker.close(kill=worker.busy or not worker.ready)
        # clones closed before they existed: their parents are closed or killed now, so each comes and goes
        # (or its pipe ends) at once
        if reap_unborn_clones(timeout=UNBORN_WAIT):
            logger.warning("a warm worker's clone did not report; it may stay a zombie of this process")


class WarmAttempt(AttemptProcess):
    """One attempt run by a warm worker: the :class:`AttemptProcess` interface over the worker's answers.

    Its pid (and process group) is known once the worker has forked it and said so (``pid`` is None
    meanwhile, so the journal rarely has it: a resume relies on the worker ending its attempt; ending
    an attempt that has no pid yet ends its worker). The worker's pipe carries other news than the end, and the end may be read before the
    executor looks (:meth:`ended_unreaped`); ``returncode`` is set when the executor reaps the attempt.
    """

    def __init__(self, launch: TrialLaunch, pool: WarmPool, function: str) -> None:  # noqa: D107
        self._begin(launch)
        self._pool = pool
        self.worker = pool.take(launch, function)
        self.pid: int | None = None  # type: ignore[assignment]
        self.worker_lost = False
        self._reaped = False
        self._code: int | None = None  # the end the worker reported; returncode once reaped
        self._term_on_start = False
        env = dict(launch.env)
        env[ATTEMPT_DIR_VARIABLE] = launch.attempt_dir
        self.worker.send({"argv": list(launch.argv[4:]), "env": env, "cwd": launch.cwd, "dir": launch.attempt_dir,
                          # the address-space cap of the grant (a resident-only grant is the watchdog's alone)
                          "memory": None if launch.resident_only else launch.memory_bytes})
        # the pid comes with the worker's next answer: waiting for it here would hold the coordinator for
        # the fork (and for the import, on a new worker); nothing needs it before the selector brings it
        self._absorb(self.worker.messages())

    @property
    def pgid(self) -> int | None:  # type: ignore[override]
        return self.pid

    def fileno(self) -> int:
        return self.worker.fileno()

    def _absorb(self, messages: list[list[str]]) -> None:
        for words in messages:
            if words[0] == "S":
                self.pid = int(words[1])
                if self._term_on_start:  # ended while it waited for the worker's import
                    signal_group(self.pid, signal.SIGTERM)
            elif words[0] == "E":
                self._code = int(words[2])
            elif words[0] == "EOF" and self._code is None:
                self._worker_died()

    def ended_unreaped(self) -> bool:
        """The worker's report of the end was read already (so its pipe will not signal it): reap it now."""
        return self._code is not None and self.returncode is None

    def _worker_died(self) -> None:
        self.worker_lost = True
        if self.pid is not None:  # its attempt may run on, orphaned: it ends with its worker
            signal_group(self.pid, signal.SIGKILL)
            try:
                os.waitpid(self.pid, os.WNOHANG)  # adopted by us (the subreaper), maybe
            except ChildProcessError:
                pass
        self._code = -signal.SIGKILL

    def exited(self) -> bool:
        """True once the worker reported the attempt's end (or died)."""
        if self._code is None and not self.worker.lost:
            self._absorb(self.worker.messages())
        elif self._code is None:
            self._absorb([["EOF"]])
        return self._code is not None

    def terminate(self, reason: EndReason, grace: float | None = None) -> None:
        """As for a fresh process. Before the worker has forked the attempt (it is still importing), the
        attempt gets SIGTERM the moment it exists, and at the end of the grace period the worker is killed
        if the attempt still has not started: its pipe's end of file then ends the attempt."""
        if self.exited():
            return
        if self.pid is not None:
            super().terminate(reason, grace)
            return
        if self._schedule_end(reason, grace):
            self._term_on_start = True

    def _kill_now(self) -> None:
        if self.pid is not None:
            super()._kill_now()
            return
        self._kill_at = None
        self._watch_at = None
        if self.worker.process.pid is not None:
            signal_group(self.worker.process.pid, signal.SIGKILL)  # its attempt never started
            return
        # a clone its parent has not forked yet (the parent still imports): give up on it; it exits
        # without starting the attempt when it comes to exist
        self.worker.close()
        self._absorb([["EOF"]])

    def _rss(self) -> int:
        return tree_rss(self.pid) if self.pid is not None else 0

    def reap(self) -> None:
        """Collect the end the worker reported; give the worker back (or drop it, if it died). Idempotent."""
        if self._reaped:
            return
        while not self.exited():
            self._absorb(self.worker.messages(block=True))
        self._reaped = True
        self.returncode = self._code
        self.duration = time.monotonic() - self._started_mono
        self._pool.give_back(self.worker)

    def finish(self) -> TrialResult:
        """The result, as for a fresh process; an attempt whose worker died says so."""
        if self.result is None:
            result = super().finish()
            if self.worker_lost and self.ended_by is None:
                result = dataclasses.replace(result, error=(
                    "the warm worker running this trial died before it ended (killed from outside?); the next "
                    "attempt gets a new worker" + (f"\n{result.error}" if result.error else "")))
            self.result = result
        return self.result


#: the attribute of a Dask worker that holds its pool (it lives and dies with that worker)
_DASK_POOL_ATTRIBUTE = "sweeplab_warm_pool"
# two tasks starting at once on one Dask worker must not make two pools
_POOL_CREATION = threading.Lock()


def dask_worker_pool() -> WarmPool | None:
    """The warm pool of the Dask worker running this task (made on first use), or None outside a worker.

    It is kept on the worker object, so it ends with that worker: its warm workers see their request
    pipes close and exit.
    """
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    pool = getattr(worker, _DASK_POOL_ATTRIBUTE, None)
    if pool is None:
        with _POOL_CREATION:
            pool = getattr(worker, _DASK_POOL_ATTRIBUTE, None)
            if pool is None:
                pool = WarmPool(max(1, int(getattr(worker.state, "nthreads", 1))), dict(os.environ))
                setattr(worker, _DASK_POOL_ATTRIBUTE, pool)
    return pool

