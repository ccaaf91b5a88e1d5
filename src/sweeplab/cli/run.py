"""``sweeplab run`` and ``sweeplab resume``: build the spec from YAML and flags, then show the plan or run it.

A run goes spec → resolve → :func:`~sweeplab.engine.launch.prepare` (drift check, plan, cluster,
budget: everything that may refuse it, before anything is written) → plan summary → confirmation
→ ``launch.run`` with a progress observer → exit code. The dry run stops after the summary; its
launch is a preview, which loads neither an executor nor the coordinator.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..planning.spec import SweepSpec, load_spec, spec_from_mapping
from ..planning.yaml_types import scalar

if TYPE_CHECKING:
    from ..console.screen import Screen
    from ..planning.resolve import ResolvedSweep

__all__ = ["run_main", "resume_main", "build_spec", "run_parser", "resume_parser", "run_sweep", "CONFIRM_ABOVE",
           "set_verbosity", "make_screen"]

#: sweeps with more trials than this ask for confirmation on a terminal (unless --yes)
CONFIRM_ABOVE = 100


def _parallel(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:  # 'nan' is not <= 0; 'inf' is no limit, which is leaving it out
        raise argparse.ArgumentTypeError(f"expected a positive, finite number of seconds (leave the flag out for "
                                         f"no limit), got {text!r}")
    return value


def cli_value(token: str) -> Any:
    """Type a command-line value like a YAML 1.2 scalar: 10 → int, 1.0 and 1e-3 → float, true, null, text."""
    return scalar(token)


def _mapping_value(path: str, token: str) -> Any:
    """A single --param value written as a YAML flow mapping: a generator ``{start: 0, stop: 1, step: 0.1}``
    or a distribution ``{uniform: [0, 1]}``, as the sweep file would hold it."""
    import yaml

    from ..planning.yaml_types import load_yaml
    try:
        value = load_yaml(token)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"--param {path} {token!r} starts like a mapping but does not read as one ({problem}): "
                        "write it as in the sweep file, e.g. '{uniform: [0, 1]}' or '{start: 0, stop: 1, step: 0.5}'"
                        ) from None
    return value


def add_execution_flags(parser: argparse.ArgumentParser) -> None:
    """Flags shared by ``run`` and ``resume``."""
    parser.add_argument("--parallel", type=_parallel, metavar="N|auto",
                        help="trials at once: a number, or 'auto' to size from RAM and cores")
    parser.add_argument("--jetson", action="store_true", default=None,
                        help="apply the NVIDIA Jetson Orin profile even if not detected")
    parser.add_argument("--timeout", type=_positive, metavar="SECONDS", help="time limit per trial")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="run the trials on the Dask cluster of this scheduler (tcp://host:8786); "
                             "'local' runs them here. The sweep folder must be on a file system the workers share")
    parser.add_argument("--max-retries", type=int, metavar="N", help="extra attempts for failed trials (default 2)")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation of a large sweep")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the final summary")
    parser.add_argument("--verbose", "-v", action="count", default=0,
                        help="a line per finished trial (also above a live progress bar); -vv adds debug logging")
    parser.add_argument("--allow-drift", action="store_true",
                        help="resume even though the base config or parameter values changed")


def run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sweeplab run",
        description="Run a parameter sweep from a YAML file, from flags, or both (flags win).",
        epilog="Examples: sweeplab run --base experiments/examples/unstable_memory_moderate.json "
               "--param interventions.0.parameters.corruption_rate 0.0 0.5 1.0 --param max_cycles 10 20 --parallel 2; "
               "Hydra-style: sweeplab run --base cfg.json --command 'python train.py {args}' lr=0.1,0.01 opt=adam,sgd",
    )
    parser.add_argument("targets", nargs="*", metavar="CONFIG.yaml | PATH=V1,V2",
                        help="the sweep YAML file, and/or Hydra-style overrides: PATH=V1,V2,... sweeps PATH over "
                             "those values (typed like --param values)")
    parser.add_argument("--config", metavar="CONFIG.yaml", help="the sweep YAML file (same as the positional)")
    parser.add_argument("--base", metavar="BASE.json", help="the base experiment config (JSON)")
    parser.add_argument("--param", nargs="+", action="append", metavar=("PATH", "VALUE"),
                        help="a swept parameter: its dot path, then its values (repeat the flag for more)")
    parser.add_argument("--zip", action="append", metavar="PATH,PATH",
                        help="comma-separated parameters that vary together instead of crossing")
    parser.add_argument("--repeats", type=int, metavar="N", help="replicates of every grid point")
    parser.add_argument("--seed", type=int, help="base seed; trial seeds derive from it")
    parser.add_argument("--runner", help="which runner executes a trial (default: chosen from the base config)")
    parser.add_argument("--command", metavar="'PROG ARGS'",
                        help="command runner: the trial's command, with {config} {trial_dir} {db} {seed} {experiment_id}")
    parser.add_argument("--function", metavar="MODULE:FUNCTION", help="python runner: the function to call")
    parser.add_argument("--sweep-id", help="the sweep's id (default: sweep_<base name>_<timestamp>)")
    parser.add_argument("--output", metavar="DIR", help="folder of the sweep folders (default logs/sweeps)")
    parser.add_argument("--db", metavar="PATH", help="the SQLite database (default logs/experiments.db)")
    parser.add_argument("--description", help="what the sweep is for")
    parser.add_argument("--tag", action="append", metavar="TAG", help="a tag (repeatable)")
    parser.add_argument("--resume", action="store_true", default=None, help="continue an existing sweep of this id")
    parser.add_argument("--dry-run", action="store_true", help="show the plan and write nothing")
    parser.add_argument("--list", action="store_true", help="with --dry-run: print every trial")
    parser.add_argument("--metric", metavar="NAME", help="the objective's metric (with --maximize or --minimize)")
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument("--maximize", dest="direction", action="store_const", const="maximize",
                           help="the objective is to maximize --metric")
    direction.add_argument("--minimize", dest="direction", action="store_const", const="minimize",
                           help="the objective is to minimize --metric")
    parser.add_argument("--strategy", metavar="NAME",
                        help="how trials are chosen: grid (default), random, lhs, sobol, bayesian, refine")
    parser.add_argument("--n-trials", type=int, metavar="N", help="trials of a sampled or searched design")
    parser.add_argument("--expect-metric", action="append", metavar="NAME", dest="expect_metrics",
                        help="a metric every trial must report, or it fails (repeatable)")
    parser.add_argument("--max-failures", type=int, metavar="N",
                        help="stop admitting trials when the first N attempts all fail alike (default 5; 0: never)")
    parser.add_argument("--isolation", metavar="worker|process",
                        help="python runner: warm worker processes (default) or a fresh process per trial")
    parser.add_argument("--dashboard", action="store_true",
                        help="serve the live dashboard on 127.0.0.1 while the sweep runs (prints its address)")
    parser.add_argument("--dashboard-port", type=int, default=8765, metavar="PORT",
                        help="the dashboard's port with --dashboard (default 8765; 0 takes a free one)")
    add_execution_flags(parser)
    # argparse takes '-1e-3' for an option: widen its notion of a negative number to every float
    # spelling, so '--param lr -1e-3 1e-3' works (the attribute is private but stable since 3.2).
    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = re.compile(
            r"^-(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$|^-(?:inf|\.inf)$", re.IGNORECASE)
    return parser


def _split_targets(args: argparse.Namespace) -> list[tuple[str, list[Any]]]:
    """Sort the positional words into the sweep file (``args.config_file``) and the overrides."""
    from .overrides import is_override, parse_override

    words = list(getattr(args, "targets", None) or [])
    for entry in args.param or []:
        # '--param epochs 1 2 lr=0.1,0.01': argparse gives the override to --param; it is one of its own
        while len(entry) > 2 and is_override(entry[-1]):
            words.append(entry.pop())
    files = [word for word in words if not is_override(word)]
    overrides = [parse_override(word) for word in words if is_override(word)]
    if len(files) > 1:
        raise SpecError(f"more than one sweep file given ({', '.join(repr(f) for f in files)}): give one; a swept "
                        "parameter on the command line is PATH=V1,V2 (with '=') or --param PATH V1 V2")
    if files and not files[0].endswith((".yaml", ".yml")) and not Path(files[0]).is_file():
        raise SpecError(f"'{files[0]}' is neither a sweep YAML file nor an override: a swept parameter on the command "
                        f"line is PATH=V1,V2 (e.g. lr=0.1,0.01), a sweep file ends in .yaml")
    args.config_file = files[0] if files else getattr(args, "config_file", None)
    return overrides


def build_spec(args: argparse.Namespace) -> tuple[SweepSpec, Path | None]:
    """Merge the YAML file (if any) with the flags and overrides into one validated spec."""
    overrides = _split_targets(args)
    if args.config_file and args.config and args.config_file != args.config:
        raise SpecError(f"two sweep files given ('{args.config_file}' and --config '{args.config}'): give one")
    config_path = args.config_file or args.config
    data: dict[str, Any] = {}
    spec_dir: Path | None = None
    where = "the command line"
    if config_path:
        data = load_spec(config_path).model_dump(exclude_unset=True)
        spec_dir = Path(config_path).resolve().parent
        where = f"'{config_path}' with the command line"
    if args.base:
        data["base_config"] = args.base
    if args.param or overrides:
        sweep = dict(data.get("sweep", {}))
        seen: set[str] = set()
        for entry in args.param or []:
            path, *values = entry
            if not values:
                raise SpecError(f"--param {path} has no values: write --param {path} VALUE [VALUE ...]")
            if path in seen:
                raise SpecError(f"--param '{path}' is given twice: list all its values after one --param {path}")
            seen.add(path)
            sweep[path] = ([cli_value(v) for v in values] if len(values) > 1 else
                           _mapping_value(path, values[0]) if values[0].lstrip().startswith("{") else
                           cli_value(values[0]))
        for path, typed in overrides:
            if path in seen:
                raise SpecError(f"'{path}' is swept twice on the command line (--param and {path}=...): give its "
                                "values once")
            seen.add(path)
            sweep[path] = typed if len(typed) > 1 else typed[0]
        data["sweep"] = sweep
    if args.zip:
        data["zip"] = list(data.get("zip", [])) + [[p.strip() for p in group.split(",") if p.strip()]
                                                   for group in args.zip]
    flags = {
        "repeats": args.repeats, "seed": args.seed, "runner": args.runner, "command": args.command,
        "function": args.function, "sweep_id": args.sweep_id, "output_dir": args.output, "db_path": args.db,
        "description": args.description, "tags": args.tag, "resume": args.resume, "parallel": args.parallel,
        "jetson_optimized": args.jetson, "timeout": args.timeout, "max_retries": args.max_retries,
        "dask_scheduler": args.dask, "strategy": args.strategy, "n_trials": args.n_trials,
        "expect_metrics": args.expect_metrics, "max_failures": args.max_failures, "isolation": args.isolation,
    }
    data.update({k: v for k, v in flags.items() if v is not None})
    _objective_flags(args, data)
    if "base_config" not in data:
        raise SpecError("no base config: give a sweep YAML file (sweeplab run sweeps/x.yaml) or "
                        "--base BASE.json with one or more --param PATH VALUE ...")
    if not data.get("sweep") and not data.get("zip"):
        raise SpecError("no parameters to sweep: add --param PATH VALUE [VALUE ...], PATH=V1,V2 or a 'sweep:' "
                        "mapping in the YAML")
    return spec_from_mapping(data, where=where), spec_dir


def _objective_flags(args: argparse.Namespace, data: dict[str, Any]) -> None:
    """--metric and --maximize/--minimize set the objective, or change one the YAML gives."""
    if args.metric is None and args.direction is None:
        return
    current = data.get("objective")
    if isinstance(current, list):
        current = current[0] if current else None
    metric = args.metric or (current or {}).get("metric")
    direction = args.direction or (current or {}).get("direction")
    if metric is None:
        raise SpecError(f"--{args.direction} needs a metric: add --metric NAME (or an 'objective:' in the YAML)")
    if direction is None:
        raise SpecError(f"--metric {metric} needs a direction: add --maximize or --minimize")
    data["objective"] = {"metric": metric, "direction": direction}


def set_verbosity(verbose: int, quiet: bool) -> None:
    """Route sweeplab's log records to stderr at the level the flags ask for (-v: info, -vv: debug)."""
    import logging

    if quiet or not verbose:
        return
    level = logging.DEBUG if verbose >= 2 else logging.INFO
    logging.getLogger("sweeplab").setLevel(level)
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)


