"""The progress display: one line that fits the terminal, counts by state, failure lines, the running count.

The observer is driven through the engine's hooks with real records (:class:`Trial`, :class:`TrialResult`)
and draws on a rich console that records what a terminal of the given width would show.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from sweeplab.console.progress import ProgressObserver
from sweeplab.console.progress_line import Tally, progress_line, status_words
from sweeplab.console.screen import Screen
from sweeplab.engine.observer import SweepOutcome
from sweeplab.engine.resources import Budget
from sweeplab.planning.resolve import resolve
from sweeplab.planning.spec import spec_from_mapping
from sweeplab.trial import Trial, TrialResult, TrialStatus

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _tally(total: int, **counts: int) -> Tally:
    running = counts.pop("running", 0)
    tally = Tally(total=total)
    tally.counts.update(counts)
    tally.running = running
    return tally


@pytest.mark.parametrize("width", range(30, 161, 7))
@pytest.mark.parametrize("name", ["s", "sweep_lr_20261130_002233", "sweep_" + "x" * 120])
def test_the_line_fits_every_width_and_keeps_the_counts(width: int, name: str) -> None:
    tally = _tally(100000, completed=12340, failed=3, timeout=2, crashed=1, running=2)
    line = str(progress_line(name, tally, eta=36125.0, elapsed=4000.0, width=width))
    assert len(line) <= width, line
    assert "\n" not in line
    if width >= 80:  # at 80 columns nothing is cut: every count is there, timeouts apart from failures
        assert "12346/100000" in line and "12340 ok" in line
        assert re.search(r"3 fail(ed)?\b", line) and re.search(r"2 (timeout|t/o)\b", line)
        assert re.search(r"2 run(ning)?\b", line) and "ETA 10h 02m 05s" in line


def test_the_line_uses_the_room_it_has() -> None:
    tally = _tally(12, completed=3, running=2)
    wide = str(progress_line("sweep_train", tally, eta=12.0, elapsed=3.0, width=120))
    assert wide.startswith("sweep_train ━") and wide.endswith("3 ok, 2 running, ETA 12s, 3s")
    assert wide.count("━") == 40  # the longest bar
    narrow = str(progress_line("sweep_train", tally, eta=12.0, elapsed=3.0, width=44))
    assert len(narrow) <= 44 and "3/12" in narrow and "2 run" in narrow


def test_status_words_count_each_final_state_apart() -> None:
    tally = _tally(10, completed=4, failed=1, timeout=2, cancelled=1, running=1)
    assert status_words(tally, None) == "4 ok, 1 failed, 2 timeout, 1 cancelled, 1 running"
    assert status_words(tally, 5.0, short=True) == "4 ok 1 fail 2 t/o 1 cancel 1 run ETA 5s"
    tally.done_before = 6  # a resume: the earlier completed trials are counted as ok
    assert status_words(tally, None).startswith("10 ok,")


# --- the observer on a terminal ------------------------------------------------------------------
@pytest.fixture
def sweep(tmp_path: Path):
    base = tmp_path / "base.json"
    base.write_text('{"lr": 0.1}')
    spec = spec_from_mapping({"base_config": str(base), "sweep": {"lr": [0.1, 0.2, 0.3, 0.4]}, "sweep_id": "sweep_lr",
                              "runner": "command", "command": ["true"], "output_dir": str(tmp_path / "out"),
                              "db_path": str(tmp_path / "db.sqlite")})
    return resolve(spec)


def _terminal(width: int = 80) -> tuple[Screen, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, color_system=None, force_jupyter=False,
                      highlight=False, soft_wrap=True)
    return Screen(console=console, err=Console(file=io.StringIO(), width=width)), out


def _trial(index: int) -> Trial:
    return Trial(index=index, key=f"k{index}", experiment_id=f"sweep_lr_exp{index:04d}", params={"lr": index / 10})


def _end(index: int, status: TrialStatus, error: str = "", attempt: int = 1) -> TrialResult:
    return TrialResult(key=f"k{index}", attempt=attempt, status=status, duration=0.5, error=error,
                       metrics={"loss": 0.25} if status is TrialStatus.COMPLETED else {})


def _budget(slots: int) -> Budget:
    return Budget(slots=slots, memory_bytes=8 << 30, cpus=slots, jetson=False, reasons=("test",))


def _lines(out: io.StringIO) -> list[str]:
    """What stays on the terminal: each redraw of the live line ends in a cursor move back up."""
    text = ANSI.sub("", out.getvalue().replace("\r", "\n"))
    return [line for line in text.split("\n") if line.strip()]


def test_failures_print_a_line_above_the_bar_and_timeouts_are_counted_apart(sweep) -> None:
    screen, out = _terminal(80)
    observer = ProgressObserver(screen, sweep)
    observer.started(4, 0, _budget(2))
    for i in range(2):
        observer.trial_started(_trial(i), 1)
    observer.trial_finished(_trial(0), _end(0, TrialStatus.FAILED, "Traceback\nValueError: lr too large " + "x" * 200),
                            None)
    observer.trial_finished(_trial(1), _end(1, TrialStatus.TIMEOUT, "no answer within 5s"), 2.0)
    observer.trial_finished(_trial(1), _end(1, TrialStatus.TIMEOUT, "no answer within 5s", attempt=2), None)
    observer.trial_finished(_trial(2), _end(2, TrialStatus.COMPLETED), None)
    observer.finished(SweepOutcome("sweep_lr", dict(observer.counts), 4))
    lines = _lines(out)
    live = lines[:next(i for i, line in enumerate(lines) if line.startswith("Sweep sweep_lr "))]
    assert all(len(line) <= 80 for line in live), live  # the summary's paths may wrap; the live part never
    failure = [line for line in lines if line.startswith("✗ exp0000: failed (attempt 1): ValueError")]
    assert failure and "ValueError: lr too large" in failure[0] and failure[0].endswith("…")
    assert any(line.startswith("✗ exp0001: timeout (attempt 1, retry in 2.0s): no answer") for line in lines)
    assert any(line.startswith("✗ exp0001: timeout (attempt 2)") for line in lines)
    assert not any(line.startswith("✓") for line in lines)  # completed trials get a line only with -v
    bars = [line for line in lines if line.startswith("sweep_lr ━")]
    assert bars and "3/4" in bars[-1] and "1 ok, 1 failed, 1 timeout" in bars[-1]
    assert any(line.startswith("Sweep sweep_lr finished with trials not completed: 1/4 completed") for line in lines)
    assert any("resume  : sweeplab resume sweep_lr --sweep-dir" in line for line in lines)


def test_the_running_count_is_the_engines_never_more_than_the_slots(sweep) -> None:
    """An end is announced after its slot was refilled: counting hooks would show 3 running with 2 slots."""
    screen, _ = _terminal(80)
    observer = ProgressObserver(screen, sweep)
    observer.started(4, 0, _budget(2))
    observer.trial_started(_trial(0), 1)
    observer.trial_started(_trial(1), 1)
    observer.attempts_running(2)
    assert observer.running == 2
    # trial 0 ends; the coordinator starts trial 2 in its slot before it journals and announces trial 0
    observer.trial_started(_trial(2), 1)
    assert observer.running == 2
    observer.trial_finished(_trial(0), _end(0, TrialStatus.COMPLETED), None)
    observer.attempts_running(2)
    assert observer.running == 2 and "2 running" in observer._status()
    observer.attempts_running(1)
    assert "1 running" in observer._status()


def test_verbose_prints_each_completed_trial_with_its_metrics_and_quiet_prints_only_the_summary(sweep) -> None:
    screen, out = _terminal(80)
    screen.verbosity = 1
    observer = ProgressObserver(screen, sweep)
    observer.started(4, 0, _budget(2))
    observer.trial_finished(_trial(0), _end(0, TrialStatus.COMPLETED), None)
    observer.finished(SweepOutcome("sweep_lr", dict(observer.counts), 4))
    assert any(line.startswith("✓ exp0000: completed in 0.50s loss=0.25") for line in _lines(out))

    quiet, out = _terminal(80)
    quiet.verbosity = -1
    observer = ProgressObserver(quiet, sweep)
    observer.started(4, 0, _budget(2))
    observer.trial_finished(_trial(0), _end(0, TrialStatus.FAILED, "boom"), None)
    observer.finished(SweepOutcome("sweep_lr", dict(observer.counts), 4))
    lines = _lines(out)
    assert lines[0].startswith("Sweep sweep_lr finished with trials not completed")
    assert all(line.startswith("  ") for line in lines[1:]), lines


def test_plain_output_has_a_line_per_attempt_and_the_error(sweep) -> None:
    out = io.StringIO()
    screen = Screen(console=Console(file=out, width=80, force_terminal=False, force_jupyter=False))
    observer = ProgressObserver(screen, sweep)
    observer.started(4, 0, _budget(2))
    observer.trial_finished(_trial(0), _end(0, TrialStatus.CRASHED, "Segmentation fault"), None)
    observer.trial_finished(_trial(1), _end(1, TrialStatus.COMPLETED), None)
    text = out.getvalue()
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines[0].startswith("[1/4] sweep_lr_exp0000: crashed (0.50s) | 0 ok, 1 crashed, ")
    assert lines[1] == "    error: Segmentation fault"
    assert lines[2].startswith("[2/4] sweep_lr_exp0001: completed (0.50s) | 1 ok, 1 crashed")


def test_the_python_api_observer_says_how_to_resume_in_python(sweep) -> None:
    screen, out = _terminal(100)
    observer = ProgressObserver(screen, sweep, python_api=True)
    observer.started(4, 0, _budget(1))
    observer.trial_finished(_trial(0), _end(0, TrialStatus.FAILED, "boom"), None)
    outcome = SweepOutcome("sweep_lr", dict(observer.counts), 4, warnings=[
        "stopped admitting trials: ... Fix the cause and run 'sweeplab resume sweep_lr --sweep-dir out'; to run "
        "every trial whatever fails, set max_failures: 0 (--max-failures 0)"])
    observer.finished(outcome)
    text = ANSI.sub("", out.getvalue())
    assert "ExperimentSweep(..., sweep_id='sweep_lr'" in text and "resume=True).run_all()" in text
    assert "sweeplab resume" not in text and "--" not in text.replace("━", "")
    warning = screen.err.file.getvalue()
    assert "max_failures=0" in warning and "--max-failures" not in warning and "sweeplab resume" not in warning


# --- the prompt --------------------------------------------------------------------------------
@pytest.mark.parametrize(("answer", "expected"), [("n", False), ("", False), ("no", False), ("y", True),
                                                  (" YES ", True)])
def test_confirm_shows_the_brackets_and_reads_the_answer(monkeypatch, answer: str, expected: bool) -> None:
    screen, out = _terminal(80)
    monkeypatch.setattr("builtins.input", lambda *args: answer)
    assert screen.confirm("Run 500 trials?") is expected
    assert ANSI.sub("", out.getvalue()) == "Run 500 trials? [y/N] "


def test_confirm_without_stdin_is_no(monkeypatch) -> None:
    screen, _ = _terminal(80)

    def closed(*args: object) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", closed)
    assert screen.confirm("Run 500 trials?") is False


def test_screen_verbosity_levels() -> None:
    assert Screen(quiet=True).quiet and Screen(verbosity=-1).quiet
    assert not Screen().quiet and not Screen().verbose
    assert Screen(verbosity=1).verbose and Screen(verbosity=5).verbosity == 2
    assert Screen(quiet=True, verbosity=2).quiet  # -q wins


def test_a_completed_trial_that_reported_nothing_is_flagged(sweep) -> None:
    screen, out = _terminal(80)
    observer = ProgressObserver(screen, sweep)
    observer.started(4, 0, _budget(2))
    observer.trial_finished(_trial(0), TrialResult(key="k0", attempt=1, status=TrialStatus.COMPLETED, duration=0.1),
                            None)
    observer.trial_finished(_trial(1), _end(1, TrialStatus.COMPLETED), None)
    observer.trial_finished(_trial(2), TrialResult(key="k2", attempt=1, status=TrialStatus.COMPLETED, duration=0.1,
                                                   extra={"note": "text only"}), None)  # text is a report too
    assert "2 ok" not in observer._status() and observer._status().startswith("3 ok, 1 no metrics, ")
    lines = _lines(out)
    assert [line for line in lines if line.startswith("!")] == ["! exp0000: completed but reported no metrics"]

    plain = io.StringIO()
    observer = ProgressObserver(Screen(console=Console(file=plain, width=80, force_terminal=False)), sweep)
    observer.started(4, 0, _budget(2))
    observer.trial_finished(_trial(0), TrialResult(key="k0", attempt=1, status=TrialStatus.COMPLETED), None)
    assert plain.getvalue().startswith("[1/4] sweep_lr_exp0000: completed (no metrics) (0.00s) | 1 ok, 1 no metrics")


def test_debug_verbosity_also_prints_each_attempt_started(sweep) -> None:
    screen, out = _terminal(80)
    screen.verbosity = 2
    observer = ProgressObserver(screen, sweep)
    observer.started(4, 0, _budget(2))
    observer.trial_started(_trial(3), 2)
    observer.finished(SweepOutcome("sweep_lr", dict(observer.counts), 4))
    assert "started exp0003 (attempt 2)" in _lines(out)

    normal, out = _terminal(80)
    observer = ProgressObserver(normal, sweep)
    observer.started(4, 0, _budget(2))
    observer.trial_started(_trial(3), 2)
    observer.finished(SweepOutcome("sweep_lr", dict(observer.counts), 4))
    assert not any(line.startswith("started") for line in _lines(out))
