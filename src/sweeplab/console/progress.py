"""Live progress of a running sweep: a rich bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from ..engine.observer import Observer, SweepOutcome
from .screen import Screen, format_duration

if TYPE_CHECKING:
    from ..engine.resources import Budget
    from ..planning.resolve import ResolvedSweep
    from ..trial import Trial, TrialResult

__all__ = ["ProgressObserver"]


class ProgressObserver(Observer):
    """Draws progress with completed / failed / running counts and an ETA from observed durations."""

    def __init__(self, screen: Screen, sweep: ResolvedSweep) -> None:
        self.screen = screen
        self.sweep = sweep
        self.counts: Counter[str] = Counter()
        self.running = 0
        self.total = 0
        self.done_before = 0
        self.slots = 1
        self.durations: list[float] = []
        self.started_at = time.monotonic()
        self.progress: Progress | None = None
        self.task = None
        self.errors: list[str] = []

    # --- figures ------------------------------------------------------------------------
    @property
    def ended(self) -> int:
        return self.done_before + sum(self.counts.values())

    def eta(self) -> float | None:
        if not self.durations:
            return None
        remaining = self.total - self.ended
        mean = sum(self.durations) / len(self.durations)
        return remaining * mean / max(1, min(self.slots, max(1, remaining)))

    def _status(self) -> str:
        return (f"completed {self.done_before + self.counts['completed']}  failed "
                f"{sum(v for k, v in self.counts.items() if k != 'completed')}  running {self.running}  "
                f"ETA {format_duration(self.eta())}")

    # --- hooks ----------------------------------------------------------------------------
    def started(self, total: int, done: int, budget: Budget) -> None:
        self.total, self.done_before, self.slots = total, done, budget.slots
        self.started_at = time.monotonic()
        if self.screen.quiet:
            return
        if done:
            self.screen.say(f"Resuming: {done} of {total} trials already completed, {total - done} to run.")
        if self.screen.console.is_terminal:
            self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                                     console=self.screen.console, transient=False)
            self.progress.start()
            self.task = self.progress.add_task(self.sweep.sweep_id, total=total, completed=done,
                                               status=self._status())

    def trial_started(self, trial: Trial, attempt: int) -> None:
        self.running += 1
        self._refresh()

    def trial_finished(self, trial: Trial, result: TrialResult, retry_in: float | None) -> None:
        self.running -= 1
        status = result.status.value
        if result.duration:
            self.durations.append(result.duration)
        if retry_in is None:
            self.counts[status] += 1
        if result.error and status != "completed":
            self.errors.append(f"{trial.experiment_id} (attempt {result.attempt}, {status}): "
                               f"{result.error.strip().splitlines()[-1][:200] if result.error.strip() else ''}")
        if self.progress is None and not self.screen.quiet:
            what = f"{status}, retry in {retry_in:.1f}s" if retry_in is not None else status
            self.screen.say(f"[{self.ended}/{self.total}] {trial.experiment_id}: {what} "
                            f"({result.duration:.2f}s) | {self._status()}")
        self._refresh()

    def stopping(self, force: bool, running: int) -> None:
        if force:
            message = f"Cancelling {running} running trial(s); the sweep can be resumed."
        else:
            message = (f"Stopping: no new trials will start; waiting for {running} running trial(s). "
                       "Press Ctrl-C again to cancel them now.")
        self.screen.err.print(message, markup=False)

    def tick(self) -> None:
        self._refresh()

    def _refresh(self) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=self.ended, status=self._status())

    def finished(self, outcome: SweepOutcome) -> None:
        if self.progress is not None:
            self._refresh()
            self.progress.stop()
        screen = self.screen
        counts = ", ".join(f"{k} {v}" for k, v in sorted(outcome.counts.items())) or "nothing ran"
        elapsed = format_duration(time.monotonic() - self.started_at)
        state = "interrupted" if outcome.interrupted else (
            "completed" if outcome.exit_code == 0 else "finished with trials not completed")
        screen.console.print(f"Sweep {outcome.sweep_id} {state}: {outcome.completed}/{outcome.total} completed "
                             f"({counts}) in {elapsed}.", markup=False)
        for line in self.errors[-5:]:
            screen.console.print(f"  last error: {line}", markup=False)
        screen.console.print(f"  results : {self.sweep.sweep_dir}/sweep_results.json; database {self.sweep.db_path}",
                             markup=False)
        if outcome.exit_code != 0:
            screen.console.print(f"  resume  : sweeplab resume {outcome.sweep_id} --sweep-dir "
                                 f"{self.sweep.sweep_dir.parent}", markup=False)
        for warning in outcome.warnings:
            screen.warn(warning)
