"""A warm worker seen from the executor: its process, its requests socket and its answers pipe.

A worker is made fresh (an interpreter running :mod:`sweeplab.executors.warm_server`, which imports
the function) or as a clone of a live worker of the same function and setting: the executor hands
that worker a new socket and pipe, and the worker forks the clone once its import is done (see
:mod:`.warm_server` for the protocol and :mod:`.warm` for the pool that decides which).
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import threading
import time

from .attempt import signal_group
from .base import CLONE_REQUEST

__all__ = ["WarmWorker", "reap_unborn_clones"]


class _Adopted:
    """The process of a cloned worker (a grandchild of the worker it was cloned from, adopted by this
    process when it is a child subreaper, else by init): watched through a pidfd, since it may not be our
    child. Its pid is known once the clone says ``C PID``; until then it counts as alive."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self._pidfd: int | None = None
        self.returncode: int | None = None

    def attach(self, pid: int) -> None:
        if self.pid is not None:  # (said twice: by the clone and by the process that forked it)
            return
        self.pid = pid
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # gone already (and reaped by whoever adopted it)
            self.returncode = -signal.SIGKILL

    def poll(self) -> int | None:
        """None while it runs (or before it exists); its end once it is over."""
        if self.returncode is None and self._pidfd is not None and select.select([self._pidfd], [], [], 0)[0]:
            self._reaped()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for its end (nothing to wait for before it exists); TimeoutExpired as :mod:`subprocess` has it."""
        if self.returncode is None and self._pidfd is not None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"warm worker {self.pid}", timeout or 0)
            self._reaped()
        return self.returncode

    def _reaped(self) -> None:
        assert self.pid is not None and self._pidfd is not None
        try:  # our child when this process is a subreaper: reap it, or it stays a zombie
            _, status = os.waitpid(self.pid, os.WNOHANG)
            self.returncode = os.waitstatus_to_exitcode(status) if status else 0
        except ChildProcessError:
            self.returncode = 0
        os.close(self._pidfd)
        self._pidfd = None


#: clones closed before they existed, whose pid is still to come (see WarmWorker.close)
_UNBORN: list[WarmWorker] = []
_UNBORN_LOCK = threading.Lock()


def reap_unborn_clones(timeout: float = 0.0) -> int:
    """Reap the clones closed before they existed, once they have (or end their pipes if they never will),
    waiting up to ``timeout`` seconds in all; returns how many are still to come."""
    with _UNBORN_LOCK:
        waiting = list(_UNBORN)
        _UNBORN.clear()
    deadline = time.monotonic() + timeout
    left = [worker for worker in waiting if not worker.reap_unborn(max(0.0, deadline - time.monotonic()))]
    with _UNBORN_LOCK:
        _UNBORN.extend(left)
        return len(_UNBORN)


class WarmWorker:
    """One worker process, its requests socket and its answers pipe; runs one attempt at a time (see
    :mod:`.warm_server`). Made fresh (an interpreter that imports the function) or, with ``parent``, as a
    clone of a worker of the same function and setting (forked from it once its import is done)."""

    def __init__(self, python: str, function: str, cwd: str, env: dict[str, str], key: tuple[object, ...],
                 parent: WarmWorker | None = None) -> None:
        self.key = key
        self._requests, requests_there = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._answers, answers_there = os.pipe()
        self.process: subprocess.Popen[bytes] | _Adopted
        try:
            if parent is None:
                self.process = subprocess.Popen(
                    [python, "-m", "sweeplab.executors.warm_server", function, str(requests_there.fileno()),
                     str(answers_there)],
                    cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    start_new_session=True, pass_fds=(requests_there.fileno(), answers_there))
            else:
                self.process = _Adopted()
                parent.ask_clone(requests_there.fileno(), answers_there)
        except BaseException:
            self._requests.close()
            os.close(self._answers)
            raise
        finally:
            requests_there.close()
            os.close(answers_there)
        os.set_blocking(self._answers, False)
        self._buffer = b""
        self.ready = False       # the function is loaded (the server said R)
        self.problem: str | None = None  # why the function cannot be loaded (the server said P)
        self.lost = False        # the process ended or its pipe broke: never used again
        self.busy = False
        self._awaiting_pid = False  # closed before its pid came: in _UNBORN until it does

    def fileno(self) -> int:
        """The answers pipe: readable when the worker says something (or dies)."""
        return self._answers

    def ask_clone(self, requests_fd: int, answers_fd: int) -> None:
        """Ask this worker for a clone serving on these two descriptors (it forks it once its import is done)."""
        try:
            socket.send_fds(self._requests, [CLONE_REQUEST], [requests_fd, answers_fd])
        except OSError:  # this worker is gone: the clone's pipe, whose other end we close, reads as its end
            self.lost = True

    def send(self, request: dict[str, object]) -> None:
        """Hand the worker one attempt."""
        self.busy = True
        try:
            self._requests.sendall((json.dumps(request) + "\n").encode())
        except OSError:  # a broken pipe: the worker is gone; its end is read as end of file
            self.lost = True

    def messages(self, block: bool = False) -> list[list[str]]:
        """The complete lines the worker has written so far, split in words; ``["EOF"]`` once it is gone."""
        found: list[list[str]] = []
        while True:
            if block and b"\n" not in self._buffer:
                os.set_blocking(self._answers, True)
            try:
                chunk = os.read(self._answers, 65536)
            except BlockingIOError:
                chunk = None
            finally:
                if block:
                    os.set_blocking(self._answers, False)
            if chunk == b"":
                self.lost = True
            elif chunk:
                self._buffer += chunk
            while b"\n" in self._buffer:
                line, _, self._buffer = self._buffer.partition(b"\n")
                words = line.decode().split()
                if words == ["R"]:
                    self.ready = True
                elif words[:1] == ["P"]:
                    self.problem = json.loads(line[2:])
                elif words[:1] == ["C"] and isinstance(self.process, _Adopted):
                    self.process.attach(int(words[1]))
                else:
                    found.append(words)
            if self.lost:
                found.append(["EOF"])
                return found
            if not chunk or not block or found:
                return found

    def close(self, kill: bool = False) -> None:
        """Stop the worker: close its requests socket (it exits when idle) or kill it; reap it.

        A clone that does not exist yet cannot be killed: with its socket closed, it exits as soon as its
        parent forks it, without starting an attempt asked for before. Its answers pipe is kept open then,
        to learn its pid and reap it later (:func:`reap_unborn_clones`): else it would stay a zombie of this
        process, its subreaper, for as long as the process lives (a notebook's kernel, a Dask worker)."""
        self.lost = True
        self._requests.close()
        if self.process.pid is None:  # (only a clone's pid can be unknown)
            with _UNBORN_LOCK:
                if not self._awaiting_pid:  # (closed again: the attempt's kill, then the pool's give_back)
                    self._awaiting_pid = True
                    _UNBORN.append(self)
            return
        self._close_answers()
        if kill:
            signal_group(self.process.pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=None if kill else 5)
        except subprocess.TimeoutExpired:
            signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def _close_answers(self) -> None:
        if self._answers >= 0:
            os.close(self._answers)
            self._answers = -1

    def reap_unborn(self, timeout: float = 0.0) -> bool:
        """For a clone closed before it existed: read its pipe until its pid comes (then end and reap it) or
        the pipe ends (it never came to be), for up to ``timeout`` seconds. True when done with it."""
        deadline = time.monotonic() + timeout
        while self.process.pid is None and self._answers >= 0:
            if ["EOF"] in self.messages():  # (an attempt's words are of no interest now)
                break  # the pipe ended without a pid: no clone was made
            if self.process.pid is not None:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            select.select([self._answers], [], [], left)
        self._close_answers()
        if self.process.pid is not None:
            try:  # its requests socket is closed: it exits at once
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return True
