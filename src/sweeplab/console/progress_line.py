"""The text of the progress display: the counts, the one-line bar fitted to the width, failure lines.

Pure functions of the numbers, so the layout is tested at every width without a terminal.

>>> tally = Tally(total=120)
>>> tally.counts.update({"completed": 35, "failed": 1, "timeout": 1}); tally.running = 2
>>> str(progress_line("sweep_lr", tally, eta=65.0, elapsed=42.0, width=80))
'sweep_lr ━━━━━━━━━━━━  37/120  35 ok, 1 failed, 1 timeout, 2 running, ETA 1m 05s'
>>> str(progress_line("sweep_lr", tally, eta=65.0, elapsed=42.0, width=60))
'sweep… ━━━━━━━━  37/120  35 ok 1 fail 1 t/o 2 run ETA 1m 05s'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rich.text import Text

__all__ = ["FAILURE_STATES", "Tally", "fit", "progress_line", "status_words"]

#: the states a trial's attempt can end in, besides completed, in the order the line shows them
FAILURE_STATES = ("failed", "timeout", "crashed", "cancelled")
_SHORT = {"completed": "ok", "failed": "fail", "timeout": "t/o", "crashed": "crash", "cancelled": "cancel",
          "running": "run"}
MIN_BAR, MAX_BAR, MIN_NAME, WANT_NAME = 8, 40, 6, 24


@dataclass
class Tally:
    """What the display counts: trials ended per final state, attempts running, the plan's size."""

    total: int = 0
    done_before: int = 0  # completed by an earlier run (a resume)
    counts: Counter[str] = field(default_factory=Counter)
    running: int = 0
    retries: int = 0
    no_metrics: int = 0  # completed trials that reported nothing (counted in "completed" too)

    @property
    def ended(self) -> int:
        return self.done_before + sum(self.counts.values())

    @property
    def completed(self) -> int:
        return self.done_before + self.counts["completed"]


def _clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def status_words(tally: Tally, eta: float | None, elapsed: float | None = None, *, short: bool = False) -> str:
    """``35 ok, 1 failed, 1 timeout, 2 running, ETA 1m 05s`` (``short``: ``35 ok 1 fail 1 t/o 2 run ETA 1m 05s``).

    Each final state is counted apart (a timeout is not a failure); states with no trial are left out.
    Completed trials that reported no metrics are also counted apart, after ``ok`` (``2 no metrics``).
    """
    parts = [(tally.completed, "completed")]
    parts += [(tally.counts[state], state) for state in FAILURE_STATES if tally.counts[state]]
    parts.append((tally.running, "running"))
    words = [f"{n} {_SHORT[state] if short or state == 'completed' else state}" for n, state in parts]
    if tally.no_metrics:  # completed, but a hole in the data: said beside the ok count
        words.insert(1, f"{tally.no_metrics} {'empty' if short else 'no metrics'}")
    if eta is not None:
        words.append(f"ETA {_clock(eta)}")
    if elapsed is not None:
        words.append(_clock(elapsed))
    return (" " if short else ", ").join(words)


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in an ellipsis when cut."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…" if width > 0 else ""


def progress_line(name: str, tally: Tally, *, eta: float | None, elapsed: float | None, width: int) -> Text:
    """One line of at most ``width`` cells: the sweep's name, a bar, ``ended/total`` and the counts.

    What gives way as the line narrows: the elapsed time, the words (``fail`` for ``failed`` …), the
    name (cut to 24, then 6 characters, then left out), then the bar; the counts are cut only when not
    even they fit.
    """
    counts = f"{tally.ended}/{tally.total}"
    variants = (status_words(tally, eta, elapsed), status_words(tally, eta), status_words(tally, eta, short=True))
    for wanted in (min(len(name), WANT_NAME), min(len(name), MIN_NAME), 0):
        for words in variants:
            room = width - len(counts) - len(words) - 4  # spaces: after the bar, and two before the words
            if wanted and room >= MIN_BAR + 1 + wanted:
                bar = max(MIN_BAR, min(MAX_BAR, room - 1 - len(name)))
                return _assemble(fit(name, room - 1 - bar) + " ", bar, tally, counts, words)
            if not wanted and room >= MIN_BAR:
                return _assemble("", min(MAX_BAR, room), tally, counts, words)
    return Text(fit(f"{counts} {variants[-1]}", width))


def _assemble(label: str, bar: int, tally: Tally, counts: str, words: str) -> Text:
    filled = round(bar * tally.ended / tally.total) if tally.total else bar
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(label, style="bold")
    line.append("━" * filled, style="green")
    line.append("━" * (bar - filled), style="grey37")
    line.append(f"  {counts}  ")
    line.append(words)
    return line
