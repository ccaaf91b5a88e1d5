"""Running a resolved sweep from the CLI: plan summary, confirmation, progress, exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..console.progress import ProgressObserver
from ..console.screen import Screen
from ..engine.drift import check_resumable
from ..planning.plan import Plan
from ..sweep import decide_for, estimate_duration, executor_for, run_resolved

if TYPE_CHECKING:
    from ..planning.resolve import ResolvedSweep

__all__ = ["execute", "CONFIRM_ABOVE"]

#: sweeps with more trials than this ask for confirmation on a terminal (unless --yes)
CONFIRM_ABOVE = 100


def execute(sweep: ResolvedSweep, screen: Screen, *, yes: bool, allow_drift: bool) -> int:
    """Show the plan, confirm if large and interactive, run, and return the exit code."""
    check_resumable(sweep, allow_drift)  # refuse before anything is shown as started
    plan = Plan(sweep)
    executor = executor_for(sweep)  # a Dask cluster is connected (or refused) before anything is written
    try:
        budget = decide_for(sweep, plan, executor)
        if not screen.quiet:
            screen.plan_summary(sweep, plan, budget, dry_run=False, estimate=estimate_duration(sweep, plan, budget))
        if len(plan) > CONFIRM_ABOVE and not yes and screen.interactive:
            answer = screen.console.input(f"Run {len(plan)} trials? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                screen.say("Nothing was run.")
                return 1
        outcome = run_resolved(sweep, observer=ProgressObserver(screen, sweep), allow_drift=allow_drift,
                               budget=budget, executor=executor)
    finally:
        if executor is not None:
            executor.shutdown(cancel=True)  # run_resolved shuts it down already; a refusal above must too
    return outcome.exit_code
