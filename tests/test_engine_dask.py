"""Sweeps on a real Dask cluster (scheduler and worker processes on 127.0.0.1), through the CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from helpers.engine_support import Workspace, finish, kill_session, leftover_trials, pid_gone, wait_until


def test_a_sweep_runs_on_the_cluster_with_retries_and_merges(workspace: Workspace, dask_scheduler: str) -> None:
    workspace.write_base(mode="flaky", fail_times=1)  # every trial fails once, then succeeds
    spec = workspace.spec("cluster", {"value": [1.0, 2.0, 3.0, 4.0]}, parallel="auto", dask_scheduler=dask_scheduler)
    done = workspace.run("run", spec, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"Dask cluster at {dask_scheduler}: 2 worker thread(s)" in done.stdout
    rows = workspace.trial_rows("cluster")
    assert sorted(rows.values()) == [("completed", 2)] * 4
    assert workspace.result_counts("cluster_") == {experiment_id: 1 for experiment_id in rows}  # merged once
    attempts = workspace.query("SELECT status, host FROM attempts WHERE sweep_id = 'cluster' ORDER BY key, attempt")
    assert [status for status, _ in attempts] == ["failed", "completed"] * 4
    assert {host for _, host in attempts} == {socket.gethostname()}
    results = json.loads((workspace.sweep_dir("cluster") / "sweep_results.json").read_text())["results"]
    assert sorted(r["metrics"]["value"] for r in results) == [1.0, 2.0, 3.0, 4.0]


def test_an_unreachable_scheduler_is_a_clear_error_that_writes_nothing(workspace: Workspace) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    spec = workspace.spec("nowhere", {"value": [1.0]}, dask_scheduler=address)
    done = workspace.run("run", spec, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"cannot run on the Dask cluster '{address}'" in done.stderr
    assert "dask scheduler" in done.stderr  # says how to fix it
    assert not workspace.output.exists() and not workspace.db.exists()


def test_a_scheduler_address_that_is_not_one_is_refused(workspace: Workspace) -> None:
    spec = workspace.spec("badaddress", {"value": [1.0]}, dask_scheduler="my cluster")
    done = workspace.run("run", spec)
    assert done.returncode == 2
    assert "dask_scheduler" in done.stderr and "tcp://host:8786" in done.stderr
    assert not workspace.output.exists()


def test_resume_moves_a_sweep_onto_the_cluster(workspace: Workspace, dask_scheduler: str) -> None:
    workspace.write_base(mode="flaky", fail_times=1)
    spec = workspace.spec("moved", {"value": [1.0, 2.0]}, max_retries=0)
    first = workspace.run("run", spec)  # here, no retries: both trials fail once
    assert first.returncode == 1
    assert sorted(workspace.trial_rows("moved").values()) == [("failed", 1)] * 2
    resumed = workspace.resume("moved", "--dask", dask_scheduler)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Dask cluster at {dask_scheduler}" in resumed.stdout
    assert sorted(workspace.trial_rows("moved").values()) == [("completed", 2)] * 2


def _leave_stale_attempt(workspace: Workspace, sweep_id: str, spec: Path) -> list[str]:
    """Make it look as if attempt 1 of every trial started unjournaled before a crash: its folder exists."""
    from sweeplab.planning.plan import Plan
    from sweeplab.planning.resolve import resolve
    from sweeplab.planning.spec import load_spec

    keys = [key for _, key in Plan(resolve(load_spec(spec), spec_dir=spec.parent)).keys()]
    for key in keys:
        folder = workspace.output / sweep_id / "trials" / key / "attempt-1"
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps({"value": -1.0}))  # what a leftover might write
    return keys


def test_a_rerun_on_the_cluster_never_shares_a_leftover_attempts_folder(workspace: Workspace,
                                                                        dask_scheduler: str) -> None:
    """A worker may still run a lost attempt, so its folder is left alone and the rerun takes the next number."""
    spec = workspace.spec("leftover", {"value": [1.0, 2.0]}, dask_scheduler=dask_scheduler)
    keys = _leave_stale_attempt(workspace, "leftover", spec)
    done = workspace.run("run", spec, timeout=120)
    assert done.returncode == 0, done.stderr
    assert workspace.query("SELECT attempt, status FROM attempts WHERE sweep_id = 'leftover'") == [(2, "completed")] * 2
    for key in keys:
        trial = workspace.output / "leftover" / "trials" / key
        assert json.loads((trial / "attempt-1" / "metrics.json").read_text()) == {"value": -1.0}  # untouched
        assert (trial / "attempt-2" / "stdout.txt").read_text().splitlines()[-1] == "done"
    assert sorted(m for (m,) in workspace.query(
        "SELECT json_extract(metrics_json, '$.value') FROM trials WHERE sweep_id = 'leftover'")) == [1.0, 2.0]


def test_a_local_rerun_reuses_the_leftover_attempts_folder_it_cleared(workspace: Workspace) -> None:
    """Locally the recovery ends leftovers first, so the folder is emptied and its number reused."""
    spec = workspace.spec("cleared", {"value": [1.0, 2.0]})
    keys = _leave_stale_attempt(workspace, "cleared", spec)
    done = workspace.run("run", spec)
    assert done.returncode == 0, done.stderr
    assert workspace.query("SELECT attempt, status FROM attempts WHERE sweep_id = 'cleared'") == [(1, "completed")] * 2
    for key in keys:
        assert not (workspace.output / "cleared" / "trials" / key / "attempt-1" / "metrics.json").exists()


def test_resume_after_kill_9_ends_the_attempt_still_running_on_a_worker(workspace: Workspace,
                                                                         dask_scheduler: str) -> None:
    """The dead coordinator's task keeps running on its worker; the resume cancels it, then reruns the trial."""
    spec = workspace.spec("crashed", {"mode": ["hang_first"], "value": [1.0]}, dask_scheduler=dask_scheduler,
                          grace_period=1)
    process = workspace.start("run", spec)
    try:
        pid_file = wait_until(lambda: next(workspace.state.glob("*.1.pid"), None), "the trial to start on a worker")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        kill_session(process)
    leftover = int(pid_file.read_text())
    assert not pid_gone(leftover)  # the worker still runs it: nothing of the coordinator's session touched it
    resumed = workspace.resume("crashed", timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    wait_until(lambda: pid_gone(leftover), "the leftover trial to be ended")
    # here the worker is on this machine, so the leftover is also found by its environment; what a
    # remote worker relies on is the task's cancel event, which the resume must have set
    from distributed import Client, Event

    from sweeplab.executors.dask import cancel_event_name

    (first_attempt,) = (workspace.sweep_dir("crashed") / "trials").resolve().glob("*/attempt-1")
    attempt_dir = str(first_attempt)  # journaled or not, depending on when the kill came
    with Client(dask_scheduler, set_as_default=False) as client:
        assert Event(cancel_event_name(attempt_dir), client=client).is_set()
    statuses = workspace.query("SELECT attempt, status FROM attempts WHERE sweep_id = 'crashed' ORDER BY attempt")
    assert statuses[-1][1] == "completed" and all(status != "running" for _, status in statuses)


def test_python_api_estimates_with_the_clusters_worker_threads(workspace: Workspace, dask_scheduler: str,
                                                               monkeypatch) -> None:  # noqa: ANN001
    from sweeplab import ExperimentSweep
    from sweeplab.engine import resources
    from sweeplab.engine.resources import Machine

    monkeypatch.chdir(workspace.root)
    # this machine as an 8-core one: sized by it, the estimate would be one wave, not three
    monkeypatch.setattr(resources, "detect_machine", lambda: Machine(total_memory=64 * 2**30, cpus=8))
    sweep = ExperimentSweep(str(workspace.base), {"value": [1.0, 2.0, 3.0, 4.0, 5.0]}, sweep_id="estimate",
                            parallel_jobs="auto", runner="command", command=["true"], dask_scheduler=dask_scheduler)
    assert sweep.estimate_time_remaining(10.0) == 30.0  # 5 trials on 2 worker threads: 3 waves


def _hang_launch(folder: Path, number: int, **fields: object):  # noqa: ANN202 - a TrialLaunch
    from sweeplab.trial import TrialLaunch

    attempt = folder / f"trial{number}" / "attempt-1"
    attempt.mkdir(parents=True)
    script = Path(__file__).parent / "helpers" / "trial_script.py"
    fields.setdefault("argv", (sys.executable, str(script), "hang"))
    return TrialLaunch(sweep_id="placement", key=f"t{number}", experiment_id=f"placement_exp{number:04d}", attempt=1,
                       attempt_dir=str(attempt), cwd=str(folder), timeout=120, grace=0.5,
                       **fields)  # type: ignore[arg-type]


def test_workers_with_a_memory_resource_start_only_the_trials_that_fit(tmp_path: Path) -> None:
    """Two workers of two threads and 300 MB each; four trials of 200 MB: one runs on each worker, the
    others wait for memory although threads are free. A trial larger than any worker runs alone."""
    from distributed import LocalCluster

    from sweeplab.executors.dask import DaskExecutor
    from sweeplab.trial import TrialStatus

    mb = 1024 * 1024
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1", dashboard_address=":0",
                      worker_dashboard_address=":0", resources={"MEMORY": 300 * mb}) as cluster, \
            DaskExecutor(cluster.scheduler_address) as executor:
        assert executor.memory_placement
        assert executor.capacity.slots == 4 and executor.capacity.memory_bytes == 600 * mb
        jobs = [executor.submit(_hang_launch(tmp_path, n, memory_bytes=200 * mb, resident_only=True))
                for n in range(4)]

        def states() -> dict[str, list[str]]:
            return executor.client.run(
                lambda dask_worker: sorted(task.state for task in dask_worker.state.tasks.values()))

        try:
            wait_until(lambda: sorted(sum(states().values(), [])) == ["constrained", "constrained",
                                                                       "executing", "executing"],
                       "two trials executing and two waiting for memory")
            assert sorted(s.count("executing") for s in states().values()) == [1, 1]  # one on each worker
            assert len(list(tmp_path.glob("trial*/attempt-1/ready"))) <= 2
        finally:
            for job in jobs:
                job.cancel()
            executor.wait(jobs, timeout=30)
        assert all(job.result().status is TrialStatus.CANCELLED for job in jobs)

        big = _hang_launch(tmp_path, 9, memory_bytes=500 * mb, resident_only=True,
                           argv=(sys.executable, "-c", "print('{\"ran\": 1}')"))
        job = executor.submit(big)
        executor.wait([job], timeout=60)
        assert job.done() and job.result().status is TrialStatus.COMPLETED
        assert job.result().metrics == {"ran": 1}


