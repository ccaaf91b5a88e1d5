"""The runner contract, run against every runner through the ``case`` fixture.

To add a runner, add a :class:`RunnerCase` to ``CASES``; every test below then runs against it.
Sweeps run through the real engine: ``sweeplab run`` in a subprocess, real trial processes and a
real SQLite journal in a temporary folder. The command and python runners run the small trial
program :data:`CONTRACT_TRIAL`, written beside the sweep (the python runner imports it from the
sweep's working folder); the phenomenology runner runs its simulated mind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.engine_support import Workspace, reap_leftovers

from sweeplab.executors.local import LocalExecutor
from sweeplab.runners import get_runner
from sweeplab.runners.base import RunContext, Runner, TrialResources, trial_resources
from sweeplab.trial import TrialLaunch, TrialResult, TrialStatus

CONTRACT_TRIAL = '''\
"""The contract suite's trial: x < 0 is an invalid config; else it reports double = 2x and its seed."""
import json
import os
import sys
from pathlib import Path


def _run(config, seed, experiment_id, trial_dir):
    Path(trial_dir, "seen.json").write_text(json.dumps({"seed": seed, "experiment_id": experiment_id}))
    return {"double": config["x"] * 2, "seed": seed}


def train(config, context):
    """The python runner's function."""
    from sweeplab.errors import ConfigError

    if config["x"] < 0:
        raise ConfigError(f"x must be 0 or more, got {config['x']}")
    return _run(config, context.seed, context.experiment_id, context.trial_dir)


if __name__ == "__main__":  # the command runner: contract_trial.py {config} {seed} {experiment_id} {trial_dir}
    config_file, seed, experiment_id, trial_dir = sys.argv[1:]
    config = json.loads(Path(config_file).read_text())
    if config["x"] < 0:
        print(f"invalid config: x must be 0 or more, got {config['x']}", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(_run(config, int(seed), experiment_id, trial_dir)))
