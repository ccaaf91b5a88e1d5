"""The executor contract.

An executor starts the process described by a :class:`~sweeplab.trial.TrialLaunch`, enforces
its timeout and memory grant, and hands back a :class:`Job`. It never writes sweep state: the
coordinator turns finished jobs into journal rows. All methods are called from the
coordinator's single thread.

Lifecycle: ``submit`` (or ``submit_many``, several at once: a cluster sends them in one message)
→ poll with ``wait`` → ``job.result()`` once ``job.done()``; ``cancel`` ends a running job (status
``cancelled``); ``shutdown`` releases everything.

The attempt folder (``launch.attempt_dir``) is shared by the coordinator, the executor and the
trial; the names of what lives there are defined here, so that each side imports them from the
contract rather than from another side's internals:

* :data:`STDOUT_NAME`, :data:`STDERR_NAME`: the trial's output, written by its process (the
  coordinator may create them empty beforehand, so that the start only opens them);
* :data:`METRICS_NAME`: the numbers a trial reports, if it writes a file rather than a last
  JSON line on stdout;
* :data:`ATTEMPT_DIR_VARIABLE`: the environment variable that carries the attempt folder into
  the trial's processes (and by which a resume recognises them);
* :data:`CLAIM_NAME`: a remote (Dask) attempt's claim on its folder, and, as its second line, the
  result the attempt stored there when it ended: they make a folder one-shot: a task the cluster runs again (its worker
  died) never runs the trial a second time in the same folder;
* the cancel mark and the cancel event of a remote attempt are the Dask executor's
  (:mod:`sweeplab.executors.dask`): the random part of the event's name travels in the claim.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

from ..trial import TrialLaunch, TrialResult

__all__ = ["ATTEMPT_DIR_VARIABLE", "CLAIM_NAME", "CLONE_REQUEST", "METRICS_NAME", "STDERR_NAME",
           "STDOUT_NAME", "Capacity", "Executor", "Job"]

#: the trial's standard output, in its attempt folder
STDOUT_NAME = "stdout.txt"
#: the trial's standard error, in its attempt folder
STDERR_NAME = "stderr.txt"
#: the metrics file a trial may write, in its attempt folder (a JSON object of name -> number)
METRICS_NAME = "metrics.json"
#: the environment variable holding the absolute attempt folder, set in every trial process
ATTEMPT_DIR_VARIABLE = "SWEEPLAB_ATTEMPT_DIR"
#: the line that asks a warm worker for a clone, as the executor writes it and the worker matches it
CLONE_REQUEST = b'{"clone": true}\n'
#: made (O_EXCL) by the one run of a remote attempt, in its folder, before the trial starts; its
#: second line is the attempt's result once it ended (JSON of a TrialResult)
CLAIM_NAME = ".sweeplab-claim"


@dataclass(frozen=True)
class Capacity:
    """What an executor can run at once: trial slots, RAM in bytes, CPU threads."""

    slots: int
    memory_bytes: int
    cpus: int


class Job(ABC):
    """A handle on one submitted attempt (Future-like)."""

    launch: TrialLaunch

    @abstractmethod
    def done(self) -> bool:
        """True once the attempt has ended, whatever the outcome."""

    @abstractmethod
    def result(self) -> TrialResult:
        """The attempt's outcome; only valid once :meth:`done` is true."""

    @abstractmethod
    def cancel(self) -> None:
        """Terminate the attempt (its whole process group); its result becomes ``cancelled``."""

    @property
    def started(self) -> bool:
        """Whether the attempt has started: false only while it waits in the executor's queue (a trial
        submitted ahead to a cluster); a local attempt starts when it is submitted. Cheap to ask."""
        return True

    def withdraw(self) -> bool:
        """Cancel the attempt if it has not started yet (it waits in the executor's queue, as trials
        submitted ahead to a cluster do); True if it was withdrawn. A started attempt is left alone."""
        return False

    @property
    def pid(self) -> int | None:
        """Pid of the attempt's main process on the coordinator's host, when it runs there."""
        return None

    @property
    def pgid(self) -> int | None:
        """Process group of the attempt on the coordinator's host, when it runs there."""
        return None


class Executor(ABC):
    """Where trials run. See the module docstring for the contract."""

    name: str = "executor"
    #: whether a resume can end attempts a dead coordinator left running here (local processes:
    #: found by their environment); if not, a rerun never reuses a leftover attempt's folder
    ends_leftovers: bool = False
    #: whether the coordinator makes the trial's stdout and stderr files when it stages the attempt
    #: (ahead of its start, so that starting it only opens them); an executor that starts trials on
    #: other hosts says no: the start makes them there, and the coordinator's CPU, which every
    #: trial of a cluster shares, is spared two file creations a trial
    stages_outputs: bool = True

    @property
    @abstractmethod
    def capacity(self) -> Capacity:
        """Slots and resources this executor offers."""

    @abstractmethod
    def submit(self, launch: TrialLaunch) -> Job:
        """Start one attempt and return its handle without waiting for it."""

    @abstractmethod
    def wait(self, jobs: Iterable[Job], timeout: float | None) -> list[Job]:
        """Block until at least one of ``jobs`` is done or ``timeout`` passes; return the done ones."""

    def submit_many(self, launches: list[TrialLaunch]) -> list[Job]:
        """Start several attempts, in order; a cluster's executor sends them in one message to its
        scheduler. Default: :meth:`submit` each."""
        return [self.submit(launch) for launch in launches]

    def end_leftovers(self, attempt_dirs: Iterable[str]) -> int:
        """Ask attempts a dead coordinator left on this executor (named by their folders) to end.

        For executors that cannot be searched for them (``ends_leftovers`` false); returns how
        many were asked. Default: nothing to do.
        """
        return 0

    def wakeup(self) -> None:
        """Make a :meth:`wait` in progress return early (safe to call from a signal handler)."""

    def during_sweep(self) -> contextlib.AbstractContextManager[None]:
        """Entered by the coordinator for the time a sweep runs on this executor. Default: nothing."""
        return contextlib.nullcontext()

    def shutdown(self, cancel: bool = True) -> None:
        """Release resources; with ``cancel``, terminate what still runs."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(cancel=True)