def test_a_worker_that_does_not_see_the_sweep_folder_says_so(tmp_path: Path, dask_scheduler: str) -> None:
    """The coordinator makes every attempt folder before it submits; a worker without it is on another file
    system: the attempt fails at once, not retried, with the reason and the fix."""
    from sweeplab.executors.dask import DaskExecutor
    from sweeplab.trial import TrialStatus

    launch = _hang_launch(tmp_path, 1)
    missing = tmp_path / "elsewhere" / "attempt-1"
    launch = type(launch)(**{**launch.__dict__, "attempt_dir": str(missing)})
    with DaskExecutor(dask_scheduler) as executor:
        job = executor.submit(launch)
        executor.wait([job], timeout=60)
        result = job.result()
    assert result.status is TrialStatus.FAILED and result.invalid_config
    assert f"the attempt folder {missing} does not exist on Dask worker {socket.gethostname()}" in result.error
    assert "a file system that the coordinator and every worker share" in result.error and "--output" in result.error
    assert not missing.exists()  # nothing was made up on the worker's side


def test_the_workers_are_asked_whether_they_see_a_folder(tmp_path: Path, dask_scheduler: str) -> None:
    from sweeplab.executors.dask import DaskExecutor

    with DaskExecutor(dask_scheduler) as executor:
        workers = sorted(executor.client.scheduler_info()["workers"])
        assert executor.workers_missing(str(tmp_path)) == []
        assert executor.workers_missing(str(tmp_path / "not-here")) == workers and len(workers) == 2


