"""``sweeplab status`` and ``sweeplab list``: what the journal says about sweeps, read-only."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from ..errors import JournalError, SweepNotFoundError
from ..journal.reader import DROPPED, JournalReader
from ..journal.storage import StorageError, check_database
from ..planning.strategy import SEARCH_FILE

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


def _state(info: dict[str, Any], folder: Path) -> str:
    """The journal's sweep state, except that a 'running' sweep whose coordinator died is 'stopped'."""
    from ..engine.folder import coordinator_gone  # imported here: it brings pydantic

    if info["state"] == "running" and coordinator_gone(folder):
        return "stopped"
    return info["state"]


def _db_of(config: dict[str, Any]) -> Path:
    return Path(config.get("db_path_resolved") or config.get("db_path") or "logs/experiments.db")


def _summary(reader: JournalReader, sweep_id: str) -> dict[str, Any]:
    durations = reader.duration_summary(sweep_id)
    sweep = reader.sweep(sweep_id)
    return {"counts": reader.counts(sweep_id), "mean_duration": durations.mean_duration,
            "state": sweep["status"] if sweep else "unknown", "total": sweep["total_trials"] if sweep else None,
            "updated": sweep["updated_at"] if sweep else None, "errors": reader.last_errors(sweep_id, 5),
            "no_metrics": reader.no_metrics_count(sweep_id)}


def _objective(config: dict[str, Any]) -> dict[str, str] | None:
    """The stored spec's objective (the first of several), or None."""
    objective = (config.get("spec") or {}).get("objective")
    if isinstance(objective, list):
        objective = objective[0] if objective else None
    if isinstance(objective, dict) and isinstance(objective.get("metric"), str):
        return {"metric": objective["metric"], "direction": str(objective.get("direction", "minimize"))}
    return None


def _best(reader: JournalReader, sweep_id: str, objective: dict[str, str]) -> dict[str, Any] | None:
    """The completed trial with the best value of the objective's metric, or None when none reported it."""
    best = reader.best_trial(sweep_id, objective["metric"], maximize=objective["direction"] == "maximize")
    if best is None:
        return None
    experiment_id, parameters, value = best
    return {"experiment_id": experiment_id, "metric": objective["metric"], "direction": objective["direction"],
            "value": value, "parameters": parameters}


def _missing(sweep_id: str, root: Path) -> SweepNotFoundError:
    existing = ", ".join(p.name for p in _sweep_folders(root)) or "none"
    return SweepNotFoundError(f"sweep '{sweep_id}' not found in '{root}' (sweeps there: {existing}); "
                              "give --sweep-dir if it lives elsewhere")


def status_parser() -> argparse.ArgumentParser:
    """The arguments of ``sweeplab status``."""
    parser = argparse.ArgumentParser(prog="sweeplab status",
                                     description="Show how far a sweep got: counts by status, durations, ETA, "
                                                 "last errors, the best trial of its objective. Without an id, "
                                                 "the most recent sweep.")
    parser.add_argument("sweep_id", nargs="?")
    parser.add_argument("--sweep-dir", "--output", dest="sweep_dir", default="logs/sweeps", metavar="DIR")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    return parser


def _status_record(folder: Path, root: Path) -> dict[str, Any]:
    """Everything ``status`` shows about the sweep in ``folder``, as JSON data."""
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
    objective = _objective(config)
    try:
        with JournalReader.open(db) as reader:
            info = _summary(reader, sweep_id)
            best = _best(reader, sweep_id, objective) if objective else None
    except JournalError as exc:
        raise StorageError(f"the database of sweep '{sweep_id}' cannot be read: {exc}. Restore it from a backup") from None
    total = info["total"] or config.get("total_experiments") or 0
    counts = dict(info["counts"])
    dropped = counts.pop(DROPPED, 0)  # left out of the plan by a resume with --allow-drift
    completed = counts.get("completed", 0)
    slots = config.get("parallel_jobs")
    slots = slots if isinstance(slots, int) else 1
    remaining = total - completed
    mean = info["mean_duration"]
    eta = math.ceil(remaining / slots) * mean if mean is not None and remaining else (0.0 if not remaining else None)
    return {
        "sweep_id": sweep_id, "state": _state(info, folder), "total": total, "completed": completed,
        "counts": counts, "not_started": max(0, total - sum(counts.values())), "dropped": dropped,
        "no_metrics": info["no_metrics"], "mean_duration": mean, "eta_seconds": eta, "parallel": slots,
        "updated": info["updated"], "objective": objective, "best": best, "search": _search_line(folder),
        "last_errors": [{"experiment_id": e, "attempt": a, "status": st, "error": _last_line(tail)}
                        for e, a, st, tail in info["errors"]],
        "sweep_dir": str(root),
    }


