"""``sweeplab export SWEEP --to optuna|csv|parquet|json [--output PATH]``: a sweep's trials for other tools.

``--to optuna`` writes an Optuna RDB storage (SQLite, ``sqlite:///PATH``) holding one study named after the
sweep, so ``optuna-dashboard sqlite:///PATH`` and ``optuna.importance`` work on any sweep. Each trial of the
sweep becomes a finished Optuna trial: its swept values as parameters, with distributions inferred from the
levels (categorical for text, booleans, null and lists; int or float ranges otherwise), the objective's value
(from the spec's ``objective``, or ``--metric`` with ``--maximize``/``--minimize``), every other metric, the
experiment id and the seed as user attributes. Completed trials that lack the objective, and failed ones,
are recorded as failed. ``--to csv|parquet|json`` writes the analysis' one-row-per-trial table.

Everything is checked before the first file is written: a mistake writes nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["export_main", "export_parser", "TARGETS", "infer_distribution"]

TARGETS = ("optuna", "csv", "parquet", "json")
_SUFFIX = {"optuna": ".db", "csv": ".csv", "parquet": ".parquet", "json": ".json"}


class ExportError(UserError):
    """The export cannot be made as asked (unknown metric, no objective, the output exists): exit 2."""


def export_parser() -> argparse.ArgumentParser:
    """The arguments of ``sweeplab export``."""
    parser = argparse.ArgumentParser(
        prog="sweeplab export",
        description="Export a sweep's trials: an Optuna storage (for optuna-dashboard and optuna.importance), "
                    "or one row per trial as CSV, Parquet or JSON.",
        epilog="Example: sweeplab export my_sweep --to optuna --output my_sweep.db && "
               "optuna-dashboard sqlite:///my_sweep.db")
    parser.add_argument("sweep_id", metavar="SWEEP_ID", help="the sweep to export")
    parser.add_argument("--to", required=True, choices=TARGETS, help="what to write")
    parser.add_argument("--output", metavar="PATH",
                        help="the file to write (default: SWEEP_ID_optuna.db or SWEEP_ID_trials.FORMAT in the sweep "
                             "folder)")
    parser.add_argument("--sweep-dir", default="logs/sweeps", metavar="DIR",
                        help="folder holding the sweeps (default: logs/sweeps)")
    parser.add_argument("--metric", metavar="NAME", help="optuna: the objective's metric (default: the spec's)")
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument("--maximize", dest="direction", action="store_const", const="maximize")
    direction.add_argument("--minimize", dest="direction", action="store_const", const="minimize")
    return parser


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _choice(value: Any) -> Any:
    """A level as an Optuna categorical choice (None, bool, int, float or str): lists and mappings as JSON."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(list(value) if isinstance(value, tuple) else value, sort_keys=True)


def infer_distribution(levels: list[Any]) -> Any:
    """The Optuna distribution of a parameter from its levels: categorical for text, booleans, null and
    lists; an int range for whole numbers; a float range otherwise.

    >>> infer_distribution([10, 20, 40])
    IntDistribution(high=40, log=False, low=10, step=1)
    >>> infer_distribution(["adam", "sgd"])
    CategoricalDistribution(choices=('adam', 'sgd'))
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if levels and all(_is_number(v) and math.isfinite(v) for v in levels):
        if all(isinstance(v, int) for v in levels):
            return IntDistribution(low=min(levels), high=max(levels))
        return FloatDistribution(low=float(min(levels)), high=float(max(levels)))
    return CategoricalDistribution(choices=tuple(dict.fromkeys(_choice(v) for v in levels)))


def _objective(analyzer: Any, args: argparse.Namespace) -> tuple[str, str]:
    """(metric, direction) from the flags, else the spec's objective; an :class:`ExportError` when neither."""
    spec_objective = (analyzer.config.get("spec") or {}).get("objective")
    if isinstance(spec_objective, list):
        spec_objective = spec_objective[0] if spec_objective else None
    metric = args.metric or (spec_objective or {}).get("metric")
    direction = args.direction or (spec_objective or {}).get("direction")
    choices = ", ".join(m for m in analyzer.metrics) or "none reported yet"
    if metric is None:
        raise ExportError(f"--to optuna needs the objective: the spec of sweep '{analyzer.sweep_id}' names none, so "
                          f"give --metric NAME with --maximize or --minimize (metrics: {choices})")
    if direction is None:
        raise ExportError(f"--metric {metric} needs a direction: add --maximize or --minimize")
    if metric not in analyzer.metrics:
        raise ExportError(f"metric '{metric}' was not reported by any completed trial of sweep "
                          f"'{analyzer.sweep_id}': expected one of {choices}")
    return metric, direction


