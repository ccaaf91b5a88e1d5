"""Command-line conventions: Hydra-style overrides, -v/-q, --json, list without cut ids, the best trial
in status, shell completion (argcomplete driven as a shell drives it) and ``sweeplab export``.

A small real sweep (command trials started with sys.executable, a real SQLite journal) is run once for the
module by a ``sweeplab`` process; the tests read it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sweeplab.cli import main
from sweeplab.cli.run import build_spec, run_parser

TRAIN = '''
import json, sys
config = json.load(open(sys.argv[1]))
penalty = {"adam": 0.0, "sgd": 0.3}[config["opt"]]
print(json.dumps({"loss": (config["lr"] - 0.05) ** 2 + penalty, "acc": 1 - penalty, "opt_used": config["opt"]}))
'''
LONG_ID = "a_sweep_whose_id_is_much_longer_than_eighty_columns_because_researchers_name_things_precisely_v2"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _sweeplab(folder: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sweeplab", *argv], cwd=folder, capture_output=True, text=True,
                          timeout=120, env=_env(**env))


def _write_project(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(TRAIN)
    (folder / "cfg.json").write_text(json.dumps({"lr": 0.1, "opt": "adam", "epochs": 1}))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one finished sweep 'grid' (objective: minimize loss) and one with a very long id."""
    folder = tmp_path_factory.mktemp("conventions")
    _write_project(folder)
    spec = {"sweep_id": "grid", "base_config": "cfg.json", "command": [sys.executable, "train.py", "{config}"],
            "objective": {"metric": "loss", "direction": "minimize"}, "description": "the learning rate and the "
            "optimizer of a toy model, to see which one matters most when both are swept together",
            "sweep": {"lr": [0.01, 0.05, 0.1], "opt": ["adam", "sgd"]}, "repeats": 2, "parallel": 2}
    (folder / "grid.yaml").write_text(yaml.safe_dump(spec))
    done = _sweeplab(folder, "run", "grid.yaml", "-q")
    assert done.returncode == 0, done.stderr
    done = _sweeplab(folder, "run", "--base", "cfg.json", "--command", f"{sys.executable} train.py {{config}}",
                     "--sweep-id", LONG_ID, "lr=0.05", "-q")
    assert done.returncode == 0, done.stderr
    return folder


# --------------------------------------------------------------------------- overrides


def test_overrides_are_typed_like_param_values_and_sit_beside_param() -> None:
    args = run_parser().parse_intermixed_args([
        "--base", "cfg.json", "--command", "python train.py {args}", "lr=0.1,0.01", "opt=adam,sgd",
        "--param", "epochs", "1", "2", "flag=true,false", "layers=[64,64],[128]", "name='a,b'", "seed_text=007", "+extra.depth=3"])
    spec, _ = build_spec(args)
    assert spec.sweep == {"lr": [0.1, 0.01], "opt": ["adam", "sgd"], "epochs": [1, 2], "flag": [True, False],
                          "layers": [[64, 64], [128]], "name": "a,b", "seed_text": 7, "extra.depth": 3}


