"""The process that holds llama.cpp for a :class:`~.llama.LlamaMind`.

llama.cpp is native code: an instruction the CPU cannot run (a build for another machine), a
failed allocation or a bug ends the process it runs in, with no Python exception to catch. So
the model lives in a child process of the experiment, and the experiment survives its death
and records it (:class:`MindHostDied`): a trial's coordinator, a test run and ``sweeplab
experiment`` are never taken down by the model.

The two processes talk over a socket pair with :class:`multiprocessing.connection.Connection`
(pickled ``(operation, arguments)`` requests, ``("ok", value)`` or ``("error", text)``
answers). The host is started with ``sys.executable -m`` this module and the socket's file
descriptor; it stays in the trial's process group, so the engine's timeout, memory watchdog
and cancel reach it, and it ignores SIGINT and SIGTERM: the experiment decides when to stop
(it ends a run between cycles) and closes the socket, which ends the host.
"""

from __future__ import annotations

import ctypes
import logging
import resource
import signal
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from typing import Any

from .base import MindDied

__all__ = ["MindHost", "MindHostDied", "describe_death"]

log = logging.getLogger(__name__)

#: ggml's log levels: 0 none, 1 debug, 2 info, 3 warn, 4 error, 5 continuation
GGML_LOG_ERROR = 4
#: how long a host that lost its experiment may take to notice (seconds)
_CLOSE_WAIT = 5.0

PORTABLE_BUILD = ('CMAKE_ARGS="$(sh scripts/llama_cmake_args.sh)" pip install --no-cache-dir --force-reinstall '
                  "--no-deps llama-cpp-python")


class MindHostDied(MindDied):
    """The process running the model ended without answering (a native crash or a kill)."""


def describe_death(returncode: int | None) -> tuple[str, int | None]:
    """What ended the host, in words, and the signal (None when it exited or is still running)."""
    if returncode is None:
        return "stopped answering", None
    if returncode >= 0:
        return f"exited with code {returncode}", None
    number = -returncode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    words = f"was killed by {name}"
    if number == signal.SIGILL:
        words += (" (illegal instruction: this llama-cpp-python was built for another CPU, e.g. with AMX "
                  f"or AVX-512 code; reinstall the portable build from the project folder: {PORTABLE_BUILD})")
    elif number == signal.SIGKILL:
        words += " (out of memory, a memory limit, or a kill from outside)"
    return words, number


class MindHost:
    """The parent's handle on a host process: start it, call it, end it."""

    def __init__(self) -> None:
        parent, child = socket.socketpair()
        try:
            # the host's stdout joins stderr: an experiment's stdout carries its metrics
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(child.fileno())], pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL, stdout=sys.__stderr__ or subprocess.DEVNULL)
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        self._conn = Connection(parent.detach())

    @property
    def pid(self) -> int:
        return self.process.pid

    def call(self, operation: str, *arguments: Any) -> Any:
        """Run ``operation`` in the host; its Python errors come back as RuntimeError, its death as
        :class:`MindHostDied`."""
        try:
            self._conn.send((operation, arguments))
            answer, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise self._died() from exc
        if answer == "error":
            raise RuntimeError(f"llama.cpp ({operation}): {value}")
        return value

    def _died(self) -> MindHostDied:
        try:
            returncode = self.process.wait(timeout=_CLOSE_WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            returncode = self.process.wait()
        words, number = describe_death(returncode)
        return MindHostDied(f"the language model's process {words}", number)

    def close(self) -> None:
        """End the host (closing the socket ends its loop); kill it if it does not go."""
        try:
            self._conn.close()
        except OSError:
            pass
        if self.process.poll() is None:
            try:
                self.process.wait(timeout=_CLOSE_WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the host's side ------------------------------------------------------------------------


class _Model:
    """The operations the host serves on one llama.cpp model."""

    def __init__(self) -> None:
        import llama_cpp

        self.llama_cpp = llama_cpp
        self.llm: Any = None
        self._route_native_log()

    def _route_native_log(self) -> None:
        """llama.cpp's own log lines go to the logger (errors as errors), not to the trial's stderr."""
        llama_cpp = self.llama_cpp

        @llama_cpp.llama_log_callback
        def forward(level: int, text: bytes, _user_data: Any) -> None:
            message = text.decode("utf-8", "replace").rstrip()
            if message:
                log.log(logging.ERROR if level == GGML_LOG_ERROR else logging.DEBUG, "llama.cpp: %s", message)

        self._log_callback = forward  # kept referenced while llama.cpp may call it
        llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))

    def load(self, file: str, n_ctx: int, threads: int, gpu_layers: int, seed: int) -> dict[str, str]:
        self.close()
        self.llm = self.llama_cpp.Llama(model_path=file, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                                        n_gpu_layers=gpu_layers, seed=seed, verbose=False)
        return dict(self.llm.metadata or {})

    def set_threads(self, threads: int) -> None:
        self.llama_cpp.llama_set_n_threads(self.llm.ctx, threads, threads)

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)) for text in texts]

    def tail(self, text: str, keep: int) -> str:
        ids = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)[-keep:]
        return self.llm.detokenize(ids).decode("utf-8", "replace")

    def chat(self, messages: list[dict[str, str]], max_tokens: int, temperature: float,
             seed: int) -> tuple[str, dict[str, int]]:
        out = self.llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=temperature,
                                              seed=seed)
        return out["choices"][0]["message"].get("content") or "", dict(out.get("usage") or {})

    def complete(self, prompt: str, max_tokens: int, temperature: float, seed: int,
                 stop: list[str]) -> tuple[str, dict[str, int]]:
        out = self.llm.create_completion(prompt=prompt, max_tokens=max_tokens, temperature=temperature, seed=seed,
                                         stop=stop)
        return out["choices"][0]["text"] or "", dict(out.get("usage") or {})

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None


def serve(conn: Connection) -> None:
    """Answer requests until the experiment closes the connection."""
    model = _Model()
    while True:
        try:
            operation, arguments = conn.recv()
        except (EOFError, OSError):
            break
        try:
            value = getattr(model, operation)(*arguments)
        except Exception as exc:  # a Python-level failure goes back to the caller
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("ok", value))
    model.close()


def _main(argv: list[str]) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    # a native crash here is reported by the parent: no core file in the trial's folder
    _soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    serve(Connection(int(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
