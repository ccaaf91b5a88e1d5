"""Command line of one experiment: ``python -m sweeplab.phenomenology --config X.json`` (also
``sweeplab experiment --config X.json``), the standard experiment runner of the lab's files.

``--config`` is any of the Season 3 lab's experiment files: one experiment, or the panopticon
orchestration file (subject and observer, run as one trial); see :mod:`.lab_format`. Names the
file keeps but nothing reads (an unknown intervention parameter, a mistyped custom belief) are
printed as one warning line each on stderr, with the likely intended name. Runs the experiment
into ``--db``, prints its metrics as one JSON object on the last line of stdout (and writes them
atomically to ``--metrics`` when given). A live view is shown when stdout is a terminal, unless
``--quiet``.

Exit codes: 0 completed; 1 failed; 2 invalid config or arguments (one message on stderr,
no traceback, nothing written); 143 ended by SIGTERM and 130 by SIGINT — the rows written
so far are committed and the experiment's status is ``interrupted``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from ..errors import UserError
from .minds.base import MindDied

if TYPE_CHECKING:
    from .db import ExperimentDatabase
    from .experiment import CycleSnapshot
    from .lab_format import LabConfig

__all__ = ["main", "build_parser", "write_metrics"]

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_SIGINT, EXIT_SIGTERM = 0, 1, 2, 130, 143


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (shared with ``sweeplab experiment``)."""
    parser = argparse.ArgumentParser(
        prog="python -m sweeplab.phenomenology",
        description="Run one 'mind in a jar' experiment and record it in an SQLite database.")
    parser.add_argument("--config", required=True,
                        help="experiment file in the lab's JSON format (one experiment or an orchestration file)")
    parser.add_argument("--db", default="logs/experiments.db", help="experiment database (default: %(default)s)")
    parser.add_argument("--metrics", help="also write the metrics JSON to this file")
    parser.add_argument("--quiet", action="store_true", help="no live view")
    parser.add_argument("--replace", action="store_true",
                        help="delete rows already stored for this experiment_id instead of refusing to run")
    parser.add_argument("--pace", type=float, default=0.0, metavar="SECONDS",
                        help="pause between cycles (to watch the live view)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log progress to stderr")
    return parser


def write_metrics(path: str | Path, metrics: dict[str, float]) -> None:
    """Write ``metrics`` as JSON to ``path`` atomically (temp file in the same folder, then rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(metrics, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Run the experiment named by ``argv``; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    from .db import ExperimentDatabase
    from .lab_format import load_experiment_file

    try:
        config = load_experiment_file(args.config)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if args.pace < 0:
        print(f"error: --pace must be 0 or more seconds, got {args.pace}", file=sys.stderr)
        return EXIT_INVALID
    try:
        db = ExperimentDatabase(args.db)
    except (sqlite3.Error, OSError) as exc:
        print(f"error: cannot open experiment database '{args.db}': {exc}", file=sys.stderr)
        return EXIT_FAILED
    with db:
        if db.experiment_exists(config.experiment_id):
            if not args.replace:
                print(f"error: experiment '{config.experiment_id}' already has rows in '{args.db}': "
                      "give the config a new experiment_id, or pass --replace to overwrite them", file=sys.stderr)
                return EXIT_INVALID
            db.delete_experiment(config.experiment_id)
        return _run(config, db, args)


def _end_as_the_mind_did(died: MindDied) -> int:
    """A mind killed by a signal ends the experiment by the same signal, once everything is written, so a
    sweep records the trial as crashed by it (the message on stderr says why); otherwise exit 1."""
    if died.signal_number is None:
        return EXIT_FAILED
    sys.stdout.flush()
    sys.stderr.flush()
    _soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))  # the reason is printed: no core file
    signal.signal(died.signal_number, signal.SIG_DFL)
    os.kill(os.getpid(), died.signal_number)
    return EXIT_FAILED  # a signal this process survives (ignored elsewhere)


def _run(config: LabConfig, db: ExperimentDatabase, args: argparse.Namespace) -> int:
    from .experiment import Experiment
    from .metrics import compute_metrics

    live = None
    if not args.quiet and sys.stdout.isatty():
        from .live import LiveView

        live = LiveView(config.experiment_id)

    def on_cycle(snapshot: CycleSnapshot) -> None:
        if live is not None:
            live.update(snapshot)
        if args.pace:
            time.sleep(args.pace)

    try:
        experiment = Experiment(config, db, on_cycle=on_cycle)
    except MindDied as exc:
        print(f"error: experiment '{config.experiment_id}': the mind could not start: {exc}", file=sys.stderr)
        return _end_as_the_mind_did(exc)
    received: list[int] = []
    died: MindDied | None = None

    def stop(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        experiment.request_stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if live is not None:
            with live:
                status = experiment.run()
        else:
            status = experiment.run()
    except MindDied as exc:  # recorded as failed; the cause is the mind's, not a bug of ours
        print(f"error: experiment '{experiment.eid}' failed at cycle {experiment.jar.cycle}: {exc}",
              file=sys.stderr)
        status, died = "failed", exc
    except Exception:
        log.exception("experiment %s failed", experiment.eid)
        status = "failed"
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    metrics = compute_metrics(db, experiment.config)  # the lead mind's config (an orchestration's subject)
    if args.metrics:
        write_metrics(args.metrics, metrics)
    print(json.dumps(metrics, sort_keys=True), flush=True)
    if died is not None:
        return _end_as_the_mind_did(died)
    if status == "completed":
        return EXIT_OK
    if status == "interrupted":
        return EXIT_SIGINT if received and received[-1] == signal.SIGINT else EXIT_SIGTERM
    return EXIT_FAILED
