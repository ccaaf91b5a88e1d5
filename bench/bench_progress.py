"""What drawing progress costs the coordinator, per trial: a terminal's line, plain lines, a notebook's display.

The observer's hooks run in the coordinator's thread, so their cost is paid between a trial's end and
the next start. Each display is driven through the hooks of a 5,000-trial sweep (started, running
count, finished, tick), rounds interleaved so that a busy moment of this shared machine hits them alike;
"redraw per hook" is the terminal line redrawn at every hook, for comparison with rich's own
4-a-second redraw that the display uses, and "printed through rich" is a pipe's line per trial
printed by rich's console, as before the screen wrote plain lines directly. The notebook display's IPython ``display`` is replaced by a
recorder (no kernel), which also counts the updates it would send. Run from the repository root:

    python bench/bench_progress.py [--trials 5000] [--rounds 3]

Results are recorded in bench/results/progress.txt.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_engine import machine
from rich.console import Console

from sweeplab.console.progress import ProgressObserver
from sweeplab.console.screen import Screen
from sweeplab.engine.observer import SweepOutcome
from sweeplab.engine.resources import Budget
from sweeplab.planning.resolve import resolve
from sweeplab.planning.spec import spec_from_mapping
from sweeplab.trial import Trial, TrialResult, TrialStatus


class _Handle:
    updates = 0

    def update(self, bundle: dict[str, Any], raw: bool = False) -> None:
        _Handle.updates += 1


def _display(bundle: dict[str, Any], raw: bool = False, display_id: bool = False) -> _Handle:
    return _Handle()


class _RichPrintScreen(Screen):
    """Plain lines printed through rich, as ``Screen.say`` did before it wrote them directly."""

    def say(self, text: str = "") -> None:
        if not self.quiet:
            self.console.print(text, markup=False)


def _drive(observer: ProgressObserver, trials: list[Trial], results: list[TrialResult], redraw: bool) -> float:
    observer.started(len(trials), 0, Budget(slots=2, memory_bytes=1 << 30, cpus=2, jetson=False))
    started = time.perf_counter()
    for trial, result in zip(trials, results):
        observer.trial_started(trial, 1)
        observer.attempts_running(1)
        if redraw and observer.live is not None:
            observer.live.refresh()
        observer.trial_finished(trial, result, None)
        if redraw and observer.live is not None:
            observer.live.refresh()
        observer.tick()
    elapsed = time.perf_counter() - started
    observer.finished(SweepOutcome(observer.sweep.sweep_id, dict(observer.counts), len(trials)))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import IPython.display

    IPython.display.display = _display  # the notebook display, without a kernel
    folder = Path(tempfile.mkdtemp())
    (folder / "base.json").write_text('{"lr": 0.1}')
    sweep = resolve(spec_from_mapping({"base_config": str(folder / "base.json"), "sweep": {"lr": [0.1]},
                                       "sweep_id": "bench", "runner": "command", "command": ["true"],
                                       "output_dir": str(folder), "db_path": str(folder / "db")}))
    trials = [Trial(index=i, key=f"k{i}", experiment_id=f"bench_exp{i:05d}", params={"lr": i})
              for i in range(args.trials)]
    results = [TrialResult(key=f"k{i}", attempt=1, status=TrialStatus.COMPLETED, duration=0.01,
                           metrics={"loss": 0.1}) for i in range(args.trials)]

    def screen(kind: str) -> Screen:
        out = io.StringIO()
        if kind == "notebook":
            return Screen(console=Console(file=out, force_jupyter=True))
        console = Console(file=out, width=80, force_terminal=kind == "terminal", color_system=None,
                          force_jupyter=False)
        return _RichPrintScreen(console=console) if kind == "rich-plain" else Screen(console=console)

    kinds = {"terminal line (rich redraws 4/s)": ("terminal", False),
             "terminal line, redraw per hook": ("terminal", True),
             "plain lines (pipe)": ("plain", False),
             "plain lines printed through rich": ("rich-plain", False),
             "notebook display": ("notebook", False)}
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    updates: list[int] = []
    for _ in range(args.rounds):
        for label, (kind, redraw) in kinds.items():
            _Handle.updates = 0
            times[label].append(_drive(ProgressObserver(screen(kind), sweep), trials, results, redraw))
            if kind == "notebook":
                updates.append(_Handle.updates)
    print(machine())
    print(f"{args.trials} trials, {args.rounds} rounds, median seconds (microseconds per trial):")
    for label, values in times.items():
        median = statistics.median(values)
        print(f"  {label:34s} {median:7.3f} s  ({median / args.trials * 1e6:6.1f} us/trial)")
    print(f"  notebook display updates sent per sweep: {statistics.median(updates):.0f} (throttled to 4/s)")


if __name__ == "__main__":
    main()
