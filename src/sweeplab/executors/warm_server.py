"""A warm worker's process: load a python-runner function once, then fork one process per attempt.

``python -m sweeplab.executors.warm_server FUNCTION REQUESTS_FD ANSWERS_FD`` (started by
:mod:`sweeplab.executors.warm`, never by hand). The worker loads ``FUNCTION`` (importing its module, or
unpickling it) and says ``R``; then it reads one request at a time from ``REQUESTS_FD`` (a Unix stream
socket) and answers on ``ANSWERS_FD`` (a pipe), one line each:

* an attempt (JSON): ``{"argv": [CONFIG, TRIAL_DIR, SEED, EXPERIMENT_ID, ATTEMPT], "env": {...}, "cwd": ...,
  "dir": ATTEMPT_DIR, "memory": BYTES | null}``;
* a clone: ``{"clone": true}``, sent with two descriptors (a requests socket and an answers pipe for the
  new worker): the worker forks a sibling that has the function loaded already and serves on those two;
* answers: ``P PROBLEM`` (JSON text) if the function cannot be loaded, then ``R``; ``S PID`` once the
  attempt's process exists, ``E PID CODE`` once it ended and was reaped (``CODE`` as :mod:`subprocess`
  gives it: negative for a signal). A clone's pid comes on its own pipe as ``C PID``, said by the clone and
by the process that forked it (so it is known even of a clone that dies at once; the line may come twice).

A clone is how the pool gets a second worker for the same function without a second import (one import
of scikit-learn is a second and a half of CPU): the worker forks twice, so that the clone's parent is the
executor (a child subreaper) once the middle process exits, and the clone leads a session of its own as a
fresh worker does. A clone request is served at once, even while an attempt runs; the new worker starts
from the state the worker had after its import, as every attempt does.

The worker exits with ``os._exit`` when the executor goes away: the module's own exit handlers do not
run in the worker (they run in each attempt's process, at its end).

The attempt's process is a child forked from the worker after the import: it leads a session and
process group of its own (the executor signals that group for a timeout, a cancel or the memory
watchdog, as for any trial), writes ``stdout.txt``/``stderr.txt`` of its attempt folder, runs in the
launch's working folder with the launch's environment and memory limit, and exits with the code a
fresh ``python -m sweeplab.runners._trial_call`` would. Nothing it changes (globals, working folder,
environment) reaches the worker or the next attempt. When the executor goes away (the request pipe
closes, even by ``kill -9``), the worker kills its attempt's process group and exits.

The worker itself stays single-threaded: forking a process that runs threads is unsafe.
"""

from __future__ import annotations

import array
import atexit
import json
import os
import resource
import selectors
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from typing import Any

from ..runners._trial_call import FunctionUnusable, load_function, run_trial
from .base import CLONE_REQUEST, STDERR_NAME, STDOUT_NAME

_OUT_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
_RESET_SIGNALS = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name))


def _exit_code(exc: SystemExit) -> int:
    """The exit code Python gives ``raise SystemExit(code)`` (text is printed, and is 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _become_trial(request: dict[str, Any]) -> None:
    """In the forked child: the trial's session, files, folder, environment and limits."""
    os.setsid()
    folder = request["dir"]
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        out = os.open(os.path.join(folder, STDOUT_NAME), _OUT_FLAGS, 0o644)
    except FileNotFoundError:  # the coordinator normally made the folder
        os.makedirs(folder, exist_ok=True)
        out = os.open(os.path.join(folder, STDOUT_NAME), _OUT_FLAGS, 0o644)
    err = os.open(os.path.join(folder, STDERR_NAME), _OUT_FLAGS, 0o644)
    for source, target in ((null, 0), (out, 1), (err, 2)):
        os.dup2(source, target)
    os.closerange(3, 1 << 16)  # the worker's pipes and anything else: the trial starts clean, as a fresh process
    for number in _RESET_SIGNALS:
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.chdir(request["cwd"])
    os.environ.update(request["env"])
    memory = request.get("memory")
    if memory:
        for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            _, hard = resource.getrlimit(which)
            cap = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
            resource.setrlimit(which, (cap, cap))
    # Python's random reseeds itself in a forked child; NumPy's global generator does not: without this,
    # every trial would draw the same "random" numbers, where fresh processes each draw their own
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


def _run_child(request: dict[str, Any], function: Callable[..., Any] | None, problem: str | None) -> int:
    code = 1
    try:
        _become_trial(request)
        if function is None:
            print(f"sweeplab: {problem}", file=sys.stderr)
            code = 2
        else:
            code = run_trial(function, request["argv"])
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt:
        traceback.print_exc()
        code = 128 + signal.SIGINT
    except BaseException:  # noqa: BLE001 - whatever happens, the child never returns into the worker's loop
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()  # what the trial registered runs, as at a fresh process's exit
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001
        pass
    return code


#: room for the descriptors of up to 128 clone requests read at once
_FDS_SPACE = socket.CMSG_SPACE(256 * array.array("i").itemsize)


