"""What the Python API makes of Python objects (sweeplab.sweep.inputs), its Python-terms messages, and the
typed trials frame (sweeplab.journal.views.trials_frame), without running a sweep."""

from __future__ import annotations

import json
import math
import pickle
import threading
from functools import partial
from pathlib import Path

import cloudpickle
import pandas as pd
import pytest

from sweeplab.console.python_terms import python_terms
from sweeplab.errors import SpecError
from sweeplab.journal.views import TrialRow, trials_frame
from sweeplab.sweep.inputs import PICKLE_PREFIX, Staged, importable_name


def module_level_train(config: dict, context: object) -> dict:
    return {"loss": config["lr"] * 2}


# --- functions -----------------------------------------------------------------------------------
def test_an_importable_function_is_passed_by_name() -> None:
    assert importable_name(json.dumps) == "json:dumps"
    assert importable_name(module_level_train) == f"{__name__}:module_level_train"
    assert importable_name(pd.DataFrame.copy) == "pandas.core.generic:NDFrame.copy"  # where it is defined


def test_functions_a_trial_cannot_import_by_name_are_pickled_by_value(tmp_path: Path) -> None:
    def local(config: dict, context: object) -> dict:
        return {"loss": config["lr"]}

    scale = 3.0
    staged = Staged(tmp_path / "out")
    for function, name in ((local, "local"), (lambda c, ctx: {"loss": c["lr"] * scale}, "lambda"),
                           (partial(module_level_train), "partial")):
        assert importable_name(function) is None
        value = staged.function(function)
        assert value is not None and value.startswith(PICKLE_PREFIX)
        path = Path(value[len(PICKLE_PREFIX):])
        assert path.is_absolute() and path.parent == (tmp_path / "out/python_api").resolve()
        assert path.name.startswith(f"function_{name}_") and path.suffix == ".pkl"
        loaded = pickle.loads(path.read_bytes())  # what the trial process does (cloudpickle needs no import)
        assert loaded({"lr": 0.5}, None) == function({"lr": 0.5}, None)
    assert staged.function("pkg.mod:train") == "pkg.mod:train" and staged.function(None) is None


def test_the_same_function_is_the_same_file_and_discard_removes_only_new_files(tmp_path: Path) -> None:
    def train(config: dict, context: object) -> dict:
        return {}

    first = Staged(tmp_path / "out")
    path = first.function(train)
    second = Staged(tmp_path / "out")
    assert second.function(train) == path and second.created == []
    second.discard()
    assert Path(path[len(PICKLE_PREFIX):]).is_file()  # made by the first one: kept
    first.discard()
    assert not (tmp_path / "out").exists()  # the folders the first one created are gone too


