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
import sys
from pathlib import Path

from ..errors import SweepError, UserError
from .exceptions import AnalysisInputError

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
                        help="write plot_data.json and PNG figures (figures/) into the sweep folder")
    parser.add_argument("--viz-script", action="store_true",
                        help="write plot_sweep.py (and plot_data.json) into the sweep folder")
    parser.add_argument("--metric", metavar="M", help="metric to optimise and detail (default: the first)")
    parser.add_argument("--maximize", action="store_true", help="the best configuration has the highest metric")
    parser.add_argument("--format", choices=FORMATS,
                        help="also export one row per trial as CSV, Parquet or JSON (beside the report, "
                             "or in the sweep folder)")
    return parser


def _compare_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sweeplab compare",
        description="Compare the same metrics over shared parameters across sweeps (Mann-Whitney / "
                    "Kruskal-Wallis per shared grid point, Holm-corrected).")
    parser.add_argument("sweep_ids", metavar="SWEEP_ID", nargs="+", help="two or more sweeps")
    parser.add_argument("--sweep-dir", default=DEFAULT_SWEEP_DIR, metavar="D",
                        help=f"folder holding the sweeps (default: {DEFAULT_SWEEP_DIR})")
    parser.add_argument("--metric", action="append", metavar="M", help="compare only this metric (repeatable)")
    parser.add_argument("--output", metavar="FILE", help="write the comparison to FILE (.md: Markdown)")
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace | int:
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): argparse has printed it
        return int(exc.code or 0)


def _report_format(output: str | None) -> str:
    return "markdown" if output and Path(output).suffix.lower() in (".md", ".markdown") else "text"


def _fail(prog: str, exc: Exception) -> int:
    print(f"{prog}: error: {exc}", file=sys.stderr)
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
    analyzer = SweepAnalyzer(args.sweep_id, args.sweep_dir)
    metric = analyzer.metric(args.metric) if args.metric else None
    # Everything is computed before the first file is written, so a mistake writes nothing.
    report = analyzer.generate_summary_report(_report_format(args.output), metric=metric,
                                              minimize=not args.maximize)
    notes: list[str] = []
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
        notes.append(f"report: {out}")
    else:
        sys.stdout.write(report)
    if args.plot:
        data_path, figures = write_plots(analyzer)
        notes.append(f"plot data: {data_path}")
        notes.append(f"figures: {len(figures)} PNG files in {figures[0].parent if figures else analyzer.folder}")
    if args.viz_script:
        if not args.plot:
            write_plot_data(build_plot_data(analyzer), analyzer.folder / PLOT_DATA_NAME)
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
        analyzers = [SweepAnalyzer(s, args.sweep_dir) for s in args.sweep_ids]
        text = render(comparison_blocks(compare_sweeps(analyzers, args.metric)), _report_format(args.output))
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
