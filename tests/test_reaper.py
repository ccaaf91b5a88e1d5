"""The scan that ends what left an attempt's session (reaper.end_processes_of): the window of pids handed
out since the attempt's own, wraparound included, on fake pid lists and on real daemonised processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers.engine_support import pid_gone, wait_until

from sweeplab.executors import reaper
from sweeplab.executors.base import ATTEMPT_DIR_VARIABLE
from sweeplab.executors.reaper import end_processes_of, pids_in_window

# a process that leaves its session as a daemon does: fork, setsid, fork again, the middle one exits
DAEMONISE = textwrap.dedent("""
    import os, sys, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            with open(sys.argv[1] + ".tmp", "w") as handle:
                handle.write(str(os.getpid()))
            os.replace(sys.argv[1] + ".tmp", sys.argv[1])
            time.sleep(600)
        while not os.path.exists(sys.argv[1]):
            time.sleep(0.005)
        os._exit(0)
    os.wait()
""")


PIDS = [5, 40, 99, 100, 150, 200, 201, 300, 301, 31999, 32000, 32767, 4_194_000, 4_194_303]


@pytest.mark.parametrize(("first", "last", "inside"), [
    (100, 200, [100, 150, 200]),                                       # no wraparound: first..last
    (32000, 40, [5, 40, 32000, 32767, 4_194_000, 4_194_303]),          # wrapped: first..top, bottom..last
    (4_194_000, 99, [5, 40, 99, 4_194_000, 4_194_303]),
    (150, 150, [150]),                                                 # nothing new since the attempt
    (302, 31998, []),
])
def test_the_window_holds_the_pids_handed_out_from_the_attempts_to_the_newest(first: int, last: int,
                                                                            inside: list[int]) -> None:
    assert pids_in_window(PIDS, first, last) == inside
    assert pids_in_window(reversed(PIDS), first, last) == inside[::-1]  # the order of /proc is kept


def test_a_scan_reads_only_the_window_and_all_without_the_newest_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake /proc: the attempt's pid is 32000 and the pids wrapped round to 40. Only the window's processes
    have their environment read; without ns_last_pid, or without the attempt's pid, every one is."""
    listed = ["1", "40", "41", "700", "31999", "32000", "32500", "self", "sys"]
    read: list[int] = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: listed if path == "/proc" else real_listdir(path))
    monkeypatch.setattr(os, "getpid", lambda: 99999)  # not one of the listed
    monkeypatch.setattr(reaper, "attempt_dir_of", lambda pid: read.append(pid) or None)
    monkeypatch.setattr(reaper, "_newest_pid", lambda: 40)
    assert end_processes_of("/attempt", since_pid=32000) == 0
    assert sorted(read) == [1, 40, 32000, 32500]
    read.clear()
    end_processes_of("/attempt")
    assert sorted(read) == [1, 40, 41, 700, 31999, 32000, 32500]
    read.clear()
    monkeypatch.setattr(reaper, "_newest_pid", lambda: None)  # not readable: the full scan
    end_processes_of("/attempt", since_pid=32000)
    assert len(read) == 7


def test_a_short_window_is_probed_pid_by_pid_without_listing_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten pids handed out since the attempt's own (100): those ten are read, /proc is not listed."""
    read: list[int] = []
    real_listdir = os.listdir

    def no_proc_listing(path: str) -> list[str]:
        assert path != "/proc", "listed /proc"
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", no_proc_listing)
    monkeypatch.setattr(reaper, "attempt_dir_of", lambda pid: read.append(pid) or None)
    monkeypatch.setattr(reaper, "_newest_pid", lambda: 110)
    assert end_processes_of("/attempt", since_pid=100) == 0
    assert read == list(range(101, 111))
    read.clear()  # a window as wide as PROBE_WINDOW or wider: /proc is listed
    monkeypatch.setattr(reaper, "_newest_pid", lambda: 100 + reaper.PROBE_WINDOW)
    with pytest.raises(AssertionError, match="listed /proc"):
        end_processes_of("/attempt", since_pid=100)