def test_a_function_that_cannot_be_pickled_is_refused_with_its_reason(tmp_path: Path) -> None:
    lock = threading.Lock()

    def guarded(config: dict, context: object) -> dict:
        with lock:
            return {}

    staged = Staged(tmp_path / "out")
    with pytest.raises(SpecError) as refused:
        staged.function(guarded)
    assert "'test_a_function_that_cannot_be_pickled_is_refused_with_its_reason.<locals>.guarded'" in str(refused.value)
    assert "cloudpickle failed with TypeError" in str(refused.value) and "module:function" in str(refused.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(SpecError, match="function must be a callable"):
        staged.function(42)


def test_a_dict_base_config_is_written_once_by_its_content(tmp_path: Path) -> None:
    staged = Staged(tmp_path / "out")
    first = staged.base_config({"lr": 0.1, "model": {"layers": [1, 2]}})
    again = staged.base_config({"model": {"layers": [1, 2]}, "lr": 0.1})  # same content, other key order
    other = staged.base_config({"lr": 0.2, "model": {"layers": [1, 2]}})
    assert first == again != other
    assert json.loads(Path(first).read_text()) == {"lr": 0.1, "model": {"layers": [1, 2]}}
    assert staged.base_config("base.json") == "base.json" and staged.base_config(Path("a/b.json")) == "a/b.json"
    assert cloudpickle is not None


# --- Python terms --------------------------------------------------------------------------------
@pytest.mark.parametrize(("cli", "python"), [
    ("sweep 'x' already exists in 'out/x': resume it with --resume (or 'sweeplab resume x'), or choose another "
     "--sweep-id", "sweep 'x' already exists in 'out/x': resume it with resume=True, or choose another sweep_id"),
    ("... changed. Start a new sweep id, restore the old values, or pass --allow-drift",
     "... changed. Start a new sweep id, restore the old values, or pass allow_drift=True to run_all()"),
    ("Give another --output (output_dir) or --sweep-id", "Give another output_dir or sweep_id"),
    ("Restore it from a backup, or give another --db (db_path); ...", "Restore it from a backup, or give another "
                                                                     "db_path; ..."),
    ("set max_failures: 0 (--max-failures 0)", "set max_failures=0"),
    ("disk full ... and run 'sweeplab resume s --sweep-dir logs/sweeps'",
     "disk full ... and run ExperimentSweep(..., sweep_id='s', output_dir='logs/sweeps', resume=True).run_all()"),
    ("the command 'python train.py --output {trial_dir} --seed {seed}' failed",  # a user's own flags stay
     "the command 'python train.py --output {trial_dir} --seed {seed}' failed"),
])
def test_cli_fixes_are_said_as_python_arguments(cli: str, python: str) -> None:
    assert python_terms(cli) == python


# --- the typed frame -----------------------------------------------------------------------------
def _row(index: int, parameters: dict, metrics: dict | None = None, extra: dict | None = None,
         status: str = "completed", replicate: int = 0) -> TrialRow:
    return TrialRow(f"s_exp{index:04d}", f"k{index}", index, replicate, None, 100 + replicate, status, 1, parameters,
                    metrics or {}, extra or {}, f"2026-11-30T00:00:0{index}Z", f"2026-11-30T00:00:0{index + 1}+00:00",
                    1.0, None)


def test_parameter_columns_take_the_narrowest_type_that_holds_every_value() -> None:
    rows = [_row(0, {"b": 2, "a": 0.5, "flag": True, "opt": "adam", "mix": 1, "layers": [1, 2]}),
            _row(1, {"b": 3, "a": 1, "flag": False, "opt": "sgd", "mix": True, "layers": [3]}),
            _row(2, {"a": 2.5, "flag": True, "opt": "sgd", "mix": "x", "layers": [1, 2], "late": None})]
    frame = trials_frame(rows, parameters=["flag", "a", "b"])
    assert list(frame.columns[6:13]) == ["flag", "a", "b", "opt", "mix", "layers", "late"]
    assert str(frame["flag"].dtype) == "bool" and str(frame["a"].dtype) == "float64"
    assert str(frame["b"].dtype) == "Int64" and frame["b"].isna().tolist() == [False, False, True]  # one lacks it
    assert frame["opt"].dtype == object and frame["mix"].tolist() == [1, True, "x"]
    assert frame["layers"].tolist() == ["[1, 2]", "[3]", "[1, 2]"]  # groupable: lists as canonical JSON
    assert frame["a"].tolist() == [0.5, 1.0, 2.5]
    assert frame["start_time"].iloc[1] == pd.Timestamp("2026-11-30T00:00:01Z")


def test_metrics_are_floats_and_other_reported_values_are_kept() -> None:
    rows = [_row(0, {"lr": 0.1}, {"loss": 0.5, "status": 1.0}, {"note": "diverged", "grad": "nan", "ok": True}),
            _row(1, {"lr": 0.2}, {"loss": 0.25, "grad": 2.0}, {"note": ["a", "b"], "ok": False}),
            _row(2, {"lr": 0.3}, {}, {"loss": "inf"}, status="completed"),
            _row(3, {"lr": 0.4}, {}, {}, status="failed")]
    frame = trials_frame(rows, parameters=["lr"])
    assert str(frame["loss"].dtype) == "float64"
    assert frame["loss"].tolist()[:3] == [0.5, 0.25, math.inf] and math.isnan(frame["loss"].iloc[3])
    assert math.isnan(frame["grad"].iloc[0]) and frame["grad"].iloc[1] == 2.0
    assert frame["note"].tolist() == ["diverged", '["a", "b"]', None, None]  # text a Parquet file can hold
    assert frame["metric:status"].tolist()[0] == 1.0 and frame["status"].tolist()[3] == "failed"
    assert list(frame.columns).index("note") > list(frame.columns).index("grad")
    assert str(frame["ok"].dtype) == "boolean" and frame["ok"].tolist()[:2] == [True, False]


def test_an_empty_sweep_is_an_empty_frame_with_the_columns() -> None:
    frame = trials_frame([], parameters=["lr"])
    assert len(frame) == 0 and "lr" in frame.columns and "seed" in frame.columns


def test_the_result_types_are_public() -> None:
    import sweeplab
    from sweeplab.sweep import LabSweepResult, SweepResult, SweepResults

    assert sweeplab.SweepResults is SweepResults and sweeplab.LabSweepResult is LabSweepResult
    assert issubclass(LabSweepResult, SweepResult) and issubclass(SweepResults, list)
    assert {"SweepResults", "LabSweepResult"} <= set(sweeplab.__all__)


def test_a_module_on_an_edited_sys_path_is_not_one_a_trial_imports(tmp_path: Path, monkeypatch) -> None:
    import importlib
    import sys

    from sweeplab.sweep.inputs import child_imports

    (tmp_path / "elsewhere_mod.py").write_text("def train(config, context):\n    return {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(Path(__file__).parent)
    module = importlib.import_module("elsewhere_mod")
    try:
        assert child_imports("json") and child_imports("sweeplab.sweep.inputs")
        assert not child_imports("elsewhere_mod")
        value = Staged(tmp_path / "out").function(module.train)
        assert value is not None and value.startswith(PICKLE_PREFIX)  # by value, with its module
        monkeypatch.chdir(tmp_path)  # from its own folder a trial finds it: by name
        assert child_imports("elsewhere_mod") and Staged(tmp_path / "out").function(module.train) == \
            "elsewhere_mod:train"
    finally:
        sys.modules.pop("elsewhere_mod", None)
