"""Live progress of a running sweep: a one-line bar on a terminal, one display in a notebook, plain lines
elsewhere.

On a terminal the bar stays on the last line and fits its width (:mod:`.progress_line`); every failed
attempt gets a line above it, and with ``-v`` every finished trial too. In a Jupyter kernel the whole
sweep is one display updated in place (:mod:`.notebook`). Anywhere else (CI, nohup, pipes) each
finished attempt is one plain line without control characters.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.live import Live
from rich.text import Text

from ..engine.observer import Observer, SweepOutcome
from .progress_line import Tally, fit, progress_line, status_words
from .python_terms import python_terms, resume_call
from .screen import Screen, format_duration

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from ..engine.resources import Budget
    from ..planning.resolve import ResolvedSweep
    from ..trial import Trial, TrialResult
    from .notebook import NotebookDisplay

__all__ = ["ProgressObserver"]


class _Line:
    """The bar as a rich renderable: laid out again at the console's width on every refresh."""

    def __init__(self, observer: ProgressObserver) -> None:
        self.observer = observer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        observer = self.observer
        yield progress_line(observer.sweep.sweep_id, observer.tally, eta=observer.eta(),
                            elapsed=time.monotonic() - observer.started_at, width=options.max_width)


class ProgressObserver(Observer):
    """Draws progress with completed / failed / timeout / running counts and an ETA from observed durations.

    ``python_api``: the run was started from Python, so the closing lines and warnings say how to
    resume in Python (``resume=True``) rather than on the command line.
    """

    def __init__(self, screen: Screen, sweep: ResolvedSweep, *, python_api: bool = False) -> None:
        self.screen = screen
        self.sweep = sweep
        self.python_api = python_api
        self.tally = Tally()
        self.slots = 1
        self._seconds, self._timed = 0.0, 0  # the attempts' total duration and how many: the ETA's mean
        self.started_at = time.monotonic()
        self.live: Live | None = None
        self.notebook: NotebookDisplay | None = None
        self.errors: list[str] = []
        # The engine reports how many attempts run (attempts_running) every round. Until it has, the count
        # is kept from the start and end hooks; after, those are left out: an end is announced only once
        # journaled, after the next attempt may already have started in its slot (2 slots showing 3).
        self._engine_counts = False

    # --- figures ------------------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        """Trials ended in this run, per final state."""
        return dict(self.tally.counts)

    @property
    def running(self) -> int:
        return self.tally.running

    def eta(self) -> float | None:
        if not self._timed:
            return None
        remaining = self.tally.total - self.tally.ended
        mean = self._seconds / self._timed
        return remaining * mean / max(1, min(self.slots, max(1, remaining)))

    def _status(self) -> str:
        return status_words(self.tally, self.eta())

    # --- hooks ----------------------------------------------------------------------------
    def started(self, total: int, done: int, budget: Budget) -> None:
        self.tally = Tally(total=total, done_before=done)
        self.slots = budget.slots
        self.started_at = time.monotonic()
        if self.screen.quiet:
            return
        if self.screen.notebook:
            from .notebook import NotebookDisplay
            self.notebook = NotebookDisplay(self.sweep.sweep_id, self.tally)
            if done:
                self.notebook.summary.append(f"Resuming: {done} of {total} trials already completed.")
            self.notebook.update(None, force=True)
            return
        if done:
            self.screen.say(f"Resuming: {done} of {total} trials already completed, {total - done} to run.")
        if self.screen.console.is_terminal:
            self.live = Live(_Line(self), console=self.screen.console, refresh_per_second=4, transient=False,
                             redirect_stdout=False, redirect_stderr=False)
            self.live.start()

    def trial_started(self, trial: Trial, attempt: int) -> None:
        if not self._engine_counts:
            self.tally.running += 1
        if self.screen.verbosity >= 2 and self.notebook is None:
            self._above(Text(f"started {self._short(trial.experiment_id)} (attempt {attempt})", style="dim"))
        self._refresh()

    def attempts_running(self, count: int) -> None:
        self._engine_counts = True
        self.tally.running = count

    def trial_finished(self, trial: Trial, result: TrialResult, retry_in: float | None) -> None:
        if not self._engine_counts:
            self.tally.running = max(0, self.tally.running - 1)
        status = result.status.value
        if result.duration:
            self._seconds += result.duration
            self._timed += 1
        if retry_in is None:
            self.tally.counts[status] += 1
        else:
            self.tally.retries += 1
        empty = status == "completed" and not result.metrics and not result.extra
        if empty:
            self.tally.no_metrics += 1
        error = _last_line(result.error) if status != "completed" else ""
        attempt = f"attempt {result.attempt}" + (f", retry in {retry_in:.1f}s" if retry_in is not None else "")
        name = self._short(trial.experiment_id)
        if status != "completed" and retry_in is None:  # the summary lists the trials that stay failed
            self.errors.append(f"{name} ({attempt}, {status}): {error[:200]}")
        if self.screen.quiet:
            return
        if self.notebook is not None:
            if status != "completed":
                self.notebook.failures.append(f"{name}: {status} ({attempt}): {error}")
            elif empty:
                self.notebook.failures.append(f"{name}: completed but reported no metrics")
        elif self.live is not None:
            if status != "completed":
                self._above(Text(f"✗ {name}: {status} ({attempt}): {error}", style="red"))
            elif empty:
                self._above(Text(f"! {name}: completed but reported no metrics", style="yellow"))
            elif self.screen.verbose:
                self._above(Text(f"✓ {name}: completed in {result.duration:.2f}s "
                                 f"{_metrics_text(result.metrics)}"))
        else:
            what = f"{status}, retry in {retry_in:.1f}s" if retry_in is not None else status
            what += " (no metrics)" if empty else ""
            self.screen.say(f"[{self.tally.ended}/{self.tally.total}] {trial.experiment_id}: {what} "
                            f"({result.duration:.2f}s) | {self._status()}")
            if error:
                self.screen.say(f"    error: {error}")
            elif self.screen.verbose and result.metrics:
                self.screen.say(f"    {_metrics_text(result.metrics)}")
        self._refresh()

    def stopping(self, force: bool, running: int) -> None:
        if force:
            message = f"Cancelling {running} running trial(s); the sweep can be resumed."
        else:
            again = "Interrupt the kernel again" if self.notebook is not None else "Press Ctrl-C again"
            message = (f"Stopping: no new trials will start; waiting for {running} running trial(s). "
                       f"{again} to cancel them now.")
        if self.notebook is not None:
            self.notebook.summary.append(message)
            self.notebook.update(self.eta(), force=True)
        else:
            self.screen.err.print(message, markup=False)

    def tick(self) -> None:
        self._refresh()

    def _short(self, experiment_id: str) -> str:
        """The trial's id without the sweep's id in front (the bar and the summary name the sweep)."""
        prefix = f"{self.sweep.sweep_id}_"
        return experiment_id[len(prefix):] if experiment_id.startswith(prefix) else experiment_id

    def _above(self, line: Text) -> None:
        """A line printed above the bar, cut to the width so that it never wraps into the bar."""
        console = self.screen.console
        line.truncate(console.width, overflow="ellipsis")
        line.no_wrap = True
        console.print(line)

    def _refresh(self) -> None:
        # the terminal's line is redrawn by rich's own thread, 4 times a second, from the current counts:
        # a sweep of quick trials does not pay a redraw per trial
        if self.notebook is not None:
            self.notebook.update(self.eta())

    def finished(self, outcome: SweepOutcome) -> None:
        if self.live is not None:
            self.live.refresh()
            self.live.stop()
        lines = self._summary(outcome)
        if self.notebook is not None:
            self.notebook.summary.extend(lines)
            self.notebook.update(None, force=True)
            return
        console = self.screen.console
        for line in lines:
            if line.startswith("warning: "):
                self.screen.warn(line[len("warning: "):])
            else:
                console.print(line, markup=False)

    def _summary(self, outcome: SweepOutcome) -> list[str]:
        """The closing lines: how the sweep ended, the last errors, where results are, how to resume."""
        counts = ", ".join(f"{k} {v}" for k, v in sorted(outcome.counts.items())) or "nothing ran"
        elapsed = format_duration(time.monotonic() - self.started_at)
        state = "interrupted" if outcome.interrupted else (
            "completed" if outcome.exit_code == 0 else "finished with trials not completed")
        lines = [f"Sweep {outcome.sweep_id} {state}: {outcome.completed}/{outcome.total} completed "
                 f"({counts}) in {elapsed}."]
        if self.notebook is None:  # the notebook's display lists the failures already
            width = self.screen.console.width if self.live is not None else 10_000  # on a terminal: one line each
            lines += [fit(f"  last error: {line}", width) for line in self.errors[-5:]]
        lines.append(f"  results : {self.sweep.sweep_dir}/sweep_results.json; database {self.sweep.db_path}")
        if outcome.exit_code != 0:
            if self.python_api:
                lines.append(f"  resume  : {resume_call(outcome.sweep_id, str(self.sweep.sweep_dir.parent))}")
            else:
                lines.append(f"  resume  : sweeplab resume {outcome.sweep_id} --sweep-dir {self.sweep.sweep_dir.parent}")
        terms = python_terms if self.python_api else str
        lines += [f"warning: {terms(warning)}" for warning in outcome.warnings]
        return lines


def _last_line(error: str | None) -> str:
    lines = [line.strip() for line in (error or "").strip().splitlines() if line.strip()]
    return fit(lines[-1], 300) if lines else ""


def _metrics_text(metrics: dict[str, Any]) -> str:
    return " ".join(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
                    for name, value in list(metrics.items())[:8])
