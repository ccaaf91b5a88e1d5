"""What the CLI shows: the plan summary, trial lists, progress and final tables (rich).

On a terminal rich draws live progress; elsewhere (CI, nohup, pipes) plain lines without
control characters.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ..engine.resources import Budget
    from ..planning.plan import Plan
    from ..planning.resolve import ResolvedSweep

__all__ = ["Screen", "format_duration", "short_values"]


def format_duration(seconds: float | None) -> str:
    """3725 → '1h 02m 05s'; None → 'unknown'."""
    if seconds is None:
        return "unknown"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def short_values(values: list[Any], limit: int = 8) -> str:
    """A readable, bounded rendering of a value list."""
    shown = [repr(v) if isinstance(v, str) else str(v) for v in values[:limit]]
    if len(values) > limit:
        shown[-1:] = ["…", str(values[-1])]
    return ", ".join(shown)


#: verbosity levels: -1 final summary and errors only (-q), 0 the plan and a progress line, 1 also a line per
#: finished trial with its metrics (-v), 2 also a line per attempt started (-vv)
QUIET, NORMAL, VERBOSE, DEBUG = -1, 0, 1, 2


class Screen:
    """The CLI's output, at a verbosity level (:data:`QUIET` … :data:`DEBUG`).

    ``quiet=True`` is ``verbosity=QUIET``: only final summaries and errors. In a Jupyter kernel
    (:attr:`notebook`) the progress is one display updated in place.
    """

    def __init__(self, quiet: bool = False, console: Console | None = None, *, verbosity: int = NORMAL,
                 err: Console | None = None) -> None:
        self.verbosity = QUIET if quiet else max(QUIET, min(DEBUG, verbosity))
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.err = err or Console(stderr=True, highlight=False, soft_wrap=True)

    @property
    def quiet(self) -> bool:
        """Only final summaries and errors are shown."""
        return self.verbosity <= QUIET

    @property
    def verbose(self) -> bool:
        """A line per finished trial is shown (``-v``)."""
        return self.verbosity >= VERBOSE

    @property
    def interactive(self) -> bool:
        return self.console.is_terminal and sys.stdin.isatty()

    @property
    def notebook(self) -> bool:
        """True inside a Jupyter kernel, where every print would become an output block of its own."""
        return bool(self.console.is_jupyter)

    def confirm(self, question: str) -> bool:
        """Ask ``question`` followed by ``[y/N]``; True only for y/yes. Square brackets are shown as written."""
        try:
            answer = self.console.input(f"{question} [y/N] ", markup=False)
        except EOFError:  # stdin closed: no answer is no
            return False
        return answer.strip().lower() in ("y", "yes")

    def say(self, text: str = "") -> None:
        """A line of text, as written (no markup), unless quiet."""
        if self.quiet:
            return
        console = self.console
        if console.is_terminal or console.is_jupyter:
            console.print(text, markup=False)
        else:  # a pipe or a file: rich's rendering would cost ~2 ms a line, a sweep's coordinator pays it per trial
            console.file.write(text + "\n")
            console.file.flush()

    def warn(self, text: str) -> None:
        self.err.print(f"warning: {text}", markup=False)

    def plan_summary(self, sweep: ResolvedSweep, plan: Plan, budget: Budget, *, dry_run: bool,
                     estimate: tuple[float | None, str]) -> None:
        """The plan: what runs, how many, where results go, parallelism and duration estimate.

        ``estimate`` is (seconds or None, what it is based on).
        """
        if self.quiet:
            return
        out = self.console
        out.print(f"Sweep [bold]{sweep.sweep_id}[/bold]" + (" (dry run: nothing is written)" if dry_run else ""))
        if sweep.spec.description:
            out.print(f"  {sweep.spec.description}", markup=False)
        out.print(f"  base config : {sweep.base_path}", markup=False)
        out.print(f"  runner      : {sweep.runner_name}", markup=False)
        table = Table(title=None, show_edge=False, pad_edge=False, box=None, padding=(0, 2))
        table.add_column("parameter")
        table.add_column("values")
        table.add_column("count", justify="right")
        for axis in sweep.axes:
            for path in axis.paths:
                values = axis.values_of(path)
                table.add_row(path, short_values(values), str(len(values)))
        out.print(table)
        for axis in sweep.axes:
            if axis.zipped:
                out.print(f"  zip group   : {', '.join(axis.paths)} vary together ({len(axis.rows)} rows)", markup=False)
        if sweep.replicates > 1:
            labels = [label for label in sweep.labels if label is not None]
            out.print(f"  replicates  : {sweep.replicates} per grid point ({short_values(labels)})", markup=False)
        from ..planning.strategy import describe_strategy  # (sampled designs and searches say how they choose)
        if (strategy := describe_strategy(sweep.spec)) is not None:
            out.print(f"  strategy    : {strategy}", markup=False)
        out.print(f"  trials      : {len(plan)}", markup=False)
        out.print(f"  output      : {sweep.sweep_dir}", markup=False)
        out.print(f"  database    : {sweep.db_path}", markup=False)
        out.print(f"  parallelism : {budget.slots} at once ({'; '.join(budget.reasons)})", markup=False)
        seconds, basis = estimate
        out.print(f"  estimated   : {format_duration(seconds)} ({basis})", markup=False)

    def trial_list(self, plan: Plan) -> None:
        """Every trial of the plan: index, experiment id, parameters."""
        write = sys.stdout.write  # plain writes: a million rich renders would take minutes
        for trial in plan:
            params = " ".join(f"{k}={v!r}" for k, v in trial.params.items())
            label = f" [{trial.label}]" if trial.label else ""
            write(f"{trial.index:6d}  {trial.experiment_id}  {params}{label}\n")
        sys.stdout.flush()
