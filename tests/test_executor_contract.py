"""The executor contract, run against every executor through the ``executor`` fixture.

To add a backend, add its name to ``EXECUTORS`` and a factory to ``_FACTORIES``; every case
below then runs against it. Trials are real processes (``tests/helpers/trial_script.py``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import psutil
import pytest

from sweeplab.executors import Capacity, Executor
from sweeplab.executors.local import LocalExecutor
from sweeplab.trial import TrialLaunch, TrialStatus

TRIAL_SCRIPT = Path(__file__).parent / "helpers" / "trial_script.py"
MB = 1024 * 1024

def _dask_executor(request: pytest.FixtureRequest) -> Executor:
    from sweeplab.executors.dask import DaskExecutor

    return DaskExecutor(request.getfixturevalue("dask_scheduler"), slots=2)


_FACTORIES: dict[str, Callable[[pytest.FixtureRequest], Executor]] = {
    "local": lambda request: LocalExecutor(slots=2),
    "dask": _dask_executor,
}
EXECUTORS = ["local", "dask"]



LaunchFactory = Callable[..., TrialLaunch]


@pytest.fixture(params=EXECUTORS)
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    """A fresh executor with two slots, shut down (cancelling leftovers) after the test."""
    created = _FACTORIES[request.param](request)
    yield created
    created.shutdown(cancel=True)


@pytest.fixture(params=["cwd-elsewhere", "cwd-here", "warm-worker"])
def make_launch(request: pytest.FixtureRequest, tmp_path: Path) -> LaunchFactory:
    """``make_launch(mode, *args, **launch_fields)``: a launch of the helper trial script.

    Three times: with a working directory of its own, with the caller's (the coordinator's case,
    which the local executor starts another way), and as the python runner's launch of the script
    as a function with warm-worker isolation (``helpers/warm_script.py``: a local executor runs it
    in a process forked from a warm worker, a Dask worker as a fresh process).
    """
    counter = iter(range(1, 1000))
    cwd = str(tmp_path) if request.param != "cwd-here" else os.getcwd()

    def make(mode: str, *args: str, **fields: object) -> TrialLaunch:
        number = next(counter)
        folder = tmp_path / f"trial{number}" / "attempt1"
        folder.mkdir(parents=True)  # as the coordinator does before a start
        if request.param == "warm-worker" and "argv" not in fields:
            config = tmp_path / f"trial{number}" / "config.json"
            config.write_text(json.dumps({"mode": mode, "arg": args[0] if args else None}))
            fields["argv"] = (sys.executable, "-m", "sweeplab.runners._trial_call", "warm_script:call", str(config),
                              str(folder), "0", f"contract_exp{number:04d}", "1")
            fields["env"] = {**fields.get("env", {}), "SWEEPLAB_ISOLATION": "worker",  # type: ignore[dict-item]
                             "PYTHONPATH": str(TRIAL_SCRIPT.parent)}
        fields.setdefault("argv", (sys.executable, str(TRIAL_SCRIPT), mode, *args))
        return TrialLaunch(sweep_id="contract", key=f"{mode}-{number}", experiment_id=f"contract_exp{number:04d}",
                           attempt=1, attempt_dir=str(folder), cwd=cwd, **fields)  # type: ignore[arg-type]

    return make


def wait_done(executor: Executor, job, timeout: float = 20.0):  # noqa: ANN001, ANN201 - any Job
    """Wait on the executor until ``job`` is done; fail the test if it takes longer than ``timeout``."""
    end = time.monotonic() + timeout
    while not job.done():
        left = end - time.monotonic()
        assert left > 0, f"{job!r} not done after {timeout}s"
        executor.wait([job], timeout=left)
    return job.result()


def wait_for_file(path: Path, timeout: float = 10.0) -> None:
    """Block until ``path`` exists (the trial reached a known point)."""
    end = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < end, f"{path} did not appear within {timeout}s"
        time.sleep(0.01)


def _utc(stamp: str) -> datetime:
    parsed = datetime.fromisoformat(stamp)
    assert parsed.tzinfo is not None and parsed.utcoffset() == timezone.utc.utcoffset(None)
    return parsed


def test_completed_with_metrics_from_metrics_json(executor: Executor, make_launch: LaunchFactory) -> None:
    launch = make_launch("metrics-file")
    job = executor.submit(launch)
    result = wait_done(executor, job)
    assert result.status is TrialStatus.COMPLETED
    assert result.metrics == {"loss": 0.25, "steps": 10, "ok": 1}  # strings and nested values dropped
    assert (result.key, result.attempt, result.exit_code, result.error) == (launch.key, 1, 0, "")
    assert result.attempt_dir == launch.attempt_dir
    assert result.host == socket.gethostname()
    assert 0 < result.duration < 10
    assert _utc(result.start_time) <= _utc(result.end_time)
    assert (Path(launch.attempt_dir) / "stdout.txt").read_text() == "training ...\n"


def test_metrics_from_last_json_line_of_stdout(executor: Executor, make_launch: LaunchFactory) -> None:
    result = wait_done(executor, executor.submit(make_launch("stdout-json")))
    assert result.status is TrialStatus.COMPLETED
    assert result.metrics == {"acc": 0.9, "n": 3}


def test_several_attempts_submitted_together_each_get_their_own_result(executor: Executor,
                                                                      make_launch: LaunchFactory) -> None:
    """submit_many: one job per launch, in order (a cluster sends them in one message)."""
    launches = [make_launch("stdout-json"), make_launch("fail"), make_launch("metrics-file")]
    jobs = executor.submit_many(launches)
    assert [job.launch for job in jobs] == launches  # type: ignore[attr-defined]
    results = [wait_done(executor, job) for job in jobs]
    assert [result.status for result in results] == [TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.COMPLETED]
    assert [result.attempt_dir for result in results] == [launch.attempt_dir for launch in launches]
    assert results[0].metrics == {"acc": 0.9, "n": 3} and results[2].metrics == {"loss": 0.25, "steps": 10, "ok": 1}


def test_a_trial_starts_clean(executor: Executor, make_launch: LaunchFactory) -> None:
    """Own session and group, stdin empty, no descriptor of ours, the launch's cwd."""
    launch = make_launch("hygiene")
    assert wait_done(executor, executor.submit(launch)).status is TrialStatus.COMPLETED
    seen = json.loads((Path(launch.attempt_dir) / "hygiene.json").read_text())
    assert seen == {"fds": [0, 1, 2], "stdin": "", "session_leader": True, "group_leader": True, "cwd": launch.cwd}