'''
TRIAL_FILE = "contract_trial.py"


def _seen_by_the_trial_program(workspace: Workspace, sweep_id: str) -> set[tuple[str, int]]:
    """(experiment_id, seed) as the contract trial wrote them into its attempt folders."""
    found = set()
    for seen in workspace.sweep_dir(sweep_id).glob("trials/*/attempt-*/seen.json"):
        record = json.loads(seen.read_text())
        found.add((record["experiment_id"], record["seed"]))
    return found


def _seen_by_the_experiment(workspace: Workspace, sweep_id: str) -> set[tuple[str, int]]:
    """(experiment_id, seed) as each experiment recorded itself in its own table (merged into the db)."""
    return set(workspace.query("SELECT experiment_id, seed FROM experiments WHERE experiment_id LIKE ?",
                               f"{sweep_id}_%"))


@dataclass(frozen=True)
class RunnerCase:
    """How to drive one runner through the contract."""

    name: str
    options: dict[str, Any]                    # the runner's own spec keys
    base: dict[str, Any]                       # a base config it runs
    param: str                                 # a swept key ...
    values: tuple[Any, Any]                    # ... two values it runs
    rejected: Any                              # ... and one it rejects as invalid
    metric: Callable[[Any], tuple[str, float]]  # value of param -> (metric, expected number)
    seen: Callable[[Workspace, str], set[tuple[str, int]]]
    extra: dict[str, Any] = field(default_factory=dict)
    #: the threads a trial really keeps busy when its config declares 2 (what parallel: auto sizes by)
    busy_threads: int = 2
    #: the case's name in test ids and folders (a runner may run twice, e.g. under each isolation)
    label: str = ""

    @property
    def id(self) -> str:
        return self.label or self.name

    def runner(self) -> Runner:
        return get_runner(self.name)(self.options)

    def spec(self, workspace: Workspace, sweep_id: str, values: list[Any], **keys: Any) -> Path:
        """Write the base config and a sweep spec for ``values`` of ``param``; return the spec's path."""
        (workspace.root / TRIAL_FILE).write_text(CONTRACT_TRIAL)
        workspace.base.write_text(json.dumps(self.base))
        data = {"sweep_id": sweep_id, "base_config": workspace.base.name, "runner": self.name, **self.options,
                "sweep": {self.param: values}, "output_dir": workspace.output_rel, "db_path": workspace.db_rel,
                "grace_period": 1, "timeout": 60, **keys}
        path = workspace.root / f"{sweep_id}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path


CASES = [
    RunnerCase("command", {"command": [sys.executable, TRIAL_FILE, "{config}", "{seed}", "{experiment_id}",
                                       "{trial_dir}"]},
               {"x": 1}, "x", (1, 2), -1, lambda x: ("double", 2 * x), _seen_by_the_trial_program),
    # the python runner under both isolations: warm workers (its default) and a fresh process per attempt
    RunnerCase("python", {"function": "contract_trial:train", "isolation": "worker"},
               {"x": 1}, "x", (1, 2), -1, lambda x: ("double", 2 * x), _seen_by_the_trial_program,
               label="python-worker"),
    RunnerCase("python", {"function": "contract_trial:train", "isolation": "process"},
               {"x": 1}, "x", (1, 2), -1, lambda x: ("double", 2 * x), _seen_by_the_trial_program,
               label="python-process"),
    RunnerCase("phenomenology", {},
               {"experiment_id": "contract", "mode": "isolated", "max_cycles": 2, "resource_constraints":
                {"ram_limit_gb": 8.0}, "self_report_schedule": {"on_startup": False}},
               # max_cycles 0 is the lab's "no limit": -1 is the invalid value
               "max_cycles", (2, 3), -1, lambda cycles: ("total_cycles", cycles), _seen_by_the_experiment,
               busy_threads=1),  # the simulated mind is one Python thread
]


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request: pytest.FixtureRequest) -> RunnerCase:
    return request.param


@dataclass
class FinishedSweep:
    workspace: Workspace
    sweep_id: str
    exit_code: int
    stderr: str

    def results(self) -> list[dict[str, Any]]:
        return json.loads((self.workspace.sweep_dir(self.sweep_id) / "sweep_results.json").read_text())["results"]


@pytest.fixture(scope="module")
def finished() -> Iterator[dict[str, FinishedSweep]]:
    """One completed sweep per runner, run when a test first asks for it (see :func:`sweep_of`)."""
    done: dict[str, FinishedSweep] = {}
    yield done
    for sweep in done.values():
        reap_leftovers(sweep.workspace.root)


@pytest.fixture
def sweep_of(case: RunnerCase, finished: dict[str, FinishedSweep], tmp_path_factory: pytest.TempPathFactory
             ) -> FinishedSweep:
    """The runner's sweep of its two values, two replicates each, through ``sweeplab run``."""
    if case.id not in finished:
        workspace = Workspace(tmp_path_factory.mktemp(f"contract-{case.id}"))
        sweep_id = f"ok_{case.id}".replace("-", "_")
        spec = case.spec(workspace, sweep_id, list(case.values), repeats=2, seed=11, parallel=2)
        done = workspace.run("run", spec, timeout=120)
        finished[case.id] = FinishedSweep(workspace, sweep_id, done.returncode, done.stderr)
    return finished[case.id]


def _run_directly(runner: Runner, config: dict[str, Any], cwd: Path) -> TrialResult:
    """One attempt of ``config`` through the runner's own command and a real local executor (no engine)."""
    (cwd / TRIAL_FILE).write_text(CONTRACT_TRIAL)
    config_path = cwd / "config.json"
    config_path.write_text(json.dumps(config))
    attempt_dir = cwd / "trial" / "attempt-1"
    attempt_dir.mkdir(parents=True)
    context = RunContext(sweep_id="direct", experiment_id="direct_exp0001", key="k1", seed=5, attempt=1,
                         config_path=config_path, attempt_dir=attempt_dir, db_path=attempt_dir / "trial.db")
    argv, env = runner.command(context)
    launch = TrialLaunch(sweep_id="direct", key="k1", experiment_id=context.experiment_id, attempt=1,
                         argv=tuple(argv), attempt_dir=str(attempt_dir), cwd=str(cwd), env=env, timeout=60, grace=1)
    with LocalExecutor(slots=1) as executor:
        return executor.submit(launch).result()


# --------------------------------------------------------------------------- a trial that succeeds


def test_a_trial_that_succeeds_reports_numeric_metrics(case: RunnerCase, sweep_of: FinishedSweep) -> None:
    assert sweep_of.exit_code == 0, sweep_of.stderr
    results = sweep_of.results()
    assert len(results) == 4 and {r["status"] for r in results} == {"completed"}
    for record in results:
        metrics = record["metrics"]
        assert metrics and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in metrics.values())
        name, expected = case.metric(record["parameters"][case.param])
        assert metrics[name] == expected, (record["experiment_id"], metrics)
        assert record["attempts"] == 1


def test_seed_and_experiment_id_reach_the_trial(case: RunnerCase, sweep_of: FinishedSweep) -> None:
    assert sweep_of.exit_code == 0, sweep_of.stderr
    planned = set(sweep_of.workspace.query("SELECT experiment_id, seed FROM trials WHERE sweep_id = ?",
                                           sweep_of.sweep_id))
    assert len(planned) == 4 and len({seed for _, seed in planned}) > 1  # replicates differ: the check can fail
    assert case.seen(sweep_of.workspace, sweep_of.sweep_id) == planned


# --------------------------------------------------------------------------- a config it rejects


def test_the_trial_process_rejects_an_invalid_config_with_exit_code_2(case: RunnerCase, tmp_path: Path) -> None:
    result = _run_directly(case.runner(), {**case.base, case.param: case.rejected}, tmp_path)
    assert result.status is TrialStatus.FAILED, result
    assert result.exit_code == 2 and result.invalid_config, result
    assert "Traceback" not in result.error


def test_a_rejected_config_is_invalid_and_never_retried(case: RunnerCase, workspace: Workspace) -> None:
    """Runners that validate configs refuse the sweep before it starts (exit 2, nothing written); the
    others start the trial once, which exits 2, and the engine does not retry it (max_retries 2)."""
    spec = case.spec(workspace, "rejected", [case.values[0], case.rejected], max_retries=2)
    done = workspace.run("run", spec)
    validates = type(case.runner()).validate is not Runner.validate
    if validates:
        assert done.returncode == 2, done.stderr
        assert "invalid" in done.stderr and case.param in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert not workspace.db.exists() or not workspace.query("SELECT * FROM trials")
        assert not workspace.sweep_dir("rejected").exists()
        return
    assert done.returncode == 1, done.stderr
    rows = workspace.query("SELECT t.experiment_id, t.status, t.attempts, a.exit_code FROM trials t "
                                    "JOIN attempts a ON a.sweep_id = t.sweep_id AND a.key = t.key "
                                    "WHERE t.sweep_id = 'rejected' ORDER BY t.idx")
    assert [row[1:] for row in rows] == [("completed", 1, 0), ("failed", 1, 2)], rows
    errors = {r["experiment_id"]: r["error_message"] for r in json.loads(
        (workspace.sweep_dir("rejected") / "sweep_results.json").read_text())["results"]}
    assert "invalid config" in errors[rows[1][0]] and "x must be 0 or more" in errors[rows[1][0]]


# --------------------------------------------------------------------------- resources


def test_the_runner_states_the_resources_its_config_declares(case: RunnerCase) -> None:
    runner = case.runner()
    declared = {**case.base, "resource_constraints": {"ram_limit_gb": 0.5, "cpu_threads": 2}}
    assert isinstance(runner.resources(declared), TrialResources)
    stated = trial_resources(runner, declared, memory_gb=3.0, cpu_threads=1)
    # the config wins over the spec's limits; a runner may know that its trial keeps fewer threads busy
    assert (stated.memory_gb, stated.cpu_threads) == (0.5, case.busy_threads)


def test_without_a_declaration_the_spec_limits_decide_the_threads(case: RunnerCase) -> None:
    runner = case.runner()
    base = {key: value for key, value in case.base.items() if key != "resource_constraints"}
    stated = trial_resources(runner, base, memory_gb=3.0, cpu_threads=2)
    assert stated.cpu_threads == 2
    assert stated.memory_gb is not None and stated.memory_gb > 0  # its own default, else the spec's limit
    assert trial_resources(runner, base).cpu_threads == 1


# --------------------------------------------------------------------------- found by name, lazily


def test_the_runner_is_an_entry_point_of_its_name(case: RunnerCase) -> None:
    from importlib.metadata import entry_points

    names = {entry_point.name for entry_point in entry_points(group="sweeplab.runners")}
    assert case.name in names
    assert get_runner(case.name).name == case.name


def test_nothing_is_imported_until_a_runner_is_asked_for() -> None:
    code = ("import sys; import sweeplab.runners as r; "
            "before = {m for m in sys.modules if m.startswith(('sweeplab.phenomenology', 'importlib.metadata'))}; "
            "r.get_runner('command'); "
            "after = {m for m in sys.modules if m.startswith('sweeplab.phenomenology')}; "
            "print(sorted(before), sorted(after))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[] []", done.stdout

