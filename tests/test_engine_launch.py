"""Preparing a run (sweeplab.engine.launch): the plan is built once, refusals come before anything is
written (drift before the cluster), a preview loads no executor and writes nothing, a launch runs once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from helpers.engine_support import Workspace, clean_env
from test_engine_drift import snapshot

from sweeplab.engine import drift, launch
from sweeplab.engine.launch import prepare
from sweeplab.errors import DriftError, SweepError
from sweeplab.executors.base import Capacity, Executor, Job
from sweeplab.planning.plan import Plan
from sweeplab.planning.resolve import ResolvedSweep, resolve
from sweeplab.planning.spec import load_spec
from sweeplab.trial import TrialLaunch

#: modules a preview (the dry run) must not load: they are what running needs
RUN_ONLY = ("sweeplab.executors", "sweeplab.engine.coordinator", "sweeplab.engine.staging",
            "sweeplab.engine.recovery", "sweeplab.journal.writer", "distributed")


class _Idle(Executor):
    """An executor that is never asked to start anything: it only records its shutdown."""

    def __init__(self) -> None:
        self.shutdowns: list[bool] = []

    @property
    def capacity(self) -> Capacity:
        return Capacity(slots=1, memory_bytes=2**30, cpus=1)

    def submit(self, launch: TrialLaunch) -> Job:
        raise AssertionError("nothing should be submitted")

    def wait(self, jobs: Iterable[Job], timeout: float | None) -> list[Job]:
        raise AssertionError("nothing should be awaited")

    def shutdown(self, cancel: bool = True) -> None:
        self.shutdowns.append(cancel)


def resolved(workspace: Workspace, spec: Path) -> ResolvedSweep:
    return resolve(load_spec(spec), spec_dir=spec.parent)


def test_the_plan_is_built_once_and_drift_checked_once_per_run(workspace: Workspace,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace.root)
    sweep = resolved(workspace, workspace.spec("once", {"value": [1.0, 2.0, 3.0]}))
    plans: list[Plan] = []
    checks: list[str] = []
    build = Plan.__init__
    look_up = drift._existing_sweep

    def counted_build(self: Plan, *args: object, **kwargs: object) -> None:
        plans.append(self)
        build(self, *args, **kwargs)

    def counted_look_up(sweep: ResolvedSweep) -> object:
        checks.append(sweep.sweep_id)
        return look_up(sweep)

    monkeypatch.setattr(Plan, "__init__", counted_build)
    monkeypatch.setattr(drift, "_existing_sweep", counted_look_up)  # every check_resumable goes through it
    prepared = prepare(sweep)
    assert plans == [prepared.plan] and checks == ["once"]
    outcome = prepared.run()
    assert outcome.exit_code == 0 and outcome.completed == 3
    assert plans == [prepared.plan] and checks == ["once"]  # the coordinator neither rebuilt nor re-checked
    assert workspace.trial_rows("once") == {f"once_exp000{i}_value={i}.0": ("completed", 1) for i in (1, 2, 3)}


def test_drift_is_refused_by_prepare_before_anything_is_written_or_contacted(workspace: Workspace,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace.root)
    spec = workspace.spec("moved", {"value": [1.0, 2.0]}, resume=True)
    assert prepare(resolved(workspace, spec)).run().exit_code == 0
    workspace.write_base(sleep=0.01)
    # the resume asks for a cluster: the drift check must come before it is contacted
    spec = workspace.spec("moved", {"value": [1.0, 2.0]}, resume=True, dask_scheduler="tcp://127.0.0.1:9")
    contacted: list[str] = []
    monkeypatch.setattr(launch, "executor_for", lambda sweep: contacted.append(sweep.sweep_id))
    before = snapshot(workspace)
    with pytest.raises(DriftError, match="sleep: 0.0 -> 0.01"):
        prepare(resolved(workspace, spec))
    assert contacted == [] and snapshot(workspace) == before
    given = _Idle()  # an executor handed to prepare belongs to the launch: a refusal shuts it down
    with pytest.raises(DriftError):
        prepare(resolved(workspace, spec), executor=given)
    assert given.shutdowns == [True] and snapshot(workspace) == before

    allowed = prepare(resolved(workspace, spec), allow_drift=True)
    assert contacted == ["moved"] and len(allowed.warnings) == 1 and "allowed by --allow-drift" in allowed.warnings[0]
    allowed.close()
    assert snapshot(workspace) == before  # prepared, not run: still nothing written


def test_the_dry_run_writes_nothing_and_loads_no_executor(workspace: Workspace) -> None:
    """The real CLI in a fresh interpreter: what it imported is read from sys.modules after the dry run.
    The spec names a cluster that does not exist: a dry run must not contact it."""
    spec = workspace.spec("preview", {"value": [1.0, 2.0]}, dask_scheduler="tcp://127.0.0.1:9")
    script = ("import json, sys\n"
              "from sweeplab.cli import main\n"
              f"code = main(['run', {str(spec)!r}, '--dry-run', '--list'])\n"
              "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=workspace.root, capture_output=True, text=True,
                          timeout=60, env=clean_env(), check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    assert "dry run" in done.stdout and "preview_exp0002_value=2.0" in done.stdout
    assert "not contacted yet" in done.stdout
    loaded = [name for name in report["modules"] if name.startswith(RUN_ONLY)]
    assert loaded == [], f"the dry run loaded what only a run needs: {loaded}"
    assert "sweeplab.engine.launch" in report["modules"]  # it did go through prepare
    assert not workspace.output.exists() and not workspace.db.exists()


def test_a_preview_cannot_run(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace.root)
    preview = prepare(resolved(workspace, workspace.spec("look", {"value": [1.0]})), connect=False)
    assert len(preview.plan) == 1 and preview.executor is None and preview.warnings == []
    assert preview.estimate[1].startswith("no earlier trials")
    with pytest.raises(SweepError, match="preview"):
        preview.run()
    assert not workspace.output.exists() and not workspace.db.exists()


def test_a_launch_that_does_not_run_releases_its_executor(workspace: Workspace,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """As after a 'no' at the confirmation prompt: leaving the ``with`` block shuts the executor down."""
    monkeypatch.chdir(workspace.root)
    idle = _Idle()
    with prepare(resolved(workspace, workspace.spec("declined", {"value": [1.0]})), executor=idle) as prepared:
        assert prepared.executor is idle
    assert idle.shutdowns == [True]
    with pytest.raises(SweepError, match="closed already"):
        prepared.run()
    assert not workspace.output.exists()


def test_a_launch_runs_once(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace.root)
    prepared = prepare(resolved(workspace, workspace.spec("twice", {"value": [1.0]})))
    assert prepared.run().exit_code == 0
    with pytest.raises(SweepError, match="ran already"):
        prepared.run()