def make_screen(args: argparse.Namespace) -> Screen:
    """The screen at the verbosity of -q / -v / -vv."""
    from ..console.screen import Screen

    return Screen(quiet=args.quiet, verbosity=-1 if args.quiet else args.verbose)


def run_main(argv: list[str]) -> int:
    """``sweeplab run``."""
    # intermixed: overrides may come before, between or after the options
    args = run_parser().parse_intermixed_args(argv)
    set_verbosity(args.verbose, args.quiet)
    if args.list and not args.dry_run:
        raise SpecError("--list only goes with --dry-run: add --dry-run to print every trial without running")
    spec, spec_dir = build_spec(args)
    from ..planning.resolve import resolve
    resolved = resolve(spec, spec_dir=spec_dir)
    screen = make_screen(args)
    if args.dry_run:
        from ..engine.launch import prepare
        preview = prepare(resolved, connect=False)
        screen.plan_summary(resolved, preview.plan, preview.budget, dry_run=True, estimate=preview.estimate)
        for line in power_lines(resolved):
            screen.say(line)
        if args.list:
            screen.trial_list(preview.plan)
        return 0
    return run_sweep(resolved, screen, yes=args.yes, allow_drift=args.allow_drift,
                     dashboard_port=args.dashboard_port if args.dashboard else None)