def _start_daemon(tmp_path: Path, attempt_dir: str) -> int:
    pid_file = tmp_path / "daemon.pid"
    subprocess.run([sys.executable, "-c", DAEMONISE, str(pid_file)], check=True, timeout=30,
                   env=dict(os.environ, **{ATTEMPT_DIR_VARIABLE: attempt_dir}))
    wait_until(pid_file.exists, "the daemon to start")
    return int(pid_file.read_text())


def test_a_daemonised_stray_is_found_in_the_window_and_after_wraparound(tmp_path: Path) -> None:
    attempt_dir = str(tmp_path / "attempt-1")
    daemon = _start_daemon(tmp_path, attempt_dir)
    try:
        assert os.getsid(daemon) != os.getsid(0)  # a session of its own: no group signal reaches it
        subprocess.run(["true"], check=True)  # a newer pid than the daemon's
        newest = reaper._newest_pid()
        if newest is None:
            pytest.skip("no /proc/sys/kernel/ns_last_pid here: every scan is the full one")
        assert pids_in_window([daemon], daemon, newest) == [daemon]  # the pids did not wrap meanwhile
        # a window that starts after the daemon and has not wrapped misses it: the scan is narrowed
        assert end_processes_of(attempt_dir, since_pid=daemon + 1) == 0
        assert not pid_gone(daemon)
        # an attempt whose pid is above the newest one: the pids wrapped, and the daemon, below the
        # newest, is in the window's lower part
        assert end_processes_of(attempt_dir, since_pid=newest + 1000) == 1
        wait_until(lambda: pid_gone(daemon), "the daemon to end")
    finally:
        if not pid_gone(daemon):
            os.kill(daemon, 9)


def test_a_daemonised_stray_is_found_by_probing_the_few_pids_since_the_attempts(tmp_path: Path) -> None:
    attempt_dir = str(tmp_path / "attempt-1")
    daemon = _start_daemon(tmp_path, attempt_dir)
    try:
        newest = reaper._newest_pid()
        if newest is None:
            pytest.skip("no /proc/sys/kernel/ns_last_pid here: every scan is the full one")
        if not 0 <= newest - (daemon - 1) < reaper.PROBE_WINDOW:
            pytest.skip("the machine handed out too many pids meanwhile for a short window")
        assert end_processes_of(attempt_dir, since_pid=daemon - 1) == 1
        wait_until(lambda: pid_gone(daemon), "the daemon to end")
    finally:
        if not pid_gone(daemon):
            os.kill(daemon, 9)


def test_a_short_attempt_on_a_remote_worker_ends_its_daemon_through_the_narrowed_scan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run_attempt (what a Dask worker runs) after a short attempt scans from the attempt's pid on, and
    the trial's daemon (setsid, double fork) is ended."""
    from sweeplab.executors import attempt as attempt_module
    from sweeplab.executors.attempt import run_attempt
    from sweeplab.trial import TrialLaunch, TrialStatus

    scans: list[int | None] = []
    real_scan = attempt_module.end_processes_of

    def spy(attempt_dir: str, since_pid: int | None = None) -> int:
        scans.append(since_pid)
        return real_scan(attempt_dir, since_pid=since_pid)

    monkeypatch.setattr(attempt_module, "end_processes_of", spy)
    attempt_dir = tmp_path / "attempt-1"
    attempt_dir.mkdir()
    pid_file = tmp_path / "daemon.pid"
    launch = TrialLaunch(sweep_id="s", key="k", experiment_id="e", attempt=1, cwd=str(tmp_path),
                         argv=(sys.executable, "-c", DAEMONISE, str(pid_file)), attempt_dir=str(attempt_dir))
    result = run_attempt(launch)
    daemon = int(pid_file.read_text())
    try:
        assert result.status is TrialStatus.COMPLETED, result.error
        assert scans == [result.pid] and result.pid is not None and result.duration < reaper.NARROW_SCAN_SECONDS
        wait_until(lambda: pid_gone(daemon), "the daemon to end")
    finally:
        if not pid_gone(daemon):
            os.kill(daemon, 9)