def test_a_sweep_folder_the_workers_do_not_share_is_refused_before_anything_is_written(
        workspace: Workspace, dask_scheduler: str, monkeypatch) -> None:  # noqa: ANN001
    """On one machine every worker sees every folder, so the workers' answer is what is replaced here:
    two workers that lack the folder. The refusal is a clear error and writes nothing."""
    from sweeplab.engine.launch import prepare
    from sweeplab.errors import ConfigError
    from sweeplab.executors.dask import DaskExecutor
    from sweeplab.planning.resolve import resolve
    from sweeplab.planning.spec import load_spec

    asked: list[str] = []

    def lacking(self: DaskExecutor, folder: str) -> list[str]:
        asked.append(folder)
        return ["tcp://10.0.0.7:40001", "tcp://10.0.0.8:40001"]

    monkeypatch.setattr(DaskExecutor, "workers_missing", lacking)
    monkeypatch.chdir(workspace.root)
    resolved = resolve(load_spec(workspace.spec("unshared", {"value": [1.0]}, dask_scheduler=dask_scheduler)))
    try:
        prepare(resolved)
    except ConfigError as refusal:
        message = str(refusal)
    else:
        raise AssertionError("an unshared sweep folder was accepted")
    assert asked == [str(workspace.root)]  # the nearest folder that exists: the output folder is not made yet
    assert "not on a file system the Dask workers share" in message and "tcp://10.0.0.7:40001" in message
    assert "--output" in message
    assert not workspace.output.exists() and not workspace.db.exists()


