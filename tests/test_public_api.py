"""The public API: exported names, the error tree, and the Python entry point validating before writing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sweeplab
from sweeplab import errors

PROMISED = {
    "ExperimentSweep", "SweepResult", "SweepAnalyzer", "load_spec",
    "SweepError", "UserError", "SpecError", "PathError", "ConfigError", "SweepExistsError", "SweepNotFoundError",
    "DriftError", "SweepLockedError",
}


def test_documented_imports() -> None:
    from sweeplab import (  # noqa: F401  # noqa: F401
        ConfigError,
        DriftError,
        ExperimentSweep,
        PathError,
        SpecError,
        SweepAnalyzer,
        SweepError,
        SweepExistsError,
        SweepLockedError,
        SweepNotFoundError,
        UserError,
        load_spec,
    )


def test_all_lists_the_promised_names_and_each_resolves() -> None:
    assert PROMISED <= set(sweeplab.__all__)
    for name in sweeplab.__all__:
        assert getattr(sweeplab, name) is not None, name
    assert sweeplab.__version__


def test_exports_are_the_real_objects() -> None:
    from sweeplab.analysis import SweepAnalyzer
    from sweeplab.planning.spec import load_spec
    from sweeplab.sweep import ExperimentSweep, SweepResult
    assert sweeplab.ExperimentSweep is ExperimentSweep
    assert sweeplab.SweepResult is SweepResult
    assert sweeplab.SweepAnalyzer is SweepAnalyzer
    assert sweeplab.load_spec is load_spec
    assert sweeplab.SpecError is errors.SpecError


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        sweeplab.no_such_thing  # noqa: B018


def test_error_tree() -> None:
    user = [errors.SpecError, errors.PathError, errors.ConfigError, errors.SweepExistsError,
            errors.SweepNotFoundError, errors.DriftError, errors.SweepLockedError]
    for cls in user:
        assert issubclass(cls, errors.UserError) and issubclass(cls, errors.SweepError)
        assert cls.exit_code == 2
    assert issubclass(errors.PathError, errors.SpecError)
    for cls in (errors.JournalError, errors.ExecutorError):
        assert issubclass(cls, errors.SweepError) and not issubclass(cls, errors.UserError)
    assert issubclass(errors.SweepError, Exception)
    assert set(errors.__all__) == {c.__name__ for c in (*user, errors.UserError, errors.SweepError,
                                                          errors.JournalError, errors.ExecutorError)}


def test_import_is_cheap() -> None:
    """``import sweeplab`` must not pull in the heavy analysis stack (trial processes import it)."""
    code = "import sys, sweeplab; print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'numpy', 'pydantic') " \
           "if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- ExperimentSweep validates at construction, writes nothing ----------------------------------

@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "base.json"
    path.write_text(json.dumps({"lr": 0.1, "max_cycles": 10}), encoding="utf-8")
    return path


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_experiment_sweep_builds_the_plan(tmp_path: Path, base: Path) -> None:
    before = _listing(tmp_path)
    sweep = sweeplab.ExperimentSweep(base_config=base, sweep_params={"lr": [0.1, 0.2], "max_cycles": [5, 10, 15]},
                                     sweep_id="py_api", parallel_jobs=2, runner="command",
                                     command=["echo", "{config}"], repeats=2)
    assert len(sweep) == 12
    assert sweep.sweep_id == "py_api"
    assert sweep.sweep_dir == Path("logs/sweeps/py_api")
    assert sweep.plan[0].experiment_id == "py_api_exp0001_lr=0.1_max_cycles=5_rep1"
    assert _listing(tmp_path) == before


@pytest.mark.parametrize(("params", "keys", "error"), [
    ({"lr": []}, {}, sweeplab.SpecError),
    ({"lr": [0.1, 0.1]}, {}, sweeplab.SpecError),
    ({"lr": ["fast"]}, {}, sweeplab.SpecError),
    ({"nope.deeper": [1]}, {}, sweeplab.PathError),
    ({"lr": [0.1]}, {"sweep_id": "../x"}, sweeplab.SpecError),
    ({"lr": [0.1]}, {"paralel": 2}, sweeplab.SpecError),
])
def test_experiment_sweep_rejects_bad_input_before_writing(tmp_path: Path, base: Path, params: dict,
                                                           keys: dict, error: type[Exception]) -> None:
    before = _listing(tmp_path)
    with pytest.raises(error):
        sweeplab.ExperimentSweep(base_config=base, sweep_params=params, runner="command",
                                 command=["echo", "{config}"], **keys)
    assert _listing(tmp_path) == before


def test_load_spec_from_the_package(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("base_config: base.json\nsweep: {lr: [0.1, 0.2]}\n", encoding="utf-8")
    spec = sweeplab.load_spec(path)
    assert spec.sweep == {"lr": [0.1, 0.2]}
    with pytest.raises(sweeplab.SpecError):
        sweeplab.load_spec(tmp_path / "missing.yaml")
