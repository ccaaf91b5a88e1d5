"""A warm worker's process: load a python-runner function once, then fork one process per attempt.

``python -m sweeplab.executors.warm_server FUNCTION REQUESTS_FD ANSWERS_FD`` (started by
:mod:`sweeplab.executors.warm`, never by hand). The worker loads ``FUNCTION`` (importing its module, or
unpickling it) and says ``R``; then it reads one request at a time from the descriptor ``REQUESTS_FD`` and
answers on ``ANSWERS_FD``, one line each:

* request (JSON): ``{"argv": [CONFIG, TRIAL_DIR, SEED, EXPERIMENT_ID, ATTEMPT], "env": {...}, "cwd": ...,
  "dir": ATTEMPT_DIR, "memory": BYTES | null}``;
* answers: ``P PROBLEM`` (JSON text) if the function cannot be loaded, then ``R``; ``S PID`` once the
  attempt's process exists, ``E PID CODE`` once it ended and was reaped (``CODE`` as :mod:`subprocess`
  gives it: negative for a signal).

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

import atexit
import json
import os
import resource
import selectors
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

from ..runners._trial_call import FunctionUnusable, load_function, run_trial
from .base import STDERR_NAME, STDOUT_NAME

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


class _Lines:
    """Lines from a descriptor, read without a buffered file (the selector must see what is unread)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def next(self) -> bytes | None:
        """The next complete line, reading as needed; None at end of file."""
        while b"\n" not in self.buffer:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line


def _answer(fd: int, text: str) -> None:
    os.write(fd, (text + "\n").encode())


def _end_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _serve(function: Callable[..., Any] | None, problem: str | None, requests_fd: int, answers_fd: int) -> int:
    requests = _Lines(requests_fd)
    selector = selectors.DefaultSelector()
    selector.register(requests_fd, selectors.EVENT_READ)
    while True:
        line = requests.next()
        if line is None:
            return 0  # the executor is gone and nothing runs
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            os._exit(_run_child(request, function, problem))
        _answer(answers_fd, f"S {pid}")
        pidfd = os.pidfd_open(pid)
        selector.register(pidfd, selectors.EVENT_READ)
        orphaned = False
        while True:
            ready = {key.fd for key, _ in selector.select()}
            if pidfd in ready:
                break
            if requests_fd in ready:
                chunk = os.read(requests_fd, 65536)
                if not chunk:  # the executor died: its attempt must not run on unwatched
                    orphaned = True
                    _end_group(pid)
                    break
                requests.buffer += chunk
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
        _answer(answers_fd, "P " + json.dumps(problem))  # one line: the fail-fast check reads it
    _answer(answers_fd, "R")
    return _serve(function, problem, requests_fd, answers_fd)


if __name__ == "__main__":
    # The executor is gone and no attempt runs: exit at once. Tearing down what the module imported
    # (scikit-learn: most of a second) would only hold the coordinator's shutdown, which reaps us.
    os._exit(main())