def _sweeplab_tasks(client) -> list[str]:  # noqa: ANN001 - a distributed.Client
    """The keys of the sweeplab tasks the scheduler holds now (queued, on a worker or running)."""
    return client.run_on_scheduler(
        lambda dask_scheduler: sorted(str(key) for key in dask_scheduler.tasks if str(key).startswith("sweeplab-")))


@pytest.mark.parametrize(("parallel", "submitted"), [("auto", 20), (1, 1)])
def test_trials_wait_on_the_scheduler_ahead_of_free_threads_only_when_the_threads_cap_what_runs(
        workspace: Workspace, dask_scheduler: str, parallel: int | str, submitted: int) -> None:
    """Two worker threads: with auto, two trials run and eighteen more wait on the scheduler; with parallel 1,
    one trial is submitted and no more. A double Ctrl-C ends everything, and the trials that waited on
    the scheduler never started (their folders have no claim)."""
    from distributed import Client

    sweep_id = f"ahead_{parallel}"
    workspace.write_base(gate="go")  # every trial waits for the gate: none ends while the test looks
    spec = workspace.spec(sweep_id, {"value": [float(v) for v in range(24)]}, parallel=parallel,
                          dask_scheduler=dask_scheduler, max_failures=0)
    running = min(2, submitted)
    process = workspace.start("run", spec)
    try:
        wait_until(lambda: len(list(workspace.state.glob("*.1.pid"))) == running or process.poll() is not None,
                   f"{running} trial(s) to start on the workers")
        assert process.poll() is None
        with Client(dask_scheduler, set_as_default=False) as client:
            # the coordinator submits what it admits in one go, before any trial can start
            assert len(_sweeplab_tasks(client)) == submitted
            assert len(list(workspace.state.glob("*.1.pid"))) == running
            os.kill(process.pid, signal.SIGINT)
            wait_until(lambda: workspace.count_events(sweep_id, "stopping") >= 1, "the first Ctrl-C to be seen")
            os.kill(process.pid, signal.SIGINT)
            code, out, err = finish(process)
            wait_until(lambda: _sweeplab_tasks(client) == [], "the cluster to forget the sweep's tasks")
    finally:
        kill_session(process)
    assert code == 130, out + err
    said = "+18 submitted ahead, queued on the scheduler for the next free worker thread, 8 at a time"
    assert (said in out) == (submitted > running), out
    attempts = sorted((workspace.sweep_dir(sweep_id) / "trials").glob("*/attempt-1"))
    claimed = [folder for folder in attempts if (folder / ".sweeplab-claim").exists()]
    assert len(attempts) == submitted and len(claimed) == running
    assert len(list(workspace.state.glob("*.pid"))) == running  # the queued trials never ran
    statuses = workspace.query(f"SELECT status FROM attempts WHERE sweep_id = '{sweep_id}'")
    assert sorted(status for (status,) in statuses) == ["cancelled"] * submitted
    assert not leftover_trials(workspace.root)


