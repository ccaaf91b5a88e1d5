"""``sweeplab refine SWEEP --metric M --resolution R --budget N``: refine a grid sweep's threshold in place.

The sweep's stored spec becomes a ``strategy: refine`` spec with the same coarse grid, so its
trials (same keys) are round 0 and are not run again; new levels are added inside the interval
where the metric changes, round after round, until the interval is at most R wide or N new trials
are spent. The sweep stays one sweep: ``status``, ``analyze`` and ``compare`` see every level.
``--show`` prints what a refine sweep found, without running anything.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..planning.spec import spec_from_mapping
from ..planning.strategy import SEARCH_FILE
from .run import add_execution_flags, make_screen, run_sweep, set_verbosity

__all__ = ["refine_main", "refine_parser", "format_refine_summary"]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of trials, 1 or more, got {text!r}")
    return int(text)


def refine_parser() -> argparse.ArgumentParser:
    """The arguments of ``sweeplab refine``."""
    parser = argparse.ArgumentParser(
        prog="sweeplab refine",
        description="Locate where a metric changes along a sweep's one parameter, adding levels inside the "
                    "interval of the change (and replicates where the evidence is weak) until it is at most "
                    "--resolution wide or --budget new trials are spent. The sweep's earlier trials are kept.")
    parser.add_argument("sweep_id")
    parser.add_argument("--sweep-dir", "--output", dest="sweep_dir", default="logs/sweeps", metavar="DIR",
                        help="folder of the sweep folders (default logs/sweeps)")
    parser.add_argument("--metric", help="the metric whose change to locate (default: the spec's objective)")
    parser.add_argument("--resolution", type=_positive_float, metavar="WIDTH",
                        help="stop when the interval holding the change is at most this wide")
    parser.add_argument("--budget", type=_positive_int, metavar="N", help="at most this many new trials")
    parser.add_argument("--levels-per-round", type=_positive_int, metavar="K",
                        help="new levels inside the interval per round (default 3)")
    parser.add_argument("--show", action="store_true", help="print what the refine found so far; run nothing")
    add_execution_flags(parser)
    return parser


def _refined_spec(data: dict[str, Any], args: argparse.Namespace, trials_so_far: int) -> dict[str, Any]:
    """The stored spec as a refine spec: the same sweep, with the refine options and the budget added."""
    if data.get("strategy", "grid") not in ("grid", "refine"):
        raise SpecError(f"sweep '{args.sweep_id}' is a {data['strategy']} sweep: refine works on a grid of one "
                        "parameter (or continues a refine sweep)")
    if args.resolution is None or args.budget is None:
        raise SpecError("sweeplab refine needs --resolution WIDTH and --budget N (new trials at most), e.g. "
                        "--resolution 0.02 --budget 40")
    options = dict(data.get("refine") or {})
    options["resolution"] = args.resolution
    if args.metric:
        options["metric"] = args.metric
    if args.levels_per_round:
        options["levels_per_round"] = args.levels_per_round
    overrides: dict[str, Any] = {"strategy": "refine", "refine": options, "resume": True,
                                 "n_trials": trials_so_far + args.budget}
    for flag, key in (("parallel", "parallel"), ("timeout", "timeout"), ("max_retries", "max_retries"),
                      ("dask", "dask_scheduler")):
        if getattr(args, flag) is not None:
            overrides[key] = getattr(args, flag)
    if args.jetson:
        overrides["jetson_optimized"] = True
    return {**data, **overrides}


def format_refine_summary(summary: dict[str, Any]) -> str:
    """The threshold with its interval, and the history of rounds, as text."""
    lines = [f"Refine of sweep {summary['sweep_id']}: '{summary['metric']}' along {summary['parameter']} "
             f"({summary['registered']} trials, stopped: {summary.get('stopped') or 'not yet'})"]
    threshold = summary.get("threshold")
    if threshold is None:
        lines.append("  no change located yet (fewer than two levels with results)")
    else:
        low, high = threshold["interval"]
        established = "" if threshold["established"] else " - NOT established: the step is within the noise"
        lines.append(f"  threshold ~ {threshold['estimate']:g}, between {low:g} and {high:g} (width {high - low:.3g}; "
                     f"resolution asked {summary['resolution']:g}){established}")
        lines.append(f"  '{summary['metric']}' is {threshold['below']:.4g} below and {threshold['above']:.4g} above "
                     f"(step of {threshold['step_z'] if threshold['step_z'] is not None else 'inf'} standard errors)")
    lines.append("  round | trials | levels added (+ more replicates at) | interval after it")
    for entry in summary.get("rounds", []):
        levels = ", ".join(f"{x:g}" for x in entry["levels"])
        if entry.get("more_replicates"):
            levels += " (+ " + ", ".join(f"{x:g}" for x in entry["more_replicates"]) + ")"
        interval = "-" if entry["interval"] is None else f"[{entry['interval'][0]:g}, {entry['interval'][1]:g}]"
        lines.append(f"  {entry['round']:>5} | {entry['trials']:>6} | {levels} | {interval}")
    return "\n".join(lines)


def _show(folder: Path, sweep_id: str) -> int:
    path = folder / SEARCH_FILE
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SpecError(f"sweep '{sweep_id}' has no refine results ({path} is missing or unreadable): run "
                        f"'sweeplab refine {sweep_id} --metric M --resolution R --budget N' first") from None
    if summary.get("strategy") != "refine":
        raise SpecError(f"sweep '{sweep_id}' is a {summary.get('strategy')} sweep, not a refine sweep")
    print(format_refine_summary(summary))
    return 0


def refine_main(argv: list[str]) -> int:
    """``sweeplab refine``."""
    args = refine_parser().parse_args(argv)
    set_verbosity(args.verbose, args.quiet)
    folder = Path(args.sweep_dir) / args.sweep_id
    if args.show:
        return _show(folder, args.sweep_id)
    from ..engine.folder import load_stored_spec
    from ..journal.reader import JournalReader
    from ..planning.resolve import resolve
    spec, spec_dir = load_stored_spec(args.sweep_id, Path(args.sweep_dir))
    database = resolve(spec, spec_dir=spec_dir).db_path
    trials_so_far = 0
    if database.is_file():
        with JournalReader.open(database) as reader:
            trials_so_far = len(reader.trial_records(args.sweep_id))
    data = _refined_spec(spec.model_dump(exclude_unset=True), args, trials_so_far)
    resolved = resolve(spec_from_mapping(data, where="sweeplab refine"), spec_dir=spec_dir)
    code = run_sweep(resolved, make_screen(args), yes=True, allow_drift=args.allow_drift)
    if (folder / SEARCH_FILE).is_file():
        _show(folder, args.sweep_id)
    return code