def test_overrides_run_a_sweep_and_override_the_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _write_project(tmp_path)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({"base_config": "cfg.json", "sweep": {"lr": [0.5]},
                                                     "command": [sys.executable, "train.py", "{config}"]}))
    monkeypatch.chdir(tmp_path)
    assert main(["run", "s.yaml", "lr=0.1,0.01", "opt=adam,sgd", "--dry-run", "--list"]) == 0
    out = capsys.readouterr().out
    assert "trials      : 4" in out and "lr=0.01 opt='sgd'" in out and "lr=0.5" not in out
    assert main(["lr=0.1,0.01", "--base", "cfg.json", "--command", f"{sys.executable} train.py {{config}}",
                 "--sweep-id", "hydra", "--output", "out", "--db", "out/db.sqlite", "-q"]) == 0
    capsys.readouterr()
    assert main(["status", "hydra", "--sweep-dir", "out", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["completed"] == 2 and record["no_metrics"] == 0


@pytest.mark.parametrize(("word", "expected"), [
    ("lr=", "has no values"),
    ("=0.1", "is not a parameter path"),
    ("lr=0.1,,0.2", "has an empty value"),
    ("layers=[64,64", "not a valid list or mapping"),
    ("lr", "neither a sweep YAML file nor an override"),
])
def test_a_malformed_override_is_exit_2_naming_it_and_nothing_is_written(
        word: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--base", "cfg.json", "--command", "python train.py", "opt=adam,sgd", word])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err
    assert not (tmp_path / "logs").exists()


def test_a_parameter_given_as_override_and_param_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    _write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--base", "cfg.json", "--command", "python train.py", "lr=1,2", "--param", "lr", "3"]) == 2
    assert "'lr' is swept twice" in capsys.readouterr().err


# --------------------------------------------------------------------------- verbosity


def test_verbose_prints_each_trials_metrics_and_quiet_only_the_summary(tmp_path: Path) -> None:
    _write_project(tmp_path)
    base = ["run", "--base", "cfg.json", "--command", f"{sys.executable} train.py {{config}}", "lr=0.01,0.1",
            "--output", "out", "--db", "out/db.sqlite"]
    normal = _sweeplab(tmp_path, *base, "--sweep-id", "normal")
    verbose = _sweeplab(tmp_path, "-v", *base, "--sweep-id", "verbose")
    quiet = _sweeplab(tmp_path, *base, "--sweep-id", "quiet", "-q")
    assert normal.returncode == verbose.returncode == quiet.returncode == 0
    assert verbose.stdout.count("loss=") == 2 and "loss=" not in normal.stdout
    assert "trials      :" in normal.stdout and "trials      :" not in quiet.stdout
    assert quiet.stdout.strip().startswith("Sweep quiet completed: 2/2")


# --------------------------------------------------------------------------- status and list


def test_status_json_and_the_objectives_best_trial(project: Path) -> None:
    done = _sweeplab(project, "status", "grid", "--json")
    record = json.loads(done.stdout)
    assert record["completed"] == record["total"] == 12 and record["counts"] == {"completed": 12}
    assert record["objective"] == {"metric": "loss", "direction": "minimize"}
    assert record["best"]["parameters"] == {"lr": 0.05, "opt": "adam"} and record["best"]["value"] == 0.0
    text = _sweeplab(project, "status", "grid").stdout
    assert "best (minimize loss): grid_exp0005_lr=0.05_opt=adam" in text or \
        "best (minimize loss): grid_exp0006_lr=0.05_opt=adam" in text


def test_list_json(project: Path) -> None:
    records = {r["sweep_id"]: r for r in json.loads(_sweeplab(project, "list", "--json").stdout)}
    assert set(records) == {"grid", LONG_ID}
    assert records["grid"]["completed"] == 12 and records["grid"]["failed"] == 0
    assert records["grid"]["state"] == "completed" and records[LONG_ID]["total"] == 1


@pytest.mark.parametrize("columns", [None, "80", "60", "200"])
def test_list_never_cuts_a_sweep_id_piped_or_at_any_width(project: Path, columns: str | None) -> None:
    done = _sweeplab(project, "list", **({"COLUMNS": columns} if columns else {}))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert LONG_ID in [line.strip() for line in lines] or any(line.startswith(LONG_ID + " ") for line in lines)
    assert any(line.startswith("grid ") or line == "grid" for line in lines)
    width = int(columns or 80)
    if width >= 120:  # room for everything: one line per sweep with the description folded beside it
        assert all(len(line) <= width for line in lines)
    else:  # only the ids may be wider than the screen; the rest wraps
        assert all(len(line) <= width or LONG_ID in line for line in lines)
    assert "to see which one matters most when both are swept together" in " ".join(done.stdout.split())


# --------------------------------------------------------------------------- completion


def _complete(folder: Path, line: str) -> list[str]:
    """What bash completion offers for ``line`` (the cursor at its end), asked as the shell asks."""
    answer = folder / "completion.out"
    answer.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "sweeplab"], cwd=folder, capture_output=True, text=True, timeout=60,
                          env=_env(_ARGCOMPLETE="1", _ARGCOMPLETE_SHELL="bash", COMP_LINE=line,
                                   COMP_POINT=str(len(line)), COMP_TYPE="9", _ARGCOMPLETE_IFS="\013",
                                   _ARGCOMPLETE_STDOUT_FILENAME=str(answer)))
    assert done.returncode == 0, done.stderr
    return [word.strip() for word in answer.read_text().split("\013") if word.strip()]


@pytest.mark.parametrize(("line", "expected", "absent"), [
    ("sweeplab st", {"status"}, {"run"}),
    ("sweeplab ", {"run", "resume", "status", "list", "export", "completion", "analyze"}, set()),
    ("sweeplab run --max-", {"--max-failures", "--max-retries"}, {"--parallel"}),
    ("sweeplab status --", {"--json", "--sweep-dir"}, {"--parallel"}),
    ("sweeplab export grid --to ", {"optuna", "csv", "parquet", "json"}, set()),
    ("sweeplab status g", {"grid"}, {LONG_ID}),
    ("sweeplab completion ", {"bash", "zsh"}, set()),
])
def test_shell_completion_of_commands_flags_choices_and_sweep_ids(project: Path, line: str, expected: set[str],
                                                                   absent: set[str]) -> None:
    offered = set(_complete(project, line))
    assert expected <= offered, offered
    assert not absent & offered


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_prints_the_shell_code(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    code = capsys.readouterr().out
    assert "sweeplab" in code and "_ARGCOMPLETE" in code
    assert ("compdef" in code) == (shell == "zsh") or "complete " in code


def test_completion_of_an_unknown_shell_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["completion", "fish"])
    assert exited.value.code == 2 and "invalid choice: 'fish'" in capsys.readouterr().err


# --------------------------------------------------------------------------- export


def test_export_to_optuna_loads_in_optuna_and_gives_importances(project: Path, tmp_path: Path) -> None:
    import optuna

    storage = tmp_path / "studies.db"
    done = _sweeplab(project, "export", "grid", "--to", "optuna", "--output", str(storage))
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(study_name="grid", storage=f"sqlite:///{storage}")
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    assert len(study.trials) == 12 and {t.state for t in study.trials} == {optuna.trial.TrialState.COMPLETE}
    assert isinstance(study.trials[0].distributions["opt"], optuna.distributions.CategoricalDistribution)
    assert isinstance(study.trials[0].distributions["lr"], optuna.distributions.FloatDistribution)
    assert study.best_params == {"lr": 0.05, "opt": "adam"} and study.best_value == 0.0
    assert {t.user_attrs["experiment_id"] for t in study.trials} >= {"grid_exp0001_lr=0.01_opt=adam_rep1"}
    importances = optuna.importance.get_param_importances(study)  # fANOVA, as optuna-dashboard shows
    assert set(importances) == {"lr", "opt"} and sum(importances.values()) == pytest.approx(1.0)
    impurity = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.MeanDecreaseImpurityImportanceEvaluator(seed=0))
    assert impurity["opt"] > impurity["lr"]  # sgd's penalty of 0.3 dwarfs the learning rate's 0.0016
    again = _sweeplab(project, "export", "grid", "--to", "optuna", "--output", str(storage))
    assert again.returncode == 2 and "already holds a study named 'grid'" in again.stderr


