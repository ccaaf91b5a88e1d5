"""Command-line entry points ``sweeplab analyze`` and ``sweeplab compare``.

The package's main CLI calls :func:`analyze_main` and :func:`compare_main`; this module
also runs on its own: ``python -m sweeplab.analysis.cli analyze SWEEP_ID ...``.

User mistakes (unknown sweep, metric or option) print one message on stderr and return 2
before anything is written. Arguments are parsed before pandas, SciPy or matplotlib are
imported, so ``--help`` and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import shutil
import sys
from pathlib import Path

from ..errors import SweepError, SweepNotFoundError, UserError
from .exceptions import AnalysisInputError

# No NumPy, pandas or matplotlib here: render.py imports rich only when a table is drawn.
from .present.render import DEFAULT_WIDTH, MIN_WIDTH

__all__ = ["analyze_main", "compare_main", "main"]

DEFAULT_SWEEP_DIR = "logs/sweeps"
FORMATS = ("csv", "parquet", "json")


def _analyze_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sweeplab analyze",
        description="Analyse a sweep: statistics, tests, tipping points, best configurations, plots.")
    parser.add_argument("sweep_id", metavar="SWEEP_ID", help="the sweep to analyse")
    parser.add_argument("--sweep-dir", default=DEFAULT_SWEEP_DIR, metavar="D",
                        help=f"folder holding the sweeps (default: {DEFAULT_SWEEP_DIR})")
    parser.add_argument("--output", metavar="FILE",
                        help="write the report to FILE (.md: Markdown, else text) instead of stdout")
    parser.add_argument("--plot", action="store_true",
                        help="write plot_data.json and the objective's PNG figures (figures/) into the sweep folder")
    parser.add_argument("--all", action="store_true", dest="all_metrics",
                        help="with --plot: draw every metric's figures, not only the objective's")
    parser.add_argument("--viz-script", action="store_true",
                        help="write plot_sweep.py (and plot_data.json) into the sweep folder")
    _objective_arguments(parser)
    parser.add_argument("--width", type=int, metavar="N",
                        help="widest line of the text report (default: the terminal's, at most 120; "
                             "120 for a file)")
    parser.add_argument("--format", choices=FORMATS,
                        help="also export one row per trial as CSV, Parquet or JSON (beside the report, "
                             "or in the sweep folder)")
    return parser


def _objective_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metric", metavar="M",
                        help="the objective: metric to optimise and detail (default: the spec's objective, "
                             "else a chosen metric, named in the report)")
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument("--maximize", dest="direction", action="store_const", const="maximize",
                           help="the best configuration has the highest mean")
    direction.add_argument("--minimize", dest="direction", action="store_const", const="minimize",
                           help="the best configuration has the lowest mean (the default without an objective)")


def _minimize(args: argparse.Namespace) -> bool | None:
    return None if args.direction is None else args.direction == "minimize"


def _text_width(args: argparse.Namespace) -> int:
    if args.width is not None:
        if args.width < MIN_WIDTH:
            raise AnalysisInputError(f"--width {args.width}: expected at least {MIN_WIDTH} columns")
        return args.width
    if args.output or not sys.stdout.isatty():
        return DEFAULT_WIDTH
    return max(MIN_WIDTH, min(DEFAULT_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns))


def _compare_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sweeplab compare",
        description="Compare the same metrics over shared parameters across sweeps (Mann-Whitney / "
                    "Kruskal-Wallis per shared grid point, Holm-corrected).")
    parser.add_argument("sweep_ids", metavar="SWEEP_ID", nargs="+", help="two or more sweeps")
    parser.add_argument("--sweep-dir", default=DEFAULT_SWEEP_DIR, metavar="D",
                        help=f"folder holding the sweeps (default: {DEFAULT_SWEEP_DIR})")
    parser.add_argument("--metric", action="append", metavar="M", help="compare only this metric (repeatable)")
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument("--maximize", dest="direction", action="store_const", const="maximize",
                           help="say which sweep is better: the higher mean")
    direction.add_argument("--minimize", dest="direction", action="store_const", const="minimize",
                           help="say which sweep is better: the lower mean")
    parser.add_argument("--output", metavar="FILE", help="write the comparison to FILE (.md: Markdown)")
    parser.add_argument("--width", type=int, metavar="N", help="widest line of the text output (default 120)")
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace | int:
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): argparse has printed it
        return int(exc.code or 0)


def _report_format(output: str | None) -> str:
    return "markdown" if output and Path(output).suffix.lower() in (".md", ".markdown") else "text"


def _fail(prog: str, exc: Exception) -> int:
    message = str(exc)
    if isinstance(exc, SweepNotFoundError) and "--sweep-dir" not in message:
        message += "; pass --sweep-dir to look elsewhere"
    print(f"{prog}: error: {message}", file=sys.stderr)
    return exc.exit_code if isinstance(exc, UserError) else 1


def _export_trials(frame, path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "json":
        frame.to_json(path, orient="records", indent=1)
    else:
        frame.to_parquet(path, index=False)


def _run_analyze(args: argparse.Namespace) -> int:
    from .analyzer import SweepAnalyzer
    from .present.plot_data import build_plot_data, write_plot_data
    from .present.plots import PLOT_DATA_NAME, write_plots, write_viz_script

    if args.format == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise AnalysisInputError("--format parquet needs pyarrow, which is not installed "
                                 "(pip install pyarrow), or choose --format csv or json")
    if args.all_metrics and not (args.plot or args.viz_script):
        raise AnalysisInputError("--all draws every metric's figures: give it with --plot (or --viz-script)")
    width = _text_width(args)
    analyzer = SweepAnalyzer(args.sweep_id, args.sweep_dir)
    from .present.objective import has_results

    objective = analyzer.objective(args.metric, _minimize(args)) if has_results(analyzer) else None
    # Everything is computed before the first file is written, so a mistake writes nothing.
    report = analyzer.generate_summary_report(_report_format(args.output), metric=args.metric,
                                              minimize=_minimize(args), width=width)
    # nothing completed: nothing to draw (the plot data still says how far the sweep got)
    drawn = [] if objective is None else (None if args.all_metrics else [objective.metric])
    notes: list[str] = []
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
        notes.append(f"report: {out}")
    else:
        sys.stdout.write(report)
    if args.plot:
        data_path, figures = write_plots(analyzer, metrics=drawn, objective=objective)
        notes.append(f"plot data: {data_path}")
        which = ("every metric" if drawn is None else f"objective {drawn[0]}" if drawn
                 else "none: no completed trial reported a metric")
        notes.append(f"figures ({which}): {len(figures)} PNG files in "
                     f"{figures[0].parent if figures else analyzer.folder}")
    if args.viz_script:
        if not args.plot:
            write_plot_data(build_plot_data(analyzer, drawn, objective), analyzer.folder / PLOT_DATA_NAME)
        notes.append(f"viz script: {write_viz_script(analyzer.folder)}")
    if args.format:
        folder = Path(args.output).parent if args.output else analyzer.folder
        path = folder / f"{analyzer.sweep_id}_trials.{args.format}"
        _export_trials(analyzer.to_dataframe(), path, args.format)
        notes.append(f"trials ({args.format}): {path}")
    for note in notes:
        print(note, file=sys.stderr)
    return 0


def analyze_main(argv: list[str] | None = None) -> int:
    """``sweeplab analyze SWEEP_ID [...]``; returns the exit code (0 ok, 2 user mistake)."""
    args = _parse(_analyze_parser(), argv)
    if isinstance(args, int):
        return args
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return _run_analyze(args)
    except SweepError as exc:
        return _fail("sweeplab analyze", exc)


def compare_main(argv: list[str] | None = None) -> int:
    """``sweeplab compare SWEEP_A SWEEP_B [...]``; returns the exit code (0 ok, 2 user mistake)."""
    args = _parse(_compare_parser(), argv)
    if isinstance(args, int):
        return args
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        from .analyzer import SweepAnalyzer
        from .compute.compare import compare_sweeps
        from .present.compare import comparison_blocks
        from .present.render import render

        if len(args.sweep_ids) < 2:
            raise UserError("compare needs at least two sweep ids")
        width = args.width if args.width is not None else DEFAULT_WIDTH
        if width < MIN_WIDTH:
            raise AnalysisInputError(f"--width {width}: expected at least {MIN_WIDTH} columns")
        analyzers = [SweepAnalyzer(s, args.sweep_dir) for s in args.sweep_ids]
        result = compare_sweeps(analyzers, args.metric)
        levels = [{p: (result.binned_levels[i].get(p) if result.binned_levels else None) or a.levels(p)
                   for p in result.shared_parameters} for i, a in enumerate(analyzers)]
        text = render(comparison_blocks(result, levels, _minimize(args)), _report_format(args.output), width)
    except SweepError as exc:
        return _fail("sweeplab compare", exc)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"comparison: {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``analyze ...`` or ``compare ...`` (for ``python -m sweeplab.analysis.cli``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"analyze": analyze_main, "compare": compare_main}
    if not argv or argv[0] not in commands:
        print("usage: python -m sweeplab.analysis.cli {analyze,compare} ...", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