def power_lines(sweep: ResolvedSweep) -> list[str]:
    """What a replicated grid can detect, one line per swept axis (for the dry run), or nothing.

    Each axis (a zip group counts once) is a factor whose level pools the other axes' grid points;
    the replicates are blocks. Sampled designs and searches have no fixed levels to speak of.
    """
    if sweep.spec.strategy != "grid" or sweep.replicates < 2 or not sweep.axes:
        return []
    from ..analysis.compute.power import plan_power_notes
    names = {" + ".join(axis.paths): len(axis.rows) for axis in sweep.axes}
    notes = plan_power_notes(names, sweep.replicates)
    return [f"  power       : {name}: {note.sentence()}" for name, note in notes.items() if names[name] > 1]


def run_sweep(sweep: ResolvedSweep, screen: Screen, *, yes: bool, allow_drift: bool,
              dashboard_port: int | None = None) -> int:
    """Prepare the run, show the plan, confirm if large and interactive, run, and return the exit code.

    ``dashboard_port``: serve the dashboard (in a child process, on 127.0.0.1) while the sweep runs.
    """
    from ..console.progress import ProgressObserver
    from ..engine.launch import prepare
    # refusals (existing sweep, drift, an unreachable or unshared Dask cluster) come before anything
    # is shown as started or written
    with prepare(sweep, allow_drift=allow_drift) as launch:
        if not screen.quiet:
            screen.plan_summary(sweep, launch.plan, launch.budget, dry_run=False, estimate=launch.estimate)
        total = len(launch.plan)
        if total > CONFIRM_ABOVE and not yes and screen.interactive:
            if not screen.confirm(f"Run {total} trials?"):
                screen.say("Nothing was run.")
                return 0  # declining is not a failure: nothing was written
        if dashboard_port is None:
            code = launch.run(ProgressObserver(screen, sweep)).exit_code
        else:
            from ..dashboard.server import BackgroundDashboard
            with BackgroundDashboard(sweep.sweep_dir.parent, sweep.db_path, dashboard_port,
                                     sweep_id=sweep.sweep_id) as dashboard:
                print(f"Dashboard: {dashboard.address}sweep/{sweep.sweep_id}", flush=True)
                code = launch.run(ProgressObserver(screen, sweep)).exit_code
    _warn_no_metrics(sweep, screen)
    return code