def test_signals_python_ignores_are_at_their_default_in_a_trial(executor: Executor,
                                                                 make_launch: LaunchFactory) -> None:
    """SIGPIPE and SIGXFSZ, which Python ignores for itself, must not stay ignored in a (non-Python) trial."""
    launch = make_launch("status", argv=("cat", "/proc/self/status"))
    assert wait_done(executor, executor.submit(launch)).status is TrialStatus.COMPLETED
    status = (Path(launch.attempt_dir) / "stdout.txt").read_text()
    ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    for number in (signal.SIGPIPE, signal.SIGXFSZ):
        assert not ignored & (1 << (number - 1)), f"{signal.Signals(number).name} is ignored in the trial"


def test_failure_reports_the_stderr_tail(executor: Executor, make_launch: LaunchFactory) -> None:
    result = wait_done(executor, executor.submit(make_launch("fail")))
    assert result.status is TrialStatus.FAILED
    assert result.exit_code == 3
    assert result.error.splitlines() == [f"stderr line {n}" for n in range(10, 30)]
    assert not result.invalid_config


def test_exit_code_2_is_an_invalid_config(executor: Executor, make_launch: LaunchFactory) -> None:
    result = wait_done(executor, executor.submit(make_launch("invalid")))
    assert result.status is TrialStatus.FAILED
    assert result.invalid_config
    assert result.exit_code == 2
    assert result.error == "invalid config: config key 'model.depth' must be positive"


def test_timeout_ends_the_trial(executor: Executor, make_launch: LaunchFactory) -> None:
    started = time.monotonic()
    result = wait_done(executor, executor.submit(make_launch("hang", timeout=0.5, grace=0.5)))
    elapsed = time.monotonic() - started
    assert result.status is TrialStatus.TIMEOUT
    assert result.error == "exceeded the timeout of 0.5 s"
    assert 0.5 <= result.duration < 1.5
    assert elapsed < 5


