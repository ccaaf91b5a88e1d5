"""Local executor specifics: process groups leave nothing behind, memory watchdog, environment, load."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from sweeplab.errors import ExecutorError
from sweeplab.executors.attempt import run_attempt
from sweeplab.executors.local import LocalExecutor, terminate_process_group
from sweeplab.trial import TrialLaunch, TrialStatus

TRIAL_SCRIPT = Path(__file__).parent / "helpers" / "trial_script.py"
MB = 1024 * 1024

LaunchFactory = Callable[..., TrialLaunch]


@pytest.fixture
def executor() -> Iterator[LocalExecutor]:
    created = LocalExecutor(slots=2)
    yield created
    created.shutdown(cancel=True)


@pytest.fixture
def make_launch(tmp_path: Path) -> LaunchFactory:
    counter = iter(range(1, 10_000))

    def make(mode: str, *args: str, **fields: object) -> TrialLaunch:
        number = next(counter)
        return TrialLaunch(sweep_id="local", key=f"{mode}-{number}", experiment_id=f"local_exp{number:04d}",
                           attempt=1, argv=(sys.executable, str(TRIAL_SCRIPT), mode, *args),
                           attempt_dir=str(tmp_path / f"trial{number}" / "attempt1"), cwd=str(tmp_path),
                           **fields)  # type: ignore[arg-type]

    return make


def is_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie waiting for its reaper counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for_file(path: Path, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < end, f"{path} did not appear within {timeout}s"
        time.sleep(0.01)


def test_hung_trial_and_its_grandchild_are_killed(executor: LocalExecutor, make_launch: LaunchFactory) -> None:
    launch = make_launch("family", "ignore-term", timeout=1.0, grace=0.5)
    started = time.monotonic()
    job = executor.submit(launch)
    wait_for_file(Path(launch.attempt_dir) / "pids.json")
    pids = json.loads((Path(launch.attempt_dir) / "pids.json").read_text())
    assert pids[0] == job.pid == job.pgid
    assert os.getpgid(pids[1]) == job.pgid  # the grandchild really is in the trial's group
    result = job.result()
    assert result.status is TrialStatus.TIMEOUT
    # measured from the attempt's own start: on a loaded machine the process may start late
    assert result.duration < 1.0 + 0.5 + 1.0
    assert time.monotonic() - started < 30
    deadline = time.monotonic() + 2  # SIGKILL delivery to the grandchild is asynchronous
    while not all(is_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(is_gone(pid) for pid in pids)


def test_leftovers_of_a_trial_that_exited_are_killed(executor: LocalExecutor, make_launch: LaunchFactory) -> None:
    launch = make_launch("orphan")
    result = executor.submit(launch).result()
    assert result.status is TrialStatus.COMPLETED
    pids = json.loads((Path(launch.attempt_dir) / "pids.json").read_text())
    deadline = time.monotonic() + 2  # SIGKILL delivery is asynchronous
    while not all(is_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(is_gone(pid) for pid in pids)


def test_memory_hog_over_a_200_mb_grant_crashes(executor: LocalExecutor, make_launch: LaunchFactory) -> None:
    result = executor.submit(make_launch("memhog", "400", memory_bytes=200 * MB)).result()
    assert result.status is TrialStatus.CRASHED
    assert "exceeded its memory limit" in result.error
    assert "MemoryError" in result.error


def test_rss_watchdog_catches_a_process_tree_over_its_grant(executor: LocalExecutor,
                                                            make_launch: LaunchFactory) -> None:
    # two processes of 120 MB each: each under the address-space limit, together over the grant
    result = executor.submit(make_launch("tree-hog", "120", memory_bytes=200 * MB, timeout=20)).result()
    assert result.status is TrialStatus.CRASHED
    assert result.error == "exceeded its memory limit of 0.195 GB (resident memory)"
    assert result.duration < 10


def test_environment_threads_and_cwd(executor: LocalExecutor, make_launch: LaunchFactory, tmp_path: Path) -> None:
    launch = make_launch("env", cpu_threads=3, env={"EXTRA_VAR": "yes", "OMP_NUM_THREADS": "99"})
    assert executor.submit(launch).result().status is TrialStatus.COMPLETED
    seen = json.loads((Path(launch.attempt_dir) / "env.json").read_text())
    assert seen == {"OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "3", "MKL_NUM_THREADS": "3",
                    "NUMEXPR_NUM_THREADS": "3", "SWEEPLAB_ATTEMPT_DIR": launch.attempt_dir,
                    "EXTRA_VAR": "yes", "cwd": str(tmp_path)}


def test_many_concurrent_jobs(executor: LocalExecutor, make_launch: LaunchFactory) -> None:
    jobs = [executor.submit(make_launch("stdout-json")) for _ in range(40)]
    pending = list(jobs)
    end = time.monotonic() + 30
    while pending:
        assert time.monotonic() < end, f"{len(pending)} jobs still running"
        finished = executor.wait(pending, timeout=5)
        pending = [job for job in pending if job not in finished]
    results = [job.result() for job in jobs]
    assert all(r.status is TrialStatus.COMPLETED and r.metrics == {"acc": 0.9, "n": 3} for r in results)
    assert len({r.pid for r in results}) == 40
    assert executor.running == []


def test_done_alone_enforces_the_timeout(executor: LocalExecutor, make_launch: LaunchFactory) -> None:
    job = executor.submit(make_launch("hang", timeout=0.2, grace=0.2))
    end = time.monotonic() + 5
    while not job.done():  # a caller that only polls must still see the timeout happen
        assert time.monotonic() < end
        time.sleep(0.02)
    assert job.result().status is TrialStatus.TIMEOUT


def test_missing_program_is_a_failed_attempt(executor: LocalExecutor, tmp_path: Path) -> None:
    launch = TrialLaunch(sweep_id="s", key="k", experiment_id="e", attempt=1, argv=("/nonexistent/program",),
                         attempt_dir=str(tmp_path / "a"), cwd=str(tmp_path))
    job = executor.submit(launch)
    assert job.done() and job.pid is None
    result = job.result()
    assert result.status is TrialStatus.FAILED and result.invalid_config
    assert "/nonexistent/program" in result.error


def test_shutdown_cancels_running_trials(make_launch: LaunchFactory) -> None:
    executor = LocalExecutor(slots=2)
    launch = make_launch("hang", "ignore-term", grace=0.3)
    job = executor.submit(launch)
    wait_for_file(Path(launch.attempt_dir) / "ready")
    executor.shutdown(cancel=True)
    assert job.result().status is TrialStatus.CANCELLED
    assert is_gone(job.pid)
    with pytest.raises(ExecutorError, match="shut down"):
        executor.submit(launch)


def test_run_attempt_in_the_current_thread(make_launch: LaunchFactory) -> None:
    assert run_attempt(make_launch("stdout-json")).metrics == {"acc": 0.9, "n": 3}
    timed_out = run_attempt(make_launch("hang", "ignore-term", timeout=0.2, grace=0.2))
    assert timed_out.status is TrialStatus.TIMEOUT and timed_out.exit_code == -signal.SIGKILL


def test_capacity_defaults_to_the_machine() -> None:
    capacity = LocalExecutor(slots=3).capacity
    assert capacity.slots == 3
    assert capacity.memory_bytes == psutil.virtual_memory().total
    assert capacity.cpus == os.cpu_count()
    assert LocalExecutor(slots=1, memory_bytes=10, cpus=4).capacity.memory_bytes == 10
    with pytest.raises(ExecutorError):
        LocalExecutor(slots=0)


def _start_group(tmp_path: Path, attempt_dir: Path) -> subprocess.Popen[bytes]:
    attempt_dir.mkdir(parents=True)
    process = subprocess.Popen([sys.executable, str(TRIAL_SCRIPT), "hang", "ignore-term"], start_new_session=True,
                               env=dict(os.environ, SWEEPLAB_ATTEMPT_DIR=str(attempt_dir)))
    wait_for_file(attempt_dir / "ready")
    return process


def test_terminate_process_group_of_a_dead_coordinator(tmp_path: Path) -> None:
    attempt_dir = tmp_path / "left-over"
    process = _start_group(tmp_path, attempt_dir)
    try:
        # a pgid that now belongs to some other program is left alone
        assert not terminate_process_group(process.pid, grace=0.2, attempt_dir=str(tmp_path / "other"))
        assert process.poll() is None
        started = time.monotonic()
        assert terminate_process_group(process.pid, grace=0.3, attempt_dir=str(attempt_dir))
        assert process.wait(timeout=5) == -signal.SIGKILL  # it ignored SIGTERM
        assert time.monotonic() - started < 3
        assert not terminate_process_group(process.pid, grace=0.3)  # the group is gone
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_terminate_attempts_under_finds_unjournaled_attempts_by_environment(tmp_path):
    """A coordinator that died before journaling a start leaves a process only its environment names."""
    import subprocess
    import sys

    from sweeplab.executors.local import terminate_attempts_under

    inside = tmp_path / "sweep" / "trials" / "k1" / "attempt-1"
    outside = tmp_path / "other" / "trials" / "k2" / "attempt-1"
    script = "import time; time.sleep(120)"
    procs = {}
    for name, folder in (("inside", inside), ("outside", outside)):
        env = {**os.environ, "SWEEPLAB_ATTEMPT_DIR": str(folder)}
        procs[name] = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)
    try:
        ended = terminate_attempts_under(str(tmp_path / "sweep" / "trials"), grace=2)
        assert ended == 1
        procs["inside"].wait(timeout=10)  # (psutil may have reaped it already: returncode then reads 0)
        assert not psutil.pid_exists(procs["inside"].pid) or psutil.Process(procs["inside"].pid).status() == "zombie"
        assert procs["outside"].poll() is None  # a process of another sweep is left alone
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_the_executor_is_a_subreaper_only_while_it_runs_trials(make_launch: LaunchFactory) -> None:
    from sweeplab.executors.reaper import set_child_subreaper

    def subreaper() -> bool | None:
        previous = set_child_subreaper(False)
        if previous:
            set_child_subreaper(True)
        return previous

    assert subreaper() is False
    executor = LocalExecutor(slots=1)
    assert subreaper() is False  # an executor that starts nothing changes nothing
    job = executor.submit(make_launch("stdout-json"))
    assert subreaper() is True
    executor.wait([job], timeout=30)
    assert job.result().status is TrialStatus.COMPLETED
    executor.shutdown()
    assert subreaper() is False
