"""Warm workers keep the trial contract: every fault ends the same way under ``isolation: worker`` as under
``isolation: process``.

Each case runs the python runner's real launch (``PythonRunner.command``) through a real
:class:`~sweeplab.executors.local.LocalExecutor`, once per isolation, and compares what matters of the
results: status, exit code, whether the config counts as invalid, the error's first line. The trial
functions live in a module written beside the test (:data:`TRIALS`), imported by the worker or the
fresh process from the spec's folder (on ``PYTHONPATH``).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from helpers.engine_support import pid_gone, wait_until

from sweeplab.executors.local import LocalExecutor
from sweeplab.runners.base import RunContext
from sweeplab.runners.python import PythonRunner
from sweeplab.trial import TrialLaunch, TrialResult, TrialStatus

ISOLATIONS = ["worker", "process"]
MB = 1024 * 1024

TRIALS = '''\
"""Trial functions of the warm-worker contract tests."""
import json
import os
import random
import time
from pathlib import Path

import numpy

Path(os.environ["WARM_IMPORTS"], f"{os.getpid()}").write_text("imported")  # one file per import
COUNTER = 0
CACHE = {}


def ok(config, context):
    return {"double": config["x"] * 2, "parent": os.getppid(), "pid": os.getpid()}


def sleepy(config, context):
    Path(context.trial_dir, "parent").write_text(str(os.getppid()))
    Path(context.trial_dir, "started").write_text(str(os.getpid()))
    time.sleep(600)


def hog(config, context):
    chunks = []
    while True:  # 50 MB at a time, touched, until the grant stops it
        chunks.append(bytearray(50 * 1024 * 1024))


def hog_resident(config, context):
    # a resident-only grant: no address-space cap, the RSS watchdog ends it
    chunks = []
    while True:
        chunks.append(bytearray(20 * 1024 * 1024))
        time.sleep(0.02)


def aborts(config, context):
    os.abort()


def exits(config, context):
    raise SystemExit(3)


def escapes(config, context):
    import subprocess
    import sys
    # a grandchild that leaves the trial's session: it must end with the trial all the same
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    Path(context.trial_dir, "escaped").write_text(str(child.pid))
    return {"escaped": child.pid}


def acts(config, context):
    """One function for several faults (a worker serves one function): 0 returns, 1 sleeps, 2 aborts."""
    if config["x"] == 1:
        sleepy(config, context)
    if config["x"] == 2:
        os.abort()
    return ok(config, context)


def mutate(config, context):
    global COUNTER
    seen = {"counter": COUNTER, "cache": sorted(CACHE), "cwd": os.getcwd(),
            "leak": os.environ.get("WARM_TEST_LEAK"), "seed_env": os.environ.get("SWEEPLAB_SEED"),
            "random": random.random(), "numpy": float(numpy.random.random())}
    COUNTER += 1
    CACHE[context.experiment_id] = True
    os.environ["WARM_TEST_LEAK"] = context.experiment_id
    os.chdir("/")
    Path(context.trial_dir, "seen.json").write_text(json.dumps(seen))
    return {"counter": seen["counter"]}
'''


class Harness:
    """Runs attempts of the trial module's functions through the python runner and a local executor."""

    def __init__(self, root: Path, isolation: str) -> None:
        self.root = root
        self.isolation = isolation
        (root / "warm_trials.py").write_text(TRIALS)
        self.imports = root / "imports"
        self.imports.mkdir()
        self.cwd = root / "work"
        self.cwd.mkdir()
        self.count = 0

    def launch(self, function: str, x: int = 1, module: str = "warm_trials", **fields: Any) -> TrialLaunch:
        runner = PythonRunner({"function": f"{module}:{function}", "isolation": self.isolation})
        runner.folder = self.root
        self.count += 1
        config = self.root / f"config{self.count}.json"
        config.write_text(json.dumps({"x": x}))
        attempt_dir = self.root / "trials" / f"t{self.count}" / "attempt-1"
        attempt_dir.mkdir(parents=True)
        context = RunContext(sweep_id="warm", experiment_id=f"warm_exp{self.count:04d}", key=f"k{self.count}",
                             seed=self.count, attempt=1, config_path=config, attempt_dir=attempt_dir,
                             db_path=attempt_dir / "experiment.db")
        argv, env = runner.command(context)
        fields.setdefault("timeout", 60)
        return TrialLaunch(sweep_id="warm", key=context.key, experiment_id=context.experiment_id, attempt=1,
                           argv=tuple(argv), attempt_dir=str(attempt_dir), cwd=str(self.cwd), env=env, grace=1,
                           **fields)


