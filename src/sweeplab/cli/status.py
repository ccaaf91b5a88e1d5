"""``sweeplab status`` and ``sweeplab list``: what the journal says about sweeps, read-only."""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
from pathlib import Path
from typing import Any

from ..errors import JournalError, SweepNotFoundError
from ..journal.reader import DROPPED, JournalReader
from ..journal.storage import StorageError, check_database

__all__ = ["status_main", "list_main"]


def _sweep_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if (p / "sweep_config.json").is_file()),
                  key=lambda p: (p / "sweep_config.json").stat().st_mtime)


def _read_config(folder: Path) -> dict[str, Any]:
    """The folder's ``sweep_config.json`` as a dict; empty when it cannot be read."""
    try:
        config = json.loads((folder / "sweep_config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def _coordinator_gone(folder: Path) -> bool:
    """True when the lock file names a coordinator on this host that no longer runs.

    Only reads the lock file (taking the lock, even briefly, could make a starting resume fail).
    """
    # imported here: that module imports pydantic, and only a running sweep's state needs the name
    from ..engine.folder import LOCK_NAME

    try:
        fields = dict(part.split("=", 1) for part in (folder / LOCK_NAME).read_text().split() if "=" in part)
        pid = int(fields["pid"])
    except (OSError, ValueError, KeyError):
        return False
    if fields.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _state(info: dict[str, Any], folder: Path) -> str:
    """The journal's sweep state, except that a 'running' sweep whose coordinator died is 'stopped'."""
    if info["state"] == "running" and _coordinator_gone(folder):
        return "stopped"
    return info["state"]


def _db_of(config: dict[str, Any]) -> Path:
    return Path(config.get("db_path_resolved") or config.get("db_path") or "logs/experiments.db")


def _summary(reader: JournalReader, sweep_id: str) -> dict[str, Any]:
    durations = reader.duration_summary(sweep_id)
    sweep = reader.sweep(sweep_id)
    return {"counts": reader.counts(sweep_id), "mean_duration": durations.mean_duration,
            "state": sweep["status"] if sweep else "unknown", "total": sweep["total_trials"] if sweep else None,
            "updated": sweep["updated_at"] if sweep else None, "errors": reader.last_errors(sweep_id, 5)}


def _missing(sweep_id: str, root: Path) -> SweepNotFoundError:
    existing = ", ".join(p.name for p in _sweep_folders(root)) or "none"
    return SweepNotFoundError(f"sweep '{sweep_id}' not found in '{root}' (sweeps there: {existing}); "
                              "give --sweep-dir if it lives elsewhere")


def status_main(argv: list[str]) -> int:
    """Counts by status, mean duration, ETA and the last errors of one sweep (default: the newest)."""
    parser = argparse.ArgumentParser(prog="sweeplab status",
                                     description="Show how far a sweep got: counts by status, durations, ETA, "
                                                 "last errors. Without an id, the most recent sweep.")
    parser.add_argument("sweep_id", nargs="?")
    parser.add_argument("--sweep-dir", "--output", dest="sweep_dir", default="logs/sweeps", metavar="DIR")
    args = parser.parse_args(argv)
    # imported after parsing: --help and argument errors need no rich
    from rich.table import Table

    from ..console.screen import Screen, format_duration

    root = Path(args.sweep_dir)
    if args.sweep_id:
        folder = root / args.sweep_id
        if not (folder / "sweep_config.json").is_file():
            raise _missing(args.sweep_id, root)
    else:
        folders = _sweep_folders(root)
        if not folders:
            raise SweepNotFoundError(f"no sweeps in '{root}': run one with 'sweeplab run', or give --sweep-dir")
        folder = folders[-1]
    config = _read_config(folder)
    if not config:
        raise StorageError(f"'{folder / 'sweep_config.json'}' cannot be read as a sweep's stored config: restore it, "
                           f"or run 'sweeplab resume {folder.name} --sweep-dir {root}', which writes it again from "
                           "the sweep's database")
    sweep_id = folder.name
    db = _db_of(config)
    if not db.is_file():
        raise SweepNotFoundError(f"the database of sweep '{sweep_id}' ('{db}') does not exist")
    check_database(db)
    try:
        with JournalReader.open(db) as reader:
            info = _summary(reader, sweep_id)
    except JournalError as exc:
        raise StorageError(f"the database of sweep '{sweep_id}' cannot be read: {exc}. Restore it from a backup") from None
    screen = Screen()
    total = info["total"] or config.get("total_experiments") or 0
    counts = info["counts"]
    completed = counts.get("completed", 0)
    dropped = counts.pop(DROPPED, 0)  # left out of the plan by a resume with --allow-drift
    never = max(0, total - sum(counts.values()))
    table = Table(show_edge=False, box=None, padding=(0, 2))
    table.add_column("status")
    table.add_column("trials", justify="right")
    for status in ("completed", "running", "pending", "failed", "timeout", "crashed", "cancelled"):
        if counts.get(status):
            table.add_row(status, str(counts[status]))
    if never:
        table.add_row("not started", str(never))
    if dropped:
        table.add_row("dropped (no longer in the plan)", str(dropped))
    state = _state(info, folder)
    screen.console.print(f"Sweep {sweep_id}: {state}, {completed}/{total} completed "
                         f"(last update {info['updated']})", markup=False)
    if state == "stopped":
        screen.console.print(f"  its coordinator is gone: continue with 'sweeplab resume {sweep_id} "
                             f"--sweep-dir {root}'", markup=False)
    screen.console.print(table)
    mean = info["mean_duration"]
    slots = config.get("parallel_jobs")
    slots = slots if isinstance(slots, int) else 1
    remaining = total - completed
    eta = math.ceil(remaining / slots) * mean if mean is not None and remaining else (0.0 if not remaining else None)
    screen.console.print(f"  mean trial duration {format_duration(mean)}; ETA for the {remaining} remaining "
                         f"at {slots} at once: {format_duration(eta)}", markup=False)
    for experiment_id, attempt, status, tail in info["errors"]:
        last = (tail or "").strip().splitlines()[-1:] or [""]
        screen.console.print(f"  {status}: {experiment_id} attempt {attempt}: {last[0][:200]}", markup=False)
    return 0


def list_main(argv: list[str]) -> int:
    """Every sweep in the sweep folder with its progress."""
    parser = argparse.ArgumentParser(prog="sweeplab list", description="List the sweeps in a folder.")
    parser.add_argument("--sweep-dir", "--output", dest="sweep_dir", default="logs/sweeps", metavar="DIR")
    args = parser.parse_args(argv)
    # imported after parsing: --help and argument errors need no rich
    from rich.table import Table

    from ..console.screen import Screen

    root = Path(args.sweep_dir)
    folders = _sweep_folders(root)
    screen = Screen()
    if not folders:
        screen.console.print(f"No sweeps in '{root}'.", markup=False)
        return 0
    table = Table(show_edge=False, box=None, padding=(0, 2))
    for column in ("sweep", "state", "completed", "failed", "total", "description"):
        table.add_column(column)
    for folder in folders:
        config = _read_config(folder)
        db = _db_of(config)
        state, completed, failed, total = "unknown", 0, 0, config.get("total_experiments", "?")
        if db.is_file():
            try:
                with JournalReader.open(db) as reader:
                    info = _summary(reader, folder.name)
                state = _state(info, folder)
                completed = info["counts"].get("completed", 0)
                failed = sum(v for k, v in info["counts"].items()
                             if k not in ("completed", "running", "pending", DROPPED))
            except JournalError:
                pass
        table.add_row(folder.name, state, str(completed), str(failed), str(total), config.get("description", ""))
    screen.console.print(table)
    return 0