def test_export_to_optuna_takes_the_metric_and_direction_from_flags(project: Path, tmp_path: Path) -> None:
    import optuna

    storage = tmp_path / "acc.db"
    done = _sweeplab(project, "export", "grid", "--to", "optuna", "--output", str(storage), "--metric", "acc",
                     "--maximize")
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(study_name="grid", storage=f"sqlite:///{storage}")
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE and study.best_params["opt"] == "adam"


@pytest.mark.parametrize(("argv", "expected"), [
    (["--to", "optuna", "--metric", "nope", "--minimize"], "metric 'nope' was not reported"),
    (["--to", "optuna", "--metric", "nope"], "was not reported"),
    (["--to", "csv", "--metric", "acc"], "go with --to optuna only"),
])
def test_export_mistakes_are_exit_2_and_write_nothing(project: Path, tmp_path: Path, argv: list[str],
                                                       expected: str) -> None:
    output = tmp_path / "never.db"
    done = _sweeplab(project, "export", "grid", *argv, "--output", str(output))
    assert done.returncode == 2 and expected in done.stderr and "Traceback" not in done.stderr
    assert not output.exists()


def test_export_without_an_objective_asks_for_one(project: Path, tmp_path: Path) -> None:
    done = _sweeplab(project, "export", LONG_ID, "--to", "optuna", "--output", str(tmp_path / "x.db"))
    assert done.returncode == 2 and "--metric NAME with --maximize or --minimize" in done.stderr
    done = _sweeplab(project, "export", LONG_ID, "--to", "optuna", "--output", str(tmp_path / "x.db"),
                     "--metric", "loss")
    assert done.returncode == 2 and "needs a direction" in done.stderr
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_to_tables(project: Path, tmp_path: Path, fmt: str) -> None:
    import pandas as pd

    output = tmp_path / f"grid.{fmt}"
    done = _sweeplab(project, "export", "grid", "--to", fmt, "--output", str(output))
    assert done.returncode == 0, done.stderr
    reader: Any = {"csv": pd.read_csv, "json": pd.read_json, "parquet": pd.read_parquet}[fmt]
    frame = reader(output)
    assert len(frame) == 12 and {"lr", "opt", "loss", "acc", "experiment_id"} <= set(frame.columns)
    assert sorted(frame["lr"].unique().tolist()) == [0.01, 0.05, 0.1]


def test_analyze_keeps_its_own_export(project: Path, tmp_path: Path) -> None:
    done = _sweeplab(project, "analyze", "grid", "--format", "csv", "--output", str(tmp_path / "report.md"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "grid_trials.csv").read_text().count("\n") == 13


def test_every_built_in_command_completes_its_own_flags(project: Path) -> None:
    """A command added to COMMANDS without a parser in completion.PARSERS would complete by name only."""
    from sweeplab.cli import COMMANDS
    from sweeplab.cli.completion import PARSERS

    assert set(COMMANDS) <= set(PARSERS)
    assert "--resolution" in _complete(project, "sweeplab refine --")


def test_optuna_distributions_are_inferred_from_the_levels() -> None:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from sweeplab.cli.export import infer_distribution

    assert infer_distribution([10, 20, 40]) == IntDistribution(low=10, high=40)
    assert infer_distribution([1, 2.5]) == FloatDistribution(low=1.0, high=2.5)
    assert infer_distribution([0.1, None]) == CategoricalDistribution(choices=(0.1, None))
    assert infer_distribution([True, False]) == CategoricalDistribution(choices=(True, False))
    assert infer_distribution(["adam", "sgd"]) == CategoricalDistribution(choices=("adam", "sgd"))
    assert infer_distribution([[64, 64], [128]]) == CategoricalDistribution(choices=("[64, 64]", "[128]"))