@pytest.fixture(params=ISOLATIONS)
def harness(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    made = Harness(tmp_path, request.param)
    monkeypatch.setenv("WARM_IMPORTS", str(made.imports))  # read by the executor when it is made
    return made


@pytest.fixture
def executor() -> Iterator[LocalExecutor]:
    with LocalExecutor(slots=2) as made:
        yield made


def summary(result: TrialResult) -> tuple[TrialStatus, int | None, bool, str]:
    """What must be the same under both isolations."""
    return result.status, result.exit_code, result.invalid_config, result.error.splitlines()[0] if result.error else ""


def test_a_trial_completes_with_its_metrics(harness: Harness, executor: LocalExecutor) -> None:
    result = executor.submit(harness.launch("ok", x=21)).result()
    assert summary(result) == (TrialStatus.COMPLETED, 0, False, "")
    assert result.metrics["double"] == 42


def test_the_timeout_ends_the_trial_and_the_next_one_runs(harness: Harness, executor: LocalExecutor) -> None:
    launch = harness.launch("sleepy", timeout=1.0)
    job = executor.submit(launch)
    result = job.result()
    assert summary(result) == (TrialStatus.TIMEOUT, -signal.SIGTERM, False, "exceeded the timeout of 1 s")
    pid = int(Path(launch.attempt_dir, "started").read_text())
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert executor.submit(harness.launch("ok")).result().status is TrialStatus.COMPLETED


def test_a_trial_over_its_memory_grant_crashes(harness: Harness, executor: LocalExecutor) -> None:
    result = executor.submit(harness.launch("hog", memory_bytes=400 * MB)).result()
    status, _, invalid, error = summary(result)
    assert (status, invalid) == (TrialStatus.CRASHED, False)
    assert error.startswith("exceeded its memory limit of 0.391 GB")
    assert executor.submit(harness.launch("ok")).result().status is TrialStatus.COMPLETED


def test_the_resident_memory_watchdog_ends_a_trial(harness: Harness, executor: LocalExecutor) -> None:
    result = executor.submit(harness.launch("hog_resident", memory_bytes=300 * MB, resident_only=True)).result()
    assert summary(result) == (TrialStatus.CRASHED, -signal.SIGKILL, False,
                               "exceeded its memory limit of 0.293 GB (resident memory)")


def test_an_abort_crashes_that_trial_alone(harness: Harness, executor: LocalExecutor) -> None:
    crashing = executor.submit(harness.launch("aborts"))
    neighbour = executor.submit(harness.launch("ok", x=5))
    assert summary(crashing.result()) == (TrialStatus.CRASHED, -signal.SIGABRT, False, "killed by SIGABRT")
    assert neighbour.result().status is TrialStatus.COMPLETED and neighbour.result().metrics["double"] == 10
    assert executor.submit(harness.launch("ok")).result().status is TrialStatus.COMPLETED


def test_a_process_that_left_the_trials_session_ends_with_the_trial(harness: Harness,
                                                                   executor: LocalExecutor) -> None:
    launch = harness.launch("escapes")
    assert executor.submit(launch).result().status is TrialStatus.COMPLETED
    escaped = int(Path(launch.attempt_dir, "escaped").read_text())

    def ended() -> bool:
        try:
            return psutil.Process(escaped).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    executor.submit(harness.launch("ok")).result()  # the executor looks for strays whenever an attempt ends
    wait_until(ended, "the escaped grandchild to be ended")


def test_system_exit_gives_its_code(harness: Harness, executor: LocalExecutor) -> None:
    assert summary(executor.submit(harness.launch("exits")).result())[:2] == (TrialStatus.FAILED, 3)


def test_globals_cwd_and_environment_do_not_leak_into_the_next_trial(harness: Harness, tmp_path: Path) -> None:
    with LocalExecutor(slots=1) as executor:  # one slot: under worker isolation one worker runs them all
        launches = [harness.launch("mutate") for _ in range(4)]
        results = [executor.submit(launch).result() for launch in launches]
    assert [r.status for r in results] == [TrialStatus.COMPLETED] * 4
    seen = [json.loads(Path(launch.attempt_dir, "seen.json").read_text()) for launch in launches]
    assert [s["counter"] for s in seen] == [0, 0, 0, 0]
    assert [s["cache"] for s in seen] == [[]] * 4
    assert {s["cwd"] for s in seen} == {str(harness.cwd)}
    assert {s["leak"] for s in seen} == {None}
    assert [s["seed_env"] for s in seen] == [str(n) for n in range(1, 5)]  # each its own SWEEPLAB_SEED
    # unseeded generators draw differently in every trial, as in fresh processes
    assert len({s["random"] for s in seen}) == 4 and len({s["numpy"] for s in seen}) == 4


def test_the_module_is_imported_once_per_worker(harness: Harness) -> None:
    with LocalExecutor(slots=2) as executor:
        jobs = [executor.submit(harness.launch("ok", x=n)) for n in range(2)]
        results = [job.result() for job in jobs]
        results += [executor.submit(harness.launch("ok", x=n)).result() for n in range(6)]
    assert all(r.status is TrialStatus.COMPLETED for r in results)
    imports = len(list(harness.imports.iterdir()))
    parents = {r.metrics["parent"] for r in results}
    if harness.isolation == "worker":  # the second slot's worker is a clone of the first, forked after its import
        assert imports == 1 and len(parents) <= 2 and os.getpid() not in parents
    else:
        assert imports == len(results) and parents == {os.getpid()}


def test_a_worker_killed_from_outside_crashes_its_trial_and_is_replaced(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    harness = Harness(tmp_path, "worker")
    monkeypatch.setenv("WARM_IMPORTS", str(harness.imports))
    with LocalExecutor(slots=1) as executor:
        launch = harness.launch("sleepy")
        job = executor.submit(launch)
        wait_until(lambda: Path(launch.attempt_dir, "started").exists(), "the trial to start")
        trial_pid = int(Path(launch.attempt_dir, "started").read_text())
        os.kill(psutil.Process(trial_pid).ppid(), signal.SIGKILL)  # its worker
        result = job.result()
        assert result.status is TrialStatus.CRASHED
        assert result.error.startswith("the warm worker running this trial died")
        wait_until(lambda: not psutil.pid_exists(trial_pid) or
                   psutil.Process(trial_pid).status() == psutil.STATUS_ZOMBIE, "the orphaned trial to end")
        assert executor.submit(harness.launch("ok")).result().status is TrialStatus.COMPLETED


def test_a_worker_that_died_while_idle_is_not_handed_a_trial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    harness = Harness(tmp_path, "worker")
    monkeypatch.setenv("WARM_IMPORTS", str(harness.imports))
    with LocalExecutor(slots=1) as executor:
        first = executor.submit(harness.launch("ok")).result()
        os.kill(first.metrics["parent"], signal.SIGKILL)  # the idle worker
        wait_until(lambda: pid_gone(first.metrics["parent"]), "the worker to die")
        second = executor.submit(harness.launch("ok")).result()
    assert second.status is TrialStatus.COMPLETED and second.metrics["parent"] != first.metrics["parent"]


def test_cancel_ends_a_trial_whose_worker_is_still_importing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    harness = Harness(tmp_path, "worker")
    monkeypatch.setenv("WARM_IMPORTS", str(harness.imports))
    with LocalExecutor(slots=1) as executor:
        job = executor.submit(harness.launch("ok"))
        job.cancel()  # right after submit: the worker has not forked it yet, or has just done so
        result = job.result()
        assert result.status in (TrialStatus.CANCELLED, TrialStatus.COMPLETED)
        assert executor.submit(harness.launch("ok")).result().status is TrialStatus.COMPLETED


SLOW_IMPORT = '''\
"""A module whose import takes a while, as a heavy library's does."""
import os
import time
from pathlib import Path

time.sleep(float(Path(os.environ["WARM_SLOW_IMPORT"]).read_text()))  # a file: a test changes it between imports
Path(os.environ["WARM_IMPORTS"], f"{os.getpid()}").write_text("imported")


def touch(config, context):
    Path(context.trial_dir, "ran").write_text(str(os.getpid()))
    return {"parent": os.getppid()}
'''


def _slow_import_harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seconds: float) -> Harness:
    """Warm workers of ``slow_import:touch``, whose import takes ``seconds`` (the file ``import_seconds``)."""
    harness = Harness(tmp_path, "worker")
    (tmp_path / "slow_import.py").write_text(SLOW_IMPORT)
    monkeypatch.setenv("WARM_IMPORTS", str(harness.imports))
    (tmp_path / "import_seconds").write_text(str(seconds))
    monkeypatch.setenv("WARM_SLOW_IMPORT", str(tmp_path / "import_seconds"))
    return harness


def _warm_processes(function: str) -> list[psutil.Process]:
    """The warm workers of this machine serving ``function`` (fresh ones and clones alike)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if "sweeplab.executors.warm_server" in cmdline and function in cmdline \
                and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


def test_a_clone_outlives_the_worker_it_was_cloned_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    harness = Harness(tmp_path, "worker")
    monkeypatch.setenv("WARM_IMPORTS", str(harness.imports))
    with LocalExecutor(slots=2) as executor:
        first = [executor.submit(harness.launch("ok", x=n)) for n in range(2)]
        firsts = [job.result() for job in first]
        (importer,) = (int(path.name) for path in harness.imports.iterdir())
        parents = {result.metrics["parent"] for result in firsts}
        assert len(parents) == 2 and importer in parents  # the importer and its clone, one trial each
        (clone,) = parents - {importer}
        assert psutil.Process(clone).ppid() == os.getpid()  # adopted by the executor, a subreaper
        os.kill(importer, signal.SIGKILL)
        wait_until(lambda: pid_gone(importer), "the first worker to die")
        later = [executor.submit(harness.launch("ok", x=n)) for n in range(2)]
        laters = [job.result() for job in later]
    assert [result.status for result in firsts + laters] == [TrialStatus.COMPLETED] * 4
    # the clone served on; the slot of the dead worker got a clone of the clone: still one import
    assert clone in {result.metrics["parent"] for result in laters}
    assert len(list(harness.imports.iterdir())) == 1
    assert not _warm_processes("warm_trials:ok")  # shut down: no worker is left, clones included


def _zombie_children(besides: set[int]) -> list[int]:
    """This process's children that have ended and were never reaped, other than ``besides``."""
    found = []
    for child in psutil.Process().children():
        try:
            if child.status() == psutil.STATUS_ZOMBIE and child.pid not in besides:
                found.append(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def test_a_trial_cancelled_while_its_clone_waits_for_the_import_never_runs(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """... and the clone, closed before it existed, is reaped once it comes and goes: no zombie is left in
    this process, the clone's subreaper (a notebook's kernel would collect them for its whole life)."""
    harness = _slow_import_harness(tmp_path, monkeypatch, seconds=3)
    before = {child.pid for child in psutil.Process().children()}
    with LocalExecutor(slots=2) as executor:
        kept, dropped = (harness.launch("touch", module="slow_import") for _ in range(2))
        kept_job = executor.submit(kept)
        dropped_job = executor.submit(dropped)  # its worker is a clone of the first, which still imports
        dropped_job.cancel()
        dropped_result = dropped_job.result()
        assert dropped_result.status is TrialStatus.CANCELLED
        assert not harness.imports.exists() or not list(harness.imports.iterdir())  # it ended before the import
        assert kept_job.result().status is TrialStatus.COMPLETED
        # the clone came to exist after the import, found its executor gone and did not start the attempt
        wait_until(lambda: len(_warm_processes("slow_import:touch")) == 1, "the abandoned clone to exit")
    assert Path(kept.attempt_dir, "ran").exists() and not Path(dropped.attempt_dir, "ran").exists()
    assert len(list(harness.imports.iterdir())) == 1
    assert not _warm_processes("slow_import:touch")
    assert _zombie_children(before) == []


def test_a_timeout_and_an_abort_on_a_clone_leave_it_serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    harness = Harness(tmp_path, "worker")
    monkeypatch.setenv("WARM_IMPORTS", str(harness.imports))
    with LocalExecutor(slots=2) as executor:
        busy = executor.submit(harness.launch("acts", x=1, timeout=60))  # sleeps: holds the first worker
        slept = harness.launch("acts", x=1, timeout=3)
        timed_out = executor.submit(slept).result()  # on the clone
        aborted = executor.submit(harness.launch("acts", x=2)).result()
        after = executor.submit(harness.launch("acts", x=0)).result()
        busy.cancel()
        assert busy.result().status is TrialStatus.CANCELLED
    assert Path(slept.attempt_dir, "started").exists()  # it ran, and its timeout ended it
    assert (timed_out.status, aborted.status, after.status) == (
        TrialStatus.TIMEOUT, TrialStatus.CRASHED, TrialStatus.COMPLETED)
    # the clone survived its trials' timeout and abort and served the last one; nothing imported again
    assert after.metrics["parent"] == int(Path(slept.attempt_dir, "parent").read_text())
    assert len(list(harness.imports.iterdir())) == 1


def test_the_clones_of_a_worker_killed_while_importing_end_their_trials_crashed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    harness = _slow_import_harness(tmp_path, monkeypatch, seconds=30)
    with LocalExecutor(slots=2) as executor:
        jobs = [executor.submit(harness.launch("touch", module="slow_import")) for _ in range(2)]
        (importer,) = wait_until(lambda: _warm_processes("slow_import:touch") or None, "the first worker to start")
        importer.kill()  # from outside, long before its import ends: its clone was never forked
        results = [job.result() for job in jobs]
        assert [result.status for result in results] == [TrialStatus.CRASHED] * 2
        assert all(result.error.startswith("the warm worker running this trial died") for result in results)
        (tmp_path / "import_seconds").write_text("0")  # the next worker is a fresh one: nothing is left to clone
        again = executor.submit(harness.launch("touch", module="slow_import")).result()
    assert again.status is TrialStatus.COMPLETED
    assert not _warm_processes("slow_import:touch")
