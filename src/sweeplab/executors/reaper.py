"""Every process a trial started ends with the trial, even one that left its process group.

Ending an attempt signals its process group, but a trial's descendant may leave the group and the
session (``setsid()``, a daemon's double fork) and would then outlive the trial: its timeout, a
Ctrl-C, its normal end. Two ways catch those, without privileges:

* **Child subreaper** (:class:`StrayReaper`, the local executor): the coordinator marks itself
  with ``prctl(PR_SET_CHILD_SUBREAPER)``, so a trial's descendant whose parent exits becomes the
  coordinator's child instead of init's. Every trial process carries ``SWEEPLAB_ATTEMPT_DIR`` in its
  environment; after an attempt ends, the coordinator's children that carry the folder of an
  attempt no longer running are killed and reaped — and so, in turn, their own children, which
  become the coordinator's as they die. Costs a read of ``/proc/self/task/*/children`` per ended
  attempt; the environment is read only of children that are not attempts (rare).
* **Environment scan** (:func:`end_processes_of`, on a Dask worker, which is not a subreaper): after
  an attempt ends, every process of the machine whose ``SWEEPLAB_ATTEMPT_DIR`` is its folder is
  killed. A stray is a descendant of the attempt's process, so it was created after it: Linux hands
  out pids cyclically and ``/proc/sys/kernel/ns_last_pid`` is the newest, so given the attempt's pid
  only the processes in the cyclic window from that pid to the newest are read
  (:func:`pids_in_window`), a few on a machine that runs little else, where reading the environment
  of every process took milliseconds per attempt. The window is right as long as the pids have not
  gone all the way round during the attempt, which is why its caller narrows the scan only for an
  attempt that lasted a few seconds at most (:data:`NARROW_SCAN_SECONDS`); without the pid, or
  without ``ns_last_pid``, every process is read.

Limits: a descendant that clears its environment, or that a program other than the trial's adopts
first (another subreaper, a service manager), is not found. cgroups would find those too, but need
a delegated cgroup, which a plain user in CI does not have.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
from collections.abc import Iterable

from .base import ATTEMPT_DIR_VARIABLE

__all__ = ["StrayReaper", "end_processes_of", "attempt_dir_of", "pids_in_window", "set_child_subreaper",
           "NARROW_SCAN_SECONDS"]

logger = logging.getLogger(__name__)

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
_MARKER = ATTEMPT_DIR_VARIABLE.encode() + b"="
#: the newest pid handed out in this process's pid namespace
NS_LAST_PID = "/proc/sys/kernel/ns_last_pid"
#: up to this many pids handed out since a short attempt started are read one by one (see end_processes_of)
PROBE_WINDOW = 64
#: an attempt that lasted at most this long has its strays looked for among the pids handed out since
#: its own (see the module docstring): even the smallest pid space (32768) would need thousands of
#: new processes or threads a second to go round in that time; a longer attempt can afford the full scan
NARROW_SCAN_SECONDS = 5.0


def set_child_subreaper(on: bool) -> bool | None:
    """Make this process the subreaper of its descendants (or stop); returns the previous setting,
    None where the kernel or platform has no subreapers."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        previous = ctypes.c_int(0)
        if libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(previous), 0, 0, 0) != 0:
            return None
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) != 0:
            return None
    except (OSError, AttributeError):
        return None
    return bool(previous.value)