def test_a_single_ctrl_c_withdraws_the_trials_waiting_on_the_scheduler_and_lets_the_running_ones_finish(
        workspace: Workspace, dask_scheduler: str) -> None:
    """The first Ctrl-C means "start nothing new": the eighteen trials submitted ahead have not started, so they
    are withdrawn (cancelled, their folders never claimed), while the two running ones finish and are
    recorded completed."""
    from distributed import Client

    sweep_id = "ahead_single_stop"
    workspace.write_base(gate="go")
    spec = workspace.spec(sweep_id, {"value": [float(v) for v in range(24)]}, parallel="auto",
                          dask_scheduler=dask_scheduler, max_failures=0)
    process = workspace.start("run", spec)
    try:
        wait_until(lambda: len(list(workspace.state.glob("*.1.pid"))) == 2 or process.poll() is not None,
                   "two trials to start on the workers")
        with Client(dask_scheduler, set_as_default=False) as client:
            assert len(_sweeplab_tasks(client)) == 20
            os.kill(process.pid, signal.SIGINT)
            wait_until(lambda: len(_sweeplab_tasks(client)) == 2, "the queued trials to be withdrawn")
            assert process.poll() is None  # the running two hold the sweep open
            (workspace.state / "go").write_text("")
            code, out, err = finish(process)
    finally:
        kill_session(process)
    assert code == 130, out + err
    assert "waiting for 2 running trial(s)" in err, err
    attempts = sorted((workspace.sweep_dir(sweep_id) / "trials").glob("*/attempt-1"))
    assert len(attempts) == 20 and len([folder for folder in attempts if (folder / ".sweeplab-claim").exists()]) == 2
    assert len(list(workspace.state.glob("*.pid"))) == 2  # the withdrawn trials never ran
    statuses = workspace.query(f"SELECT status FROM attempts WHERE sweep_id = '{sweep_id}'")
    assert sorted(status for (status,) in statuses) == ["cancelled"] * 18 + ["completed"] * 2
    assert not leftover_trials(workspace.root)


def test_a_task_that_finds_its_cancel_mark_never_starts_its_trial(tmp_path: Path, dask_scheduler: str) -> None:
    """A resuming coordinator cancels what its dead predecessor submitted by folder (end_leftovers): a task
    still queued then finds the mark when a worker takes it, before it claims the folder."""
    from sweeplab.executors.dask import CANCEL_MARK_NAME, DaskExecutor
    from sweeplab.trial import TrialStatus

    cancelled, kept = _hang_launch(tmp_path, 1), _hang_launch(tmp_path, 2, argv=(sys.executable, "-c", "print(1)"))
    with DaskExecutor(dask_scheduler) as executor:
        assert executor.end_leftovers([cancelled.attempt_dir]) == 1
        assert os.path.exists(os.path.join(cancelled.attempt_dir, CANCEL_MARK_NAME))
        jobs = [executor.submit(cancelled), executor.submit(kept)]
        executor.wait(jobs, timeout=60)
        executor.wait([job for job in jobs if not job.done()], timeout=60)
        assert [job.result().status for job in jobs] == [TrialStatus.CANCELLED, TrialStatus.COMPLETED]
    folder = Path(cancelled.attempt_dir)
    assert not (folder / ".sweeplab-claim").exists() and not (folder / "ready").exists()
    assert sorted(path.name for path in folder.iterdir()) == [CANCEL_MARK_NAME]  # the trial never started
    assert (Path(kept.attempt_dir) / ".sweeplab-claim").exists()


def test_only_the_attempts_a_worker_took_count_as_started(tmp_path: Path, dask_scheduler: str) -> None:
    """Four hanging attempts on two worker threads: two run, two wait on the scheduler. The progress line
    counts the started ones (Job.started: the task claimed its folder), not everything submitted."""
    from sweeplab.engine.coordinator import _running_now
    from sweeplab.executors.dask import DaskExecutor

    with DaskExecutor(dask_scheduler) as executor:
        jobs = [executor.submit(_hang_launch(tmp_path, n)) for n in range(4)]
        try:
            wait_until(lambda: len(list(tmp_path.glob("trial*/attempt-1/ready"))) == 2, "two attempts to run")
            started = [job.started for job in jobs]
            running = [(tmp_path / f"trial{n}" / "attempt-1" / "ready").exists() for n in range(4)]
            assert started == running and started.count(True) == 2
            assert _running_now(dict.fromkeys(jobs)) == 2  # type: ignore[arg-type]
            # a running one cancelled, its thread takes a queued one, which is seen started
            jobs[started.index(True)].cancel()
            waiting = [job for job, is_started in zip(jobs, started) if not is_started]
            wait_until(lambda: any(job.started for job in waiting), "a queued attempt to be seen started")
        finally:
            for job in jobs:
                job.cancel()
            executor.wait(jobs, timeout=30)