def _levels(analyzer: Any, frame: pd.DataFrame, path: str) -> list[Any]:
    declared = analyzer.config.get("sweep_params", {}).get(path)
    seen = [v for v in frame[path].tolist() if not (isinstance(v, float) and math.isnan(v))] if path in frame else []
    values = list(declared) if isinstance(declared, list) and declared else []
    values += [v for v in seen if v not in values]
    return values


def _param_value(value: Any, distribution: Any) -> Any:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return _choice(value)
    return int(value) if isinstance(distribution, IntDistribution) else float(value)


def write_optuna(analyzer: Any, output: Path, metric: str, direction: str) -> int:
    """Write the sweep as one study of an Optuna SQLite storage at ``output``; returns the number of trials."""
    import optuna

    frame = analyzer.to_dataframe()
    distributions = {path: infer_distribution(_levels(analyzer, frame, path)) for path in analyzer.parameters}
    trials = []
    for row in frame.to_dict("records"):
        params = {path: _param_value(row[path], dist) for path, dist in distributions.items()
                  if path in row and not (isinstance(row[path], float) and math.isnan(row[path]))}
        value = row.get(metric)
        good = row.get("status") == "completed" and _is_number(value) and math.isfinite(value)
        attrs = {"experiment_id": row.get("experiment_id"), "status": row.get("status")}
        attrs.update({name: float(row[name]) for name in analyzer.metrics
                      if name != metric and _is_number(row.get(name)) and math.isfinite(row[name])})
        for key in ("seed", "repeat", "replicate"):
            if key in row and _is_number(row[key]) and not math.isnan(row[key]):
                attrs[key] = int(row[key])
        trials.append(optuna.trial.create_trial(
            params=params, distributions={p: distributions[p] for p in params},
            value=float(value) if good else None,
            state=optuna.trial.TrialState.COMPLETE if good else optuna.trial.TrialState.FAIL, user_attrs=attrs))
    output.parent.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{output}", study_name=analyzer.sweep_id, direction=direction)
    study.set_user_attr("sweeplab_sweep_id", analyzer.sweep_id)
    study.set_user_attr("objective", {"metric": metric, "direction": direction})
    study.add_trials(trials)
    return len(trials)


def _study_exists(output: Path, study_name: str) -> bool:
    import sqlite3

    if not output.exists():
        return False
    try:
        with sqlite3.connect(f"file:{output}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT 1 FROM studies WHERE study_name = ?", (study_name,)).fetchone() is not None
    except sqlite3.Error:
        raise ExportError(f"'{output}' exists and is not an Optuna storage: choose another --output") from None


def export_main(argv: list[str]) -> int:
    """``sweeplab export``; returns the exit code (0 written, 2 a mistake, nothing written)."""
    args = export_parser().parse_args(argv)
    if args.to == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise ExportError("--to parquet needs pyarrow, which is not installed (pip install pyarrow): or use --to csv")
    if args.to == "optuna" and importlib.util.find_spec("optuna") is None:
        raise ExportError("--to optuna needs optuna, which is not installed (pip install optuna)")
    if args.to != "optuna" and (args.metric or args.direction):
        raise ExportError(f"--metric, --maximize and --minimize go with --to optuna only (--to {args.to} writes every "
                          "metric): remove them")
    from ..analysis import SweepAnalyzer

    analyzer = SweepAnalyzer(args.sweep_id, args.sweep_dir)
    name = f"{analyzer.sweep_id}_optuna.db" if args.to == "optuna" else f"{analyzer.sweep_id}_trials{_SUFFIX[args.to]}"
    output = Path(args.output) if args.output else analyzer.folder / name
    if output.is_dir():
        raise ExportError(f"--output '{output}' is a folder: give the file to write, e.g. {output / name}")
    if args.to == "optuna":
        metric, direction = _objective(analyzer, args)
        if _study_exists(output, analyzer.sweep_id):
            raise ExportError(f"'{output}' already holds a study named '{analyzer.sweep_id}': delete the file or "
                              "choose another --output")
        count = write_optuna(analyzer, output, metric, direction)
        print(f"{count} trials of sweep '{analyzer.sweep_id}' written as the Optuna study '{analyzer.sweep_id}' "
              f"({direction} {metric}) to sqlite:///{output}; view it with: optuna-dashboard sqlite:///{output}",
              file=sys.stderr)
        return 0
    frame = analyzer.to_dataframe()
    output.parent.mkdir(parents=True, exist_ok=True)
    if args.to == "csv":
        frame.to_csv(output, index=False)
    elif args.to == "json":
        frame.to_json(output, orient="records", indent=1, date_format="iso")
    else:
        frame.to_parquet(output, index=False)
    print(f"{len(frame)} trials of sweep '{analyzer.sweep_id}' written to {output}", file=sys.stderr)
    return 0