def _search_line(folder: Path) -> str | None:
    """One line from the search's ``search.json`` (bayesian: best trial or Pareto front; refine: the
    threshold with its interval), or None when the sweep has none."""
    try:
        search = json.loads((folder / SEARCH_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(search, dict):
        return None
    head = f"search ({search.get('strategy')}, {search.get('told')}/{search.get('budget')} told"
    head += ", finished)" if search.get("finished") else ")"
    threshold = search.get("threshold")
    if search.get("strategy") == "refine":
        if not threshold:
            return f"{head}: no threshold located yet"
        low, high = threshold.get("interval") or [None, None]
        return (f"{head}: threshold of {search.get('parameter')} for {search.get('metric')} at "
                f"{_format_value(threshold.get('estimate'))} in [{_format_value(low)}, {_format_value(high)}] after {len(search.get('rounds') or [])} "
                f"round(s), stopped: {search.get('stopped') or 'not yet'}")
    best = search.get("best") or []
    if len(best) == 1:
        values = " ".join(f"{k}={_format_value(v)}" for k, v in (best[0].get("values") or {}).items())
        return f"{head}: best trial {best[0].get('experiment_id')} {values}"
    return f"{head}: Pareto front of {len(best)} trial(s)" if best else f"{head}: no best trial yet"


def _last_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[-1][:200] if lines else ""


def _format_value(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else json.dumps(value, ensure_ascii=False)


def _print_status(record: dict[str, Any]) -> None:
    # imported here: --json and argument errors need no rich
    from rich.table import Table

    from ..console.screen import Screen, format_duration

    screen = Screen()
    sweep_id, counts, root = record["sweep_id"], record["counts"], record["sweep_dir"]
    table = Table(show_edge=False, box=None, padding=(0, 2))
    table.add_column("status")
    table.add_column("trials", justify="right")
    for status in ("completed", "running", "pending", "failed", "timeout", "crashed", "cancelled"):
        if counts.get(status):
            table.add_row(status, str(counts[status]))
        if status == "completed" and record["no_metrics"]:
            # completed, but reported nothing: visible, so a typo in the final print is not a green sweep
            table.add_row("  of which no metrics", str(record["no_metrics"]))
    if record["not_started"]:
        table.add_row("not started", str(record["not_started"]))
    if record["dropped"]:
        table.add_row("dropped (no longer in the plan)", str(record["dropped"]))
    state = record["state"]
    screen.console.print(f"Sweep {sweep_id}: {state}, {record['completed']}/{record['total']} completed "
                         f"(last update {record['updated']})", markup=False)
    if state == "stopped":
        screen.console.print(f"  its coordinator is gone: continue with 'sweeplab resume {sweep_id} "
                             f"--sweep-dir {root}'", markup=False)
    screen.console.print(table)
    if record["no_metrics"]:
        screen.console.print(f"  {record['no_metrics']} completed trial(s) reported no metrics: write metrics.json "
                             "in the trial folder or print one JSON object as the last line of stdout "
                             "(docs/trial_contract.md); 'expect_metrics: [NAME]' makes that a failure", markup=False)
    remaining = record["total"] - record["completed"]
    screen.console.print(f"  mean trial duration {format_duration(record['mean_duration'])}; ETA for the {remaining} "
                         f"remaining at {record['parallel']} at once: {format_duration(record['eta_seconds'])}",
                         markup=False)
    objective, best = record["objective"], record["best"]
    if objective:
        if best is None:
            screen.console.print(f"  best ({objective['direction']} {objective['metric']}): no completed trial "
                                 "reported it yet", markup=False)
        else:
            params = " ".join(f"{path}={_format_value(value)}" for path, value in best["parameters"].items())
            screen.console.print(f"  best ({objective['direction']} {objective['metric']}): {best['experiment_id']} "
                                 f"{objective['metric']}={best['value']:.6g}  {params}", markup=False)
    if record.get("search"):
        screen.console.print(f"  {record['search']}", markup=False)
    for error in record["last_errors"]:
        screen.console.print(f"  {error['status']}: {error['experiment_id']} attempt {error['attempt']}: "
                             f"{error['error']}", markup=False)


def status_main(argv: list[str]) -> int:
    """Counts by status, mean duration, ETA, the best trial and the last errors of one sweep (default: the newest)."""
    args = status_parser().parse_args(argv)
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
    record = _status_record(folder, root)
    if args.json:
        print(json.dumps(record, ensure_ascii=False, indent=1))
    else:
        _print_status(record)
    return 0


def list_parser() -> argparse.ArgumentParser:
    """The arguments of ``sweeplab list``."""
    parser = argparse.ArgumentParser(prog="sweeplab list", description="List the sweeps in a folder. Sweep ids are "
                                     "never cut: the other columns wrap instead.")
    parser.add_argument("--sweep-dir", "--output", dest="sweep_dir", default="logs/sweeps", metavar="DIR")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per sweep")
    return parser


def _list_record(folder: Path) -> dict[str, Any]:
    config = _read_config(folder)
    db = _db_of(config)
    record: dict[str, Any] = {"sweep_id": folder.name, "state": "unknown", "completed": 0, "failed": 0,
                              "no_metrics": 0, "total": config.get("total_experiments"),
                              "description": config.get("description", "")}
    if db.is_file():
        try:
            with JournalReader.open(db) as reader:
                info = _summary(reader, folder.name)
            record["state"] = _state(info, folder)
            record["completed"] = info["counts"].get("completed", 0)
            record["failed"] = sum(v for k, v in info["counts"].items()
                                   if k not in ("completed", "running", "pending", DROPPED))
            record["no_metrics"] = info["no_metrics"]
        except JournalError:
            pass
    return record


def list_main(argv: list[str]) -> int:
    """Every sweep in the sweep folder with its progress."""
    args = list_parser().parse_args(argv)
    root = Path(args.sweep_dir)
    records = [_list_record(folder) for folder in _sweep_folders(root)]
    if args.json:
        print(json.dumps(records, ensure_ascii=False, indent=1))
        return 0
    from ..console.screen import Screen
    from .listing import render_list

    screen = Screen()
    if not records:
        screen.console.print(f"No sweeps in '{root}'.", markup=False)
        return 0
    for line in render_list(records, screen.console.width):
        screen.console.print(line, markup=False, overflow="ignore", crop=False, soft_wrap=True)
    return 0