def attempt_dir_of(pid: int) -> str | None:
    """The ``SWEEPLAB_ATTEMPT_DIR`` of process ``pid``; None if it has none or cannot be read."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    for entry in data.split(b"\0"):
        if entry.startswith(_MARKER):
            return os.fsdecode(entry[len(_MARKER):])
    return None


def _children() -> set[int]:
    """Pids of this process's children (of all its threads)."""
    found: set[int] = set()
    try:
        threads = os.listdir("/proc/self/task")
    except OSError:
        return found
    for tid in threads:
        try:
            with open(f"/proc/self/task/{tid}/children", encoding="ascii") as handle:
                found.update(int(pid) for pid in handle.read().split())
        except (OSError, ValueError):
            continue
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class StrayReaper:
    """This process as the subreaper of its trials' descendants (see the module docstring).

    :meth:`start` before the first trial starts (an executor that never runs one leaves the process
    as it was); :meth:`sweep` after attempts end, with the folders and pids of the attempts still
    running; :meth:`close` ends what is left and gives the subreaper setting back.
    """

    def __init__(self) -> None:
        self.active = False
        self._restore = False  # this reaper made the process a subreaper
        self._known: dict[int, str | None] = {}  # child pid -> its attempt folder (None: not a trial's)

    def start(self) -> None:
        """Make this process the subreaper of what it starts from now on (once; a no-op after)."""
        if self.active:
            return
        previous = set_child_subreaper(True)
        self.active = previous is not None
        self._restore = previous is False

    def sweep(self, running_dirs: set[str], attempt_pids: set[int]) -> int:
        """Kill and reap the adopted processes of attempts not in ``running_dirs``; returns how many.

        Repeats until none is left: a killed process's children become ours as it dies.
        """
        if not self.active:
            return 0
        ended = 0
        while True:
            children = _children() - attempt_pids
            for pid in [pid for pid in self._known if pid not in children]:
                del self._known[pid]  # gone (reaped by whoever waited for it)
            strays = []
            for pid in children:
                if pid not in self._known:
                    self._known[pid] = attempt_dir_of(pid)
                folder = self._known[pid]
                if folder is None:
                    continue
                if folder in running_dirs:
                    self._reap_if_exited(pid)
                else:
                    strays.append(pid)
            if not strays:
                return ended
            for pid in strays:
                _kill(pid)
            for pid in strays:
                self._wait(pid)
                self._known.pop(pid, None)
            logger.info("ended %d process(es) left behind by ended trials", len(strays))
            ended += len(strays)

    def _reap_if_exited(self, pid: int) -> None:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            self._known.pop(pid, None)

    @staticmethod
    def _wait(pid: int) -> None:
        while True:
            try:
                os.waitpid(pid, 0)
            except InterruptedError:
                continue
            except ChildProcessError:
                pass
            return

    def close(self) -> None:
        """End every adopted trial process (no attempt runs any more) and stop being a subreaper."""
        if not self.active:
            return
        self.sweep(set(), set())
        if self._restore:
            set_child_subreaper(False)
        self.active = False


def pids_in_window(pids: Iterable[int], first: int, last: int) -> list[int]:
    """The ``pids`` handed out from ``first`` to ``last``, both included, in the kernel's cyclic order.

    Without wraparound (``first <= last``) that is ``first..last``; after it, the pids from ``first``
    up to the top of the pid space and those from the bottom up to ``last``.

    >>> pids_in_window([5, 100, 32000, 32767], first=32000, last=100)
    [5, 100, 32000, 32767]
    >>> pids_in_window([5, 100, 32000, 32767], first=100, last=32000)
    [100, 32000]
    """
    if first <= last:
        return [pid for pid in pids if first <= pid <= last]
    return [pid for pid in pids if pid >= first or pid <= last]


def _newest_pid() -> int | None:
    try:
        with open(NS_LAST_PID, "rb") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return None


def end_processes_of(attempt_dir: str, since_pid: int | None = None) -> int:
    """Kill every process of this machine whose ``SWEEPLAB_ATTEMPT_DIR`` is ``attempt_dir``; returns how many.

    ``since_pid``: the attempt's own pid, when the pids cannot have gone round since it started (see
    :data:`NARROW_SCAN_SECONDS`): only the processes started after it are read. When few pids were handed
    out since (:data:`PROBE_WINDOW`), each is looked at directly, without listing ``/proc``.
    """
    me = os.getpid()
    newest = _newest_pid() if since_pid is not None else None
    pids: Iterable[int]
    if since_pid is not None and newest is not None and 0 <= newest - since_pid < PROBE_WINDOW:
        pids = range(since_pid + 1, newest + 1)  # (its own process is reaped by now)
    else:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
        if since_pid is not None and newest is not None:
            pids = pids_in_window(pids, since_pid, newest)
    ended = 0
    for pid in pids:
        if pid != me and attempt_dir_of(pid) == attempt_dir:
            _kill(pid)
            ended += 1
    if ended:
        logger.info("ended %d process(es) left behind by attempt %s", ended, attempt_dir)
    return ended
