"""``sweeplab dashboard``: serve the live view of the sweeps in a folder and a database."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from .server import DashboardError, address_of, bind, check_extra, check_host, check_token, serve

__all__ = ["dashboard_main", "dashboard_parser"]


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or not 0.1 <= value <= 60:
        raise argparse.ArgumentTypeError(f"expected seconds from 0.1 to 60, got {text!r}")
    return value


def dashboard_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sweeplab dashboard",
        description="Serve a live web view of the sweeps: an index, a page per sweep (progress, ETA, running "
                    "trials, failures, the plan, plots that update as trials finish) and a page per trial. "
                    "It only reads the journal.",
        epilog="Example: sweeplab dashboard --port 8765, then open http://127.0.0.1:8765/",
    )
    parser.add_argument("--port", type=int, default=8765, help="the port (default 8765; 0 takes a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1; any other needs --token)")
    parser.add_argument("--token", metavar="SECRET|auto",
                        help="require this token on every request ('auto' generates one); needed for a --host "
                             "other than 127.0.0.1")
    parser.add_argument("--db", default="logs/experiments.db", metavar="PATH",
                        help="the SQLite database (default logs/experiments.db)")
    parser.add_argument("--sweep-dir", default="logs/sweeps", metavar="DIR",
                        help="folder of the sweep folders (default logs/sweeps)")
    parser.add_argument("--interval", type=_interval, default=0.5, metavar="SECONDS",
                        help="how often the journal is checked for changes (default 0.5)")
    return parser


def dashboard_main(argv: list[str]) -> int:
    """``sweeplab dashboard``: serve until Ctrl-C."""
    args = dashboard_parser().parse_args(argv)
    check_extra()
    check_host(args.host)
    token = check_token(args.host, args.token)
    db_path, sweep_dir = Path(args.db), Path(args.sweep_dir)
    if db_path.exists() and not db_path.is_file():
        raise DashboardError(f"--db '{db_path}' is not a file: give the sweeps' SQLite database "
                             "(default logs/experiments.db)")
    if sweep_dir.exists() and not sweep_dir.is_dir():
        raise DashboardError(f"--sweep-dir '{sweep_dir}' is not a folder: give the folder of the sweep folders "
                             "(default logs/sweeps)")
    sock = bind(args.host, args.port)
    # the first line is the address: 'sweeplab run --dashboard' reads it from this process
    print(f"sweeplab dashboard: serving {address_of(sock, token)}", flush=True)
    if token is not None:
        print(f"sweeplab dashboard: every request needs the token {token} (the address above carries it)",
              file=sys.stderr, flush=True)
    try:
        serve(sock, sweep_dir, db_path, token=token, interval=args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0