def _warn_no_metrics(sweep: ResolvedSweep, screen: Screen) -> None:
    """Say how many completed trials reported nothing: a typo in the final print is not a green sweep."""
    from ..errors import JournalError
    from ..journal.reader import JournalReader

    try:
        with JournalReader.open(sweep.db_path) as reader:
            holes = reader.no_metrics_count(sweep.sweep_id)
    except JournalError:  # the run has said what went wrong with its database
        return
    if holes:
        screen.warn(f"{holes} completed trial(s) reported no metrics (no metrics.json, no JSON line on stdout): "
                    "see docs/trial_contract.md; 'expect_metrics: [NAME]' (--expect-metric NAME) makes that a "
                    "failure")


def resume_parser() -> argparse.ArgumentParser:
    """The arguments of ``sweeplab resume``."""
    parser = argparse.ArgumentParser(prog="sweeplab resume",
                                     description="Resume a sweep from the spec stored in its folder: "
                                                 "completed trials are skipped, the rest run.")
    parser.add_argument("sweep_id")
    parser.add_argument("--sweep-dir", "--output", dest="sweep_dir", default="logs/sweeps", metavar="DIR",
                        help="folder of the sweep folders (default logs/sweeps)")
    add_execution_flags(parser)
    return parser


def resume_main(argv: list[str]) -> int:
    """``sweeplab resume SWEEP_ID``: continue from the spec stored with the sweep."""
    args = resume_parser().parse_args(argv)
    set_verbosity(args.verbose, args.quiet)
    from ..engine.folder import load_stored_spec
    spec, spec_dir = load_stored_spec(args.sweep_id, Path(args.sweep_dir))
    overrides = {"resume": True}
    if args.parallel is not None:
        overrides["parallel"] = args.parallel
    if args.jetson:
        overrides["jetson_optimized"] = True
    if args.timeout is not None:
        overrides["timeout"] = args.timeout
    if args.max_retries is not None:
        overrides["max_retries"] = args.max_retries
    if args.dask is not None:
        overrides["dask_scheduler"] = args.dask
    spec = spec_from_mapping({**spec.model_dump(exclude_unset=True), **overrides}, where="sweeplab resume")
    from ..planning.resolve import resolve
    resolved = resolve(spec, spec_dir=spec_dir)
    return run_sweep(resolved, make_screen(args), yes=True, allow_drift=args.allow_drift)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_main(sys.argv[1:]))
