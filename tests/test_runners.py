"""Command and python runners: argv building, validation, and real trial processes end to end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sweeplab.errors import ConfigError, SpecError
from sweeplab.executors.local import LocalExecutor
from sweeplab.runners import get_runner
from sweeplab.runners.base import RunContext, TrialResources
from sweeplab.runners.command import CommandRunner
from sweeplab.runners.python import PythonRunner
from sweeplab.trial import TrialLaunch, TrialResult, TrialStatus

HELPERS = Path(__file__).parent / "helpers"


@pytest.fixture
def context(tmp_path: Path) -> RunContext:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({"x": 21}))
    attempt_dir = tmp_path / "exp0007" / "attempt2"
    return RunContext(sweep_id="sw", experiment_id="sw_exp0007_lr0.1", key="abc123", seed=42, attempt=2,
                      config_path=config_path, attempt_dir=attempt_dir, db_path=attempt_dir / "trial.db")


def run(argv: list[str], env: dict[str, str], ctx: RunContext, cwd: Path) -> TrialResult:
    """Run one attempt for real through the local executor."""
    launch = TrialLaunch(sweep_id=ctx.sweep_id, key=ctx.key, experiment_id=ctx.experiment_id, attempt=ctx.attempt,
                         argv=tuple(argv), attempt_dir=str(ctx.attempt_dir), cwd=str(cwd), env=env, timeout=30,
                         grace=1)
    with LocalExecutor(slots=1) as executor:
        return executor.submit(launch).result()


# --------------------------------------------------------------------------- command runner


def test_placeholders_are_substituted_in_every_argument(context: RunContext) -> None:
    runner = CommandRunner({"command": ["python", "train.py", "--config={config}", "{trial_dir}", "--db", "{db}",
                                        "--seed", "{seed}", "--name", "run-{experiment_id}", '{"a": {"b": 1}}']})
    argv, env = runner.command(context)
    assert argv == ["python", "train.py", f"--config={context.config_path}", str(context.attempt_dir),
                    "--db", str(context.db_path), "--seed", "42", "--name", "run-sw_exp0007_lr0.1",
                    '{"a": {"b": 1}}']
    assert env == {"SWEEPLAB_SEED": "42", "SWEEPLAB_EXPERIMENT_ID": "sw_exp0007_lr0.1",
                   "SWEEPLAB_CONFIG": str(context.config_path), "SWEEPLAB_TRIAL_DIR": str(context.attempt_dir),
                   "SWEEPLAB_DB": str(context.db_path)}


def test_a_command_string_is_split_like_a_shell_would_but_not_run_by_one(context: RunContext) -> None:
    runner = CommandRunner({"command": "python3 'my train.py' --tag \"a b\" --cfg {config}; rm -rf /"})
    argv, _ = runner.command(context)
    assert argv == ["python3", "my train.py", "--tag", "a b", "--cfg", f"{context.config_path};", "rm", "-rf", "/"]


def test_unknown_placeholder_is_named_with_the_valid_ones() -> None:
    runner = CommandRunner({"command": ["python", "train.py", "--out", "{output_dir}"]})
    with pytest.raises(SpecError) as caught:  # checked against the swept paths, when the sweep resolves
        runner.check_parameters(["lr"])
    message = str(caught.value)
    assert "{output_dir}" in message
    for valid in ("{config}", "{trial_dir}", "{db}", "{seed}", "{experiment_id}"):
        assert valid in message


@pytest.mark.parametrize("command", [None, "", "   ", [], 12, ["python", {"a": 1}], "python 'unclosed"])
def test_missing_or_malformed_command_is_a_spec_error(command: object) -> None:
    options = {} if command is None else {"command": command}
    with pytest.raises(SpecError, match="command"):
        CommandRunner(options)


def test_resources_come_from_resource_constraints() -> None:
    runner = CommandRunner({"command": "true"})
    assert runner.resources({"resource_constraints": {"ram_limit_gb": 2, "cpu_threads": 4}}) == \
        TrialResources(memory_gb=2.0, cpu_threads=4)
    assert runner.resources({"other": 1}) == TrialResources(memory_gb=None, cpu_threads=1)
    with pytest.raises(ConfigError, match="ram_limit_gb"):
        runner.resources({"resource_constraints": {"ram_limit_gb": "lots"}})
    with pytest.raises(ConfigError, match="cpu_threads"):
        runner.resources({"resource_constraints": {"cpu_threads": 1.5}})


def test_runners_are_found_by_name() -> None:
    assert get_runner("command") is CommandRunner
    assert get_runner("python") is PythonRunner


def test_command_runner_end_to_end(context: RunContext, tmp_path: Path) -> None:
    runner = CommandRunner({"command": [sys.executable, "-c",
                                        "import json, os, sys; cfg = json.load(open(sys.argv[1])); "
                                        "print(json.dumps({'double': cfg['x'] * 2, "
                                        "'seed': int(os.environ['SWEEPLAB_SEED'])}))",
                                        "{config}"]})
    argv, env = runner.command(context)
    result = run(argv, env, context, cwd=tmp_path)
    assert result.status is TrialStatus.COMPLETED, result.error
    assert result.metrics == {"double": 42, "seed": 42}


# --------------------------------------------------------------------------- python runner


@pytest.mark.parametrize("function", [None, "train", "train:", ":main", "a b:c", "mod:fn:x", 3])
def test_python_runner_needs_module_colon_function(function: object) -> None:
    with pytest.raises(SpecError, match="module:function"):
        PythonRunner({} if function is None else {"function": function})


def test_python_runner_argv(context: RunContext) -> None:
    argv, env = PythonRunner({"function": "pkg.train:main"}).command(context)
    assert argv == [sys.executable, "-m", "sweeplab.runners._trial_call", "pkg.train:main", str(context.config_path),
                    str(context.attempt_dir), "42", "sw_exp0007_lr0.1", "2"]
    assert env["SWEEPLAB_SEED"] == "42"


def _call(function: str, context: RunContext) -> TrialResult:
    argv, env = PythonRunner({"function": function}).command(context)
    return run(argv, env, context, cwd=HELPERS)  # the helper module imports from the working folder


def test_python_function_end_to_end(context: RunContext) -> None:
    result = _call("trial_functions:train", context)
    assert result.status is TrialStatus.COMPLETED, result.error
    assert result.metrics == {"score": 42, "seed": 42, "converged": 1}
    # metrics.json keeps every value the function returned; the numbers are the metrics
    assert json.loads((context.attempt_dir / "metrics.json").read_text()) == {**result.metrics, "converged": True,
                                                                               "label": "dropped"}
    assert json.loads((context.attempt_dir / "context.json").read_text()) == {
        "seed": 42, "experiment_id": "sw_exp0007_lr0.1", "attempt": 2, "trial_dir": str(context.attempt_dir)}
    assert not any(path.name.endswith(".tmp") for path in context.attempt_dir.iterdir())


def test_config_error_exits_2_and_is_not_retryable(context: RunContext) -> None:
    result = _call("trial_functions:reject", context)
    assert result.status is TrialStatus.FAILED and result.exit_code == 2 and result.invalid_config
    assert result.error == "invalid config: x must be positive, got 21"
    assert "Traceback" not in result.error


def test_other_exceptions_exit_1_with_the_traceback(context: RunContext) -> None:
    result = _call("trial_functions:explode", context)
    assert result.status is TrialStatus.FAILED and result.exit_code == 1 and not result.invalid_config
    assert "Traceback" in result.error
    assert result.error.endswith("RuntimeError: boom in the trial")


@pytest.mark.parametrize("function, expected", [
    ("no_such_module:train", "cannot import module 'no_such_module'"),
    ("trial_functions:no_such_function", "has no attribute 'no_such_function'"),
])
def test_unimportable_function_exits_2(context: RunContext, function: str, expected: str) -> None:
    result = _call(function, context)
    assert result.exit_code == 2 and result.invalid_config
    assert expected in result.error


def test_a_non_mapping_return_value_fails(context: RunContext) -> None:
    result = _call("trial_functions:not_a_mapping", context)
    assert result.exit_code == 1
    assert "expected a mapping" in result.error


def test_returning_none_completes_without_metrics(context: RunContext) -> None:
    result = _call("trial_functions:nothing", context)
    assert result.status is TrialStatus.COMPLETED and result.metrics == {}


def test_trial_resources_prefer_the_config_then_the_spec_limits() -> None:
    from sweeplab.runners.base import trial_resources

    runner = CommandRunner({"command": ["prog", "{config}"]})
    declared = {"resource_constraints": {"ram_limit_gb": 2.0, "cpu_threads": 3}}
    assert trial_resources(runner, declared, 8.0, 1) == TrialResources(memory_gb=2.0, cpu_threads=3)
    assert trial_resources(runner, {"x": 1}, 0.5, 2) == TrialResources(memory_gb=0.5, cpu_threads=2)
    assert trial_resources(runner, {"x": 1}) == TrialResources(memory_gb=None, cpu_threads=1)