def test_timeout_escalates_to_sigkill_after_grace(executor: Executor, make_launch: LaunchFactory) -> None:
    result = wait_done(executor, executor.submit(make_launch("hang", "ignore-term", timeout=0.3, grace=0.5)))
    assert result.status is TrialStatus.TIMEOUT
    assert result.exit_code == -9
    assert 0.8 <= result.duration < 2.0


def test_cancel_a_running_trial(executor: Executor, make_launch: LaunchFactory) -> None:
    launch = make_launch("hang", timeout=60, grace=0.5)
    job = executor.submit(launch)
    wait_for_file(Path(launch.attempt_dir) / "ready")
    assert not job.done()
    job.cancel()
    result = wait_done(executor, job, timeout=10)
    assert result.status is TrialStatus.CANCELLED
    assert result.duration < 10


def test_exceeding_the_memory_grant_is_a_crash(executor: Executor, make_launch: LaunchFactory) -> None:
    result = wait_done(executor, executor.submit(make_launch("memhog", "400", memory_bytes=200 * MB)))
    assert result.status is TrialStatus.CRASHED
    assert result.error.startswith("exceeded its memory limit of 0.195 GB")
    assert "allocated_mb" not in result.metrics


def test_memory_grant_leaves_room_for_a_small_trial(executor: Executor, make_launch: LaunchFactory) -> None:
    result = wait_done(executor, executor.submit(make_launch("memhog", "50", memory_bytes=400 * MB)))
    assert result.status is TrialStatus.COMPLETED
    assert result.metrics == {"allocated_mb": 50}


def test_a_resident_only_grant_lets_a_trial_reserve_address_space(executor: Executor,
                                                                  make_launch: LaunchFactory) -> None:
    """1 GB mapped but untouched: over a 200 MB address-space cap, within a 200 MB resident grant."""
    capped = wait_done(executor, executor.submit(make_launch("reserve", "1024", memory_bytes=200 * MB)))
    assert capped.status is TrialStatus.CRASHED
    resident = wait_done(executor, executor.submit(
        make_launch("reserve", "1024", memory_bytes=200 * MB, resident_only=True)))
    assert resident.status is TrialStatus.COMPLETED, resident.error
    assert resident.metrics == {"reserved_mb": 1024}


def test_a_resident_only_grant_still_stops_a_trial_that_fills_it(executor: Executor,
                                                                  make_launch: LaunchFactory) -> None:
    result = wait_done(executor, executor.submit(
        make_launch("hold", "600", memory_bytes=200 * MB, resident_only=True, timeout=60)), timeout=30)
    assert result.status is TrialStatus.CRASHED
    assert result.error.startswith("exceeded its memory limit of 0.195 GB (resident memory)")


def test_capacity(executor: Executor) -> None:
    capacity = executor.capacity
    assert isinstance(capacity, Capacity)
    assert capacity.slots == 2
    assert capacity.memory_bytes > 0 and capacity.cpus >= 1


def test_wait_returns_a_finished_job_promptly(executor: Executor, make_launch: LaunchFactory) -> None:
    slow = executor.submit(make_launch("hang", timeout=30, grace=0.5))
    quick = executor.submit(make_launch("stdout-json"))
    started = time.monotonic()
    done = executor.wait([slow, quick], timeout=20)
    assert done == [quick]
    assert time.monotonic() - started < 2.0
    assert not slow.done()
    slow.cancel()
    assert wait_done(executor, slow).status is TrialStatus.CANCELLED


def test_jobs_that_end_while_others_are_waited_for_are_returned_by_a_later_wait(
        executor: Executor, make_launch: LaunchFactory) -> None:
    """A wait returns only the jobs it was asked about; the others that ended meanwhile wait for the next."""
    first, second = executor.submit(make_launch("stdout-json")), executor.submit(make_launch("stdout-json"))
    hang = executor.submit(make_launch("hang", timeout=30, grace=0.5))
    end = time.monotonic() + 20
    while not (first.done() and second.done()):
        assert executor.wait([hang], timeout=0.2) == []
        assert time.monotonic() < end, "the two quick trials did not end"
    started = time.monotonic()
    assert {id(job) for job in executor.wait([second, hang, first], timeout=20)} == {id(first), id(second)}
    assert time.monotonic() - started < 10  # at once: not found by a last look when the wait times out
    assert first.result().status is second.result().status is TrialStatus.COMPLETED
    assert executor.wait([hang], timeout=0.1) == []
    hang.cancel()
    assert wait_done(executor, hang).status is TrialStatus.CANCELLED