class _Requests:
    """Request lines from the executor's socket, read without a buffered file (the selector must see what
    is unread), with the descriptors that clone requests carry."""

    def __init__(self, fd: int) -> None:
        self.socket = socket.socket(fileno=fd)
        self.buffer = b""
        self.fds: list[int] = []  # received with clone requests, in order, not yet used
        self.ended = False  # end of file: the executor is gone

    def fill(self, block: bool = True) -> bool:
        """Read what is there (waiting for something if ``block``); False once the executor is gone."""
        if self.ended:
            return False
        try:  # (socket.recv_fds would drop the flags)
            data, ancillary, _, _ = self.socket.recvmsg(65536, _FDS_SPACE, 0 if block else socket.MSG_DONTWAIT)
        except BlockingIOError:
            return True
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
                self.fds.extend(fds)
        if not data:
            self.ended = True
            return False
        self.buffer += data
        return True

    def next(self) -> bytes | None:
        """The next complete line, reading as needed; None at end of file."""
        while b"\n" not in self.buffer:
            if not self.fill():
                return None
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def clone_requests(self) -> int:
        """Take the clone requests at the head of the buffer; how many there were."""
        count = 0
        while self.buffer.startswith(CLONE_REQUEST):
            self.buffer = self.buffer[len(CLONE_REQUEST):]
            count += 1
        return count

    def take_fds(self) -> tuple[int, int]:
        """The two descriptors of the oldest clone request."""
        requests, answers = self.fds[:2]
        del self.fds[:2]
        return requests, answers


def _answer(fd: int, text: str) -> None:
    os.write(fd, (text + "\n").encode())


def _end_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _close_all_but(keep: tuple[int, ...]) -> None:
    """Close every descriptor from 3 up except ``keep``."""
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def _clone(function: Callable[..., Any] | None, problem: str | None, fds: tuple[int, int]) -> None:
    """Fork a new worker serving on ``fds``; it is orphaned at once, so the executor (a subreaper) adopts it."""
    requests_fd, answers_fd = fds
    try:
        middle = os.fork()
    except OSError:  # no process to be had: the executor reads the end of the clone's pipe, and replaces it
        os.close(requests_fd)
        os.close(answers_fd)
        return
    if middle == 0:
        code = 0
        try:
            clone = os.fork()
            if clone == 0:
                code = 1
                os.setsid()
                _close_all_but(fds)
                _answer(answers_fd, f"C {os.getpid()}")
                code = _start(function, problem, requests_fd, answers_fd)
            else:  # said here too, so that the executor can reap a clone that dies before it says it
                _answer(answers_fd, f"C {clone}")
        finally:
            os._exit(code)
    os.close(requests_fd)
    os.close(answers_fd)
    os.waitpid(middle, 0)


def _serve_clones(requests: _Requests, function: Callable[..., Any] | None, problem: str | None) -> None:
    for _ in range(requests.clone_requests()):
        _clone(function, problem, requests.take_fds())


def _serve(function: Callable[..., Any] | None, problem: str | None, requests_fd: int, answers_fd: int) -> int:
    requests = _Requests(requests_fd)
    selector = selectors.DefaultSelector()
    selector.register(requests_fd, selectors.EVENT_READ)
    while True:
        line = requests.next()
        if line is None:
            return 0  # the executor is gone and nothing runs
        if line + b"\n" == CLONE_REQUEST:
            _clone(function, problem, requests.take_fds())
            continue
        # an attempt asked for by an executor that is gone (it died, or gave up on this worker while it
        # was importing) is not started
        if not requests.fill(block=False):
            return 0
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            os._exit(_run_child(request, function, problem))
        _answer(answers_fd, f"S {pid}")
        pidfd = os.pidfd_open(pid)
        selector.register(pidfd, selectors.EVENT_READ)
        orphaned = False
        while True:
            _serve_clones(requests, function, problem)  # a new worker waits for no attempt
            ready = {key.fd for key, _ in selector.select()}
            if pidfd in ready:
                break
            if requests_fd in ready and not requests.fill():  # the executor died: its attempt must not run on
                orphaned = True
                _end_group(pid)
                break
        selector.unregister(pidfd)
        os.close(pidfd)
        # the attempt's main process has ended (or was killed): end what is left of its group while the
        # leader, not yet reaped, still holds the group's number, then reap it
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        _end_group(pid)
        _, status = os.waitpid(pid, 0)
        if orphaned:
            return 0
        _answer(answers_fd, f"E {pid} {os.waitstatus_to_exitcode(status)}")


def _start(function: Callable[..., Any] | None, problem: str | None, requests_fd: int, answers_fd: int) -> int:
    """Say whether the function is usable (``P``, then ``R``) and serve until the executor goes away."""
    if problem is not None:
        _answer(answers_fd, "P " + json.dumps(problem))  # one line: the fail-fast check reads it
    _answer(answers_fd, "R")
    return _serve(function, problem, requests_fd, answers_fd)


def main(argv: list[str] | None = None) -> int:
    """Load the function named in ``argv``, say ``R``, and serve attempts until the executor goes away."""
    args = sys.argv[1:] if argv is None else argv
    requests_fd, answers_fd = int(args[1]), int(args[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator decides what ends; its Ctrl-C is not ours
    function: Callable[..., Any] | None = None
    problem: str | None = None
    try:
        function = load_function(args[0])
    except FunctionUnusable as exc:
        problem = str(exc)  # every attempt reports it and exits 2, as a fresh process would
    return _start(function, problem, requests_fd, answers_fd)


if __name__ == "__main__":
    # The executor is gone and no attempt runs: exit at once. Tearing down what the module imported
    # (scikit-learn: most of a second) would only hold the coordinator's shutdown, which reaps us.
    os._exit(main())
