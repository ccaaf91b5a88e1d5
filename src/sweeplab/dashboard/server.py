"""Serving the dashboard: where it may listen, its token, the uvicorn server, and a dashboard
in a child process beside a running sweep (``sweeplab run --dashboard``).

The dashboard listens on 127.0.0.1 unless told otherwise. Any other address is reachable by
others, so it needs a token (given, or ``--token auto`` to have one generated); without one the
dashboard refuses to start. The socket is bound here, before the server starts, so a port in
use is one clear message and ``--port 0`` takes a free port whose number is then known.

Beside a sweep the dashboard runs in a child process (``python -m sweeplab dashboard``): its
reading and rendering then share nothing with the coordinator's process, which dispatches as
fast with it as without it.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..errors import UserError

__all__ = ["DashboardError", "is_loopback", "check_host", "check_token", "bind", "serve", "BackgroundDashboard",
           "MIN_TOKEN_LENGTH", "EXTRA_MODULES"]

log = logging.getLogger(__name__)

MIN_TOKEN_LENGTH = 16
#: seconds a dashboard beside a sweep keeps serving after pushing the sweep's end to open pages
LINGER = 0.5
#: what the [dashboard] extra installs, by module name
EXTRA_MODULES = ("starlette", "uvicorn", "sse_starlette", "plotly")


class DashboardError(UserError):
    """The dashboard cannot start as asked (address, port, token, a missing extra)."""


def check_extra() -> None:
    """Refuse to start when the ``[dashboard]`` extra is not installed."""
    import importlib.util

    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise DashboardError(f"the dashboard needs {', '.join(missing)}: install them with "
                             "pip install 'sweeplab[dashboard]'")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1 or 'localhost')."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str) -> None:
    """Refuse a ``--host`` that names no address (before the token rules speak of it)."""
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise DashboardError(f"--host {host} is not an address of this machine ({getattr(exc, 'strerror', exc)}): "
                             "give an IP address such as 127.0.0.1") from None


def check_token(host: str, token: str | None) -> str | None:
    """The token the dashboard will require (None: none), or a refusal.

    ``token`` 'auto' generates one. A non-loopback ``host`` without a token is refused: anyone
    who can reach the address would read the sweeps.
    """
    if token == "auto":
        return secrets.token_urlsafe(24)
    if token is not None:
        if len(token) < MIN_TOKEN_LENGTH or not token.isprintable() or any(c in token for c in " ;,\"\\"):
            raise DashboardError(f"--token must be at least {MIN_TOKEN_LENGTH} printable characters without spaces, "
                                 "quotes, commas, semicolons or backslashes: give a longer one, or --token auto to "
                                 "have one generated")
        return token
    if not is_loopback(host):
        raise DashboardError(f"--host {host} is reachable from other machines, so the dashboard needs a token: add "
                             "--token auto (one is generated and printed) or --token SECRET, or leave --host out "
                             "to listen on 127.0.0.1 only")
    return None


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    if not 0 <= port <= 65535:
        raise DashboardError(f"--port {port} is not a port: give a number from 1 to 65535 (0: any free port)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise DashboardError(f"--host {host} is not an address of this machine ({exc.strerror}): give an IP "
                             "address such as 127.0.0.1") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise DashboardError(f"port {port} on {host} is in use: choose another with --port "
                                 "(--port 0 takes a free one)") from None
        raise DashboardError(f"cannot listen on {host}:{port}: {exc.strerror or exc}: choose another --host "
                             "or --port") from None
    sock.set_inheritable(False)
    return sock


def address_of(sock: socket.socket, token: str | None = None) -> str:
    """The address to open in a browser (with ``?token=`` when there is one)."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(sock: socket.socket, sweep_dir: Path, db_path: Path, *, token: str | None = None,
          interval: float = 0.5) -> None:
    """Serve the dashboard on ``sock`` until interrupted (SIGINT or SIGTERM)."""
    import uvicorn

    from .app import create_app

    app = create_app(sweep_dir, db_path, token=token, interval=interval)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=1)
    uvicorn.Server(config).run(sockets=[sock])


class BackgroundDashboard:
    """``sweeplab dashboard`` in a child process on 127.0.0.1, for the time of a sweep.

    ``start()`` returns once the child listens (its first line of output is the address);
    ``stop()`` ends it. Its errors (a port in use) go to this process's stderr.
    """

    def __init__(self, sweep_dir: Path, db_path: Path, port: int, *, sweep_id: str | None = None,
                 start_timeout: float = 30.0) -> None:
        self.argv = [sys.executable, "-m", "sweeplab", "dashboard", "--port", str(port),
                     "--db", str(Path(db_path).resolve()), "--sweep-dir", str(Path(sweep_dir).resolve())]
        self.sweep_id = sweep_id
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[str] | None = None
        self.address = ""

    def start(self) -> str:
        """Start the child and return the address it serves."""
        check_extra()
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                        start_new_session=True)  # a Ctrl-C reaches the sweep; we end it
        stdout = self.process.stdout
        if stdout is None:  # pragma: no cover - Popen was given stdout=PIPE
            raise DashboardError("the dashboard's output cannot be read")
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + self.start_timeout
            line = ""
            while not line and time.monotonic() < deadline and self.process.poll() is None:
                if selector.select(timeout=0.2):
                    line = stdout.readline()
        if "http://" not in line:
            self.stop()
            raise DashboardError("the dashboard did not start (its message is above): choose another "
                                 "--dashboard-port, or run without --dashboard")
        self.address = line[line.index("http://"):].strip()
        return self.address

    def _push_final_state(self) -> None:
        """Have the dashboard read the journal once more, so open pages get the sweep's end before it stops.

        Asking for the sweep's JSON rebuilds it when the journal changed and pushes it to every
        page showing it; the short wait after lets those writes leave before the server ends.
        """
        import urllib.request

        paths = ["api/sweeps"] + ([f"api/sweeps/{self.sweep_id}"] if self.sweep_id else [])
        try:
            for path in paths:
                with urllib.request.urlopen(self.address + path, timeout=5) as answer:
                    answer.read()
        except OSError as exc:
            log.warning("the dashboard did not answer before stopping: %s", exc)
            return
        time.sleep(LINGER)

    def stop(self) -> None:
        """Push the final state to open pages, then end the child (SIGTERM, then SIGKILL after 5 s)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if self.address:
            self._push_final_state()
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass
        finally:
            if process.stdout is not None:
                process.stdout.close()

    def __enter__(self) -> BackgroundDashboard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