def test_wait_honours_its_timeout(executor: Executor, make_launch: LaunchFactory) -> None:
    job = executor.submit(make_launch("hang", timeout=30, grace=0.5))
    started = time.monotonic()
    assert executor.wait([job], timeout=0.3) == []
    assert 0.3 <= time.monotonic() - started < 2.0
    job.cancel()
    wait_done(executor, job)


def test_wakeup_ends_a_wait_early(executor: Executor, make_launch: LaunchFactory) -> None:
    """What a coordinator's signal handler relies on: Ctrl-C is acted on at once, not at the next timeout."""
    import threading

    launch = make_launch("hang", timeout=60, grace=0.5)
    job = executor.submit(launch)
    wait_for_file(Path(launch.attempt_dir) / "ready")
    timer = threading.Timer(0.3, executor.wakeup)
    timer.start()
    started = time.monotonic()
    try:
        assert executor.wait([job], timeout=30) == []
        assert time.monotonic() - started < 5
    finally:
        timer.cancel()
        job.cancel()
        wait_done(executor, job)


def test_cancel_after_the_end_changes_nothing(executor: Executor, make_launch: LaunchFactory) -> None:
    job = executor.submit(make_launch("stdout-json"))
    before = wait_done(executor, job)
    job.cancel()
    assert job.result() == before


def test_shutdown_cancels_what_still_runs(executor: Executor, make_launch: LaunchFactory) -> None:
    launch = make_launch("hang", timeout=60, grace=0.5)
    job = executor.submit(launch)
    wait_for_file(Path(launch.attempt_dir) / "ready")
    pid = int((Path(launch.attempt_dir) / "ready").read_text())
    started = time.monotonic()
    executor.shutdown(cancel=True)
    assert time.monotonic() - started < 10
    assert job.done() and job.result().status is TrialStatus.CANCELLED
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_cancel_a_trial_waiting_behind_full_slots(executor: Executor, make_launch: LaunchFactory) -> None:
    """Both slots busy with hanging trials, a third hanging one is cancelled at once: it ends ``cancelled``
    promptly, whether it had started (local) or still waited for a worker (Dask)."""
    hanging = [make_launch("hang", timeout=60, grace=0.5) for _ in range(2)]
    jobs = [executor.submit(launch) for launch in hanging]
    for launch in hanging:
        wait_for_file(Path(launch.attempt_dir) / "ready")
    job = executor.submit(make_launch("hang", timeout=60, grace=0.5))
    job.cancel()
    try:
        assert wait_done(executor, job, timeout=10).status is TrialStatus.CANCELLED
    finally:
        for other in jobs:
            other.cancel()
            wait_done(executor, other)


def test_cancel_right_after_submit(executor: Executor, make_launch: LaunchFactory) -> None:
    """Cancelling a job the moment it is submitted (before a Dask scheduler has even heard of it) ends it
    ``cancelled``, each of several times, without an error and without the trial running on."""
    for _ in range(5):
        launch = make_launch("hang", timeout=60, grace=0.5)
        job = executor.submit(launch)
        job.cancel()
        assert wait_done(executor, job, timeout=10).status is TrialStatus.CANCELLED
        ready = Path(launch.attempt_dir) / "ready"
        if ready.exists():  # it had started: its process is gone now
            pid = int(ready.read_text())
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_the_attempt_folder_names_are_part_of_the_contract() -> None:
    """The coordinator prepares the attempt folder with names it takes from the contract module."""
    from sweeplab.executors import base, outcome

    assert (base.STDOUT_NAME, base.STDERR_NAME, base.METRICS_NAME) == ("stdout.txt", "stderr.txt", "metrics.json")
    assert base.ATTEMPT_DIR_VARIABLE == "SWEEPLAB_ATTEMPT_DIR"
    # still importable from outcome, where the coordinator used to take them
    assert (outcome.STDOUT_NAME, outcome.STDERR_NAME) == (base.STDOUT_NAME, base.STDERR_NAME)