def test_started_looks_at_the_folder_at_most_once_per_interval(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The coordinator asks every queued attempt each round; the folder is looked at once per
    STARTED_LOOK_INTERVAL, and a claim is seen at the first look after it appeared."""
    from sweeplab.executors import dask as dask_module
    from sweeplab.executors.dask import STARTED_LOOK_INTERVAL, DaskJob

    clock = [1000.0]
    monkeypatch.setattr(dask_module.time, "monotonic", lambda: clock[0])
    launch = _hang_launch(tmp_path, 1)
    job = DaskJob(None, launch, "0" * 32)  # type: ignore[arg-type] - started needs no executor
    assert not job.started
    (Path(launch.attempt_dir) / ".sweeplab-claim").write_text("pid=1 host=h cancel=0\n")
    clock[0] += STARTED_LOOK_INTERVAL / 2
    assert not job.started  # not looked at again yet
    clock[0] += STARTED_LOOK_INTERVAL / 2
    assert job.started
    (Path(launch.attempt_dir) / ".sweeplab-claim").unlink()
    assert job.started  # seen once, started for good


def test_fetched_results_are_released_in_groups_and_all_at_shutdown(tmp_path: Path, dask_scheduler: str) -> None:
    """The futures of fetched results are released RELEASE_BATCH at a time (one message for many): the
    scheduler keeps fewer than a batch of finished trials for us at any time, and none after shutdown."""
    from distributed import Client

    from sweeplab.executors.dask import RELEASE_BATCH, DaskExecutor
    from sweeplab.trial import TrialStatus

    count = RELEASE_BATCH + 5
    quick = (sys.executable, "-c", "print(1)")
    with Client(dask_scheduler, set_as_default=False) as client:
        def ours() -> list[str]:
            return [key for key in client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.tasks))
                    if str(key).startswith("sweeplab-")]

        executor = DaskExecutor(client=client)
        jobs = [executor.submit(_hang_launch(tmp_path, n, argv=quick)) for n in range(count)]
        while not all(job.done() for job in jobs):
            executor.wait(jobs, timeout=60)
        assert [job.result().status for job in jobs] == [TrialStatus.COMPLETED] * count
        # one group let go, the last few (fewer than a group) still held
        wait_until(lambda: len(ours()) == count - RELEASE_BATCH, "the first group to be released")
        executor.shutdown()
        wait_until(lambda: not ours(), "the rest to be released at shutdown")


def test_a_sweep_beside_its_scheduler_hands_the_gil_over_every_millisecond_and_restores_it(
        dask_scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's cluster has its scheduler in this process (as a notebook's Client() has): while the
    sweep runs, the switch interval is a millisecond; afterwards it is what it was. A scheduler elsewhere
    changes nothing (its process is not ours)."""
    import sys

    from sweeplab.engine.launch import run_resolved
    from sweeplab.executors.dask import SHARED_SWITCH_INTERVAL, DaskExecutor
    from sweeplab.planning.resolve import resolve
    from sweeplab.planning.spec import spec_from_mapping

    before = sys.getswitchinterval()
    (tmp_path / "base.json").write_text('{"x": 0}')
    sweep = resolve(spec_from_mapping({"base_config": str(tmp_path / "base.json"), "sweep_id": "gil",
                                       "output_dir": str(tmp_path / "out"), "db_path": str(tmp_path / "db.sqlite"),
                                       "command": [sys.executable, "-c", "print(1)"],
                                       "sweep": {"x": [1, 2, 3]}}))
    intervals: list[float] = []
    real = sys.setswitchinterval
    monkeypatch.setattr(sys, "setswitchinterval", lambda seconds: (intervals.append(seconds), real(seconds))[1])
    executor = DaskExecutor(dask_scheduler, slots=2)
    try:
        assert run_resolved(sweep, executor=executor).exit_code == 0
        assert intervals == [SHARED_SWITCH_INTERVAL, before] and sys.getswitchinterval() == before
        monkeypatch.setattr(executor.client, "run_on_scheduler", lambda function: -1)  # a scheduler elsewhere
        with executor.during_sweep():
            assert sys.getswitchinterval() == before
        assert intervals == [SHARED_SWITCH_INTERVAL, before]
    finally:
        executor.shutdown()
