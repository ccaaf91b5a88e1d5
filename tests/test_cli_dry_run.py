"""``sweeplab run --dry-run [--list]``, CLI value typing, help texts, scripts/run_sweep.py (real subprocesses)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sweeplab.cli.run import cli_value

REPO = Path(__file__).resolve().parents[1]
BASE: dict[str, Any] = {"experiment_id": "base", "lr": 0.1, "max_cycles": 10, "name": "adam", "enabled": False,
                        "extra": None, "opt": {"lr": 0.5, "momentum": 0.9}}
COMMAND = "echo {config}"


def _env() -> dict[str, str]:
    # a wide console: rich must not wrap the plan table; no colour codes
    return {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}


def sweeplab(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sweeplab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=_env())


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def base(tmp_path: Path) -> Path:
    path = tmp_path / "base.json"
    path.write_text(json.dumps(BASE), encoding="utf-8")
    return path


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout


# --- the plan summary ---------------------------------------------------------------------------

def test_dry_run_summary(tmp_path: Path, base: Path) -> None:
    before = _listing(tmp_path)
    out = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "0.1", "0.2", "0.3",
                        "--param", "max_cycles", "10", "20", "--sweep-id", "demo", "--output", "out",
                        "--db", "out/results.db", "--parallel", "2", "--dry-run"], tmp_path))
    assert "demo" in out and "dry run" in out
    assert str(base.resolve()) in out                      # base config
    assert re.search(r"lr\s+0\.1, 0\.2, 0\.3\s+3", out)   # parameter, values, count
    assert re.search(r"max_cycles\s+10, 20\s+2", out)
    assert re.search(r"trials\s*:\s*6\b", out)
    assert re.search(r"output\s*:\s*out[/\\]demo", out)
    assert re.search(r"database\s*:\s*out[/\\]results\.db", out)
    assert re.search(r"parallelism\s*:\s*2 at once", out)
    estimate = re.search(r"estimated\s*:\s*(.+)", out)
    assert estimate and "(" in estimate.group(1)          # an estimate with its basis in parentheses
    assert "earlier trials" in estimate.group(1)
    assert _listing(tmp_path) == before                    # wrote nothing
    assert not (tmp_path / "out").exists()


def test_dry_run_zip_and_repeats(tmp_path: Path, base: Path) -> None:
    out = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "0.1", "0.2",
                        "--param", "opt.lr", "1.0", "2.0", "--param", "name", "a", "b", "c", "--zip", "lr,opt.lr",
                        "--repeats", "3", "--sweep-id", "z", "--dry-run"], tmp_path))
    assert re.search(r"zip group\s*:\s*lr, opt\.lr vary together \(2 rows\)", out)
    assert re.search(r"replicates\s*:\s*3 per grid point", out)
    assert re.search(r"trials\s*:\s*18\b", out)               # 2 zipped x 3 names x 3 repeats
    assert not (tmp_path / "logs").exists()
    # what the replicated design can detect, per axis (the zip group is one factor): a level of 'name'
    # pools 2 rows x 3 replicates = 6 values, whose exact two-level rank p floor is 2/C(12,6);
    # a level of the zip group pools 3 names x 3 replicates = 9: 2/C(18,9)
    power = dict(re.findall(r"power\s*:\s*([^:]+): (.+)", out))
    assert set(power) == {"lr + opt.lr", "name"}, out
    assert "9 value(s) per level" in power["lr + opt.lr"] and "4.1e-05" in power["lr + opt.lr"]
    assert "6 value(s) per level" in power["name"] and "0.0022" in power["name"]
    assert "σ between two levels is detected with 80 % power" in power["name"]


def test_dry_run_power_line_says_when_nothing_can_be_significant(tmp_path: Path, base: Path) -> None:
    out = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "0.1", "0.2",
                        "--repeats", "3", "--sweep-id", "p", "--dry-run"], tmp_path))
    assert re.search(r"power\s*:\s*lr: 3 value\(s\) per level: the smallest p .* is 0\.1; "
                     r"no comparison can reach p < 0\.05", out), out
    single = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "0.1", "0.2",
                           "--sweep-id", "p", "--dry-run"], tmp_path))
    assert not re.search(r"power\s*:", single)                # one replicate: no design to speak of


def test_dry_run_list_prints_every_trial(tmp_path: Path, base: Path) -> None:
    out = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "0.1", "0.2",
                        "--param", "name", "a", "b", "--repeats", "2", "--sweep-id", "L", "--dry-run", "--list"],
                       tmp_path))
    rows = [line.split() for line in out.splitlines() if re.match(r"\s*\d+\s+L_exp", line)]
    assert len(rows) == 8
    assert [int(r[0]) for r in rows] == list(range(1, 9))
    assert rows[0][1] == "L_exp0001_lr=0.1_name=a_rep1"
    assert rows[0][2:] == ["lr=0.1", "name='a'", "[rep1]"]
    assert rows[-1][1] == "L_exp0008_lr=0.2_name=b_rep2"
    assert len({r[1] for r in rows}) == 8
    assert not (tmp_path / "logs").exists()


def test_list_needs_dry_run(tmp_path: Path, base: Path) -> None:
    done = sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "0.1", "--list"], tmp_path)
    assert done.returncode == 2
    assert "--dry-run" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "logs").exists()


def _yaml(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


SPEC = """
    sweep_id: from_yaml
    base_config: base.json
    runner: command
    command: [echo, "{config}"]
    output_dir: results
    db_path: results/sweeps.db
    sweep:
      lr: {start: 0.1, stop: 0.3, step: 0.1}
      experiment_id_suffix: [a, b]
    zip:
      - {name: [x, y], max_cycles: [1, 2]}
"""


@pytest.mark.parametrize("how", ["--config", "positional"])
def test_dry_run_from_yaml(tmp_path: Path, base: Path, how: str) -> None:
    _yaml(tmp_path, SPEC)
    args = ["run", "--config", "sweep.yaml"] if how == "--config" else ["run", "sweep.yaml"]
    out = _ok(sweeplab([*args, "--dry-run", "--list"], tmp_path))
    assert re.search(r"lr\s+0\.1, 0\.2, 0\.3\s+3", out)  # no 0.30000000000000004
    assert "0.30000000000000004" not in out
    assert re.search(r"trials\s*:\s*12\b", out)
    assert "from_yaml_exp0001_lr=0.1_name=x_max_cycles=1_a" in out
    assert "from_yaml_exp0012_lr=0.3_name=y_max_cycles=2_b" in out
    assert not (tmp_path / "results").exists()


def test_flags_override_yaml(tmp_path: Path, base: Path) -> None:
    _yaml(tmp_path, SPEC)
    out = _ok(sweeplab(["run", "--config", "sweep.yaml", "--sweep-id", "flagged", "--output", "elsewhere",
                        "--param", "opt.momentum", "0.8", "0.95", "--dry-run"], tmp_path))
    assert "flagged" in out
    assert re.search(r"output\s*:\s*elsewhere[/\\]flagged", out)
    assert re.search(r"trials\s*:\s*24\b", out)
    assert not (tmp_path / "elsewhere").exists() and not (tmp_path / "results").exists()


def test_scalar_param_is_one_value(tmp_path: Path, base: Path) -> None:
    out = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "0.5",
                        "--param", "name", "a", "b", "--dry-run"], tmp_path))
    assert re.search(r"lr\s+0\.5\s+1", out)
    assert re.search(r"trials\s*:\s*2\b", out)


def test_jetson_auto_parallelism(tmp_path: Path, base: Path) -> None:
    out = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "0.1", "0.2",
                        "--jetson", "--parallel", "auto", "--dry-run"], tmp_path))
    match = re.search(r"parallelism\s*:\s*(\d+) at once \((.*)\)", out)
    assert match
    assert 1 <= int(match.group(1)) <= 4
    assert "Jetson" in match.group(2) and "70%" in match.group(2)


def test_default_sweep_id_and_locations(tmp_path: Path, base: Path) -> None:
    out = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "0.1", "--dry-run"],
                       tmp_path))
    assert re.search(r"Sweep sweep_base_\d{8}_\d{6}", out)
    assert re.search(r"output\s*:\s*logs[/\\]sweeps[/\\]sweep_base_\d{8}_\d{6}", out)
    assert re.search(r"database\s*:\s*logs[/\\]experiments\.db", out)
    assert not (tmp_path / "logs").exists()


def test_million_trial_dry_run(tmp_path: Path, base: Path) -> None:
    _yaml(tmp_path, """
        sweep_id: big
        base_config: base.json
        runner: command
        command: [echo, "{config}"]
        sweep:
          lr: {linspace: [0, 1, 1000]}
          opt.lr: {linspace: [0, 2, 1000]}
    """)
    out = _ok(sweeplab(["run", "sweep.yaml", "--dry-run"], tmp_path, timeout=60))
    assert re.search(r"trials\s*:\s*1000000\b", out)
    assert re.search(r"lr\s+.*1000$", out, re.M)
    assert not (tmp_path / "logs").exists()


# --- value typing -------------------------------------------------------------------------------

@pytest.mark.parametrize(("token", "value"), [
    ("10", 10), ("-3", -3), ("1.0", 1.0), ("0.25", 0.25), ("true", True), ("false", False), ("null", None),
    ("adam", "adam"), ("hello world", "hello world"), ("[1, 2]", "[1, 2]"), ("{a: 1}", "{a: 1}"),
    ("'quoted'", "quoted"),
])
def test_cli_value_typing(token: str, value: Any) -> None:
    result = cli_value(token)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(("token", "value"), [("1e-3", 0.001), ("1E5", 100000.0), ("5e-4", 0.0005)])
def test_cli_value_scientific_notation(token: str, value: float) -> None:
    assert cli_value(token) == value


@pytest.mark.parametrize(("token", "value"), [("010", 10), ("on", "on"), ("no", "no"), ("12:30", "12:30")])
def test_cli_value_no_yaml11_surprises(token: str, value: Any) -> None:
    assert cli_value(token) == value


def test_cli_values_typed_then_checked(tmp_path: Path, base: Path) -> None:
    out = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--sweep-id", "typed",
                        "--param", "lr", "1", "1.0", "2.5",           # int where float is fine; 1.0 stays 1.0
                        "--param", "enabled", "true",
                        "--param", "extra", "null", "7", "text",     # null in the base: anything
                        "--param", "name", "sgd",
                        "--dry-run", "--list"], tmp_path))
    rows = [line for line in out.splitlines() if "typed_exp" in line]
    assert len(rows) == 9
    assert "lr=1 " in rows[0] and "extra=None" in rows[0] and "enabled=True" in rows[0] and "name='sgd'" in rows[0]
    assert "lr=1.0 " in rows[3] and "extra=7" in rows[4] and "extra='text'" in rows[5]
    assert "typed_exp0004_lr=1.0_" in rows[3]


def test_scientific_notation_through_the_cli(tmp_path: Path, base: Path) -> None:
    _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "1e-3", "1e-2",
                  "--dry-run"], tmp_path))


def test_negative_values_on_the_command_line(tmp_path: Path, base: Path) -> None:
    out = _ok(sweeplab(["run", "--base", "base.json", *["--command", COMMAND], "--param", "lr", "-0.5", "-2", "0.5",
                        "--sweep-id", "neg", "--dry-run", "--list"], tmp_path))
    assert "lr=-0.5" in out and "lr=-2" in out


def test_negative_scientific_value_on_the_command_line(tmp_path: Path, base: Path) -> None:
    out = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "-1e-3", "1e-3",
                        "--sweep-id", "neg", "--dry-run", "--list"], tmp_path))
    assert "lr=-0.001" in out


# --- help ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["run"], ["status"], ["list"], ["resume"]])
def test_help(tmp_path: Path, command: list[str]) -> None:
    done = sweeplab([*command, "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout.lower()
    assert done.stderr == ""
    assert _listing(tmp_path) == set()


def test_run_help_lists_flags(tmp_path: Path) -> None:
    out = _ok(sweeplab(["run", "--help"], tmp_path))
    for flag in ("--base", "--param", "--config", "--parallel", "--output", "--db", "--resume", "--jetson",
                 "--timeout", "--sweep-id", "--dry-run", "--list", "--yes"):
        assert flag in out


def test_console_script_next_to_python(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "sweeplab"
    if not script.exists():
        pytest.skip("no sweeplab console script next to this Python")
    done = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "sweeplab" in done.stdout


# --- the original entry point -------------------------------------------------------------------

def test_run_sweep_script_dry_run(tmp_path: Path, base: Path) -> None:
    _yaml(tmp_path, SPEC)
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "run_sweep.py"), "--config", "sweep.yaml",
                           "--dry-run"], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env())
    out = _ok(done)
    assert re.search(r"trials\s*:\s*12\b", out)
    assert not (tmp_path / "results").exists()


def test_run_sweep_script_from_repo_root(tmp_path: Path, base: Path) -> None:
    spec = SPEC.replace("base_config: base.json", f"base_config: {json.dumps(str(base))}") \
        .replace("output_dir: results", f"output_dir: {json.dumps(str(tmp_path / 'results'))}") \
        .replace("db_path: results/sweeps.db", f"db_path: {json.dumps(str(tmp_path / 'results' / 'sweeps.db'))}")
    config = _yaml(tmp_path, spec)
    done = subprocess.run([sys.executable, "scripts/run_sweep.py", "--config", str(config), "--dry-run"],
                          cwd=REPO, capture_output=True, text=True, timeout=120, env=_env())
    out = _ok(done)
    assert "from_yaml" in out and re.search(r"trials\s*:\s*12\b", out)
    assert not (tmp_path / "results").exists()


def test_dry_run_warns_about_a_new_key_that_looks_like_a_typo(tmp_path: Path, base: Path) -> None:
    done = sweeplab(["run", "--base", str(base), "--param", "opt.lrr", "0.1", "0.2", "--command", COMMAND,
                     "--dry-run"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "parameter 'opt.lrr' adds the key 'lrr' to 'opt', which has 'lr' instead: did you mean 'opt.lr'?" \
        in done.stderr
    assert "did you mean" not in done.stdout  # the plan itself stays on stdout, the warning on stderr


def test_a_single_param_value_written_as_a_mapping_is_a_generator_or_a_distribution(tmp_path: Path,
                                                                                    base: Path) -> None:
    grid = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr",
                         "{start: 0, stop: 1, step: 0.25}", "--sweep-id", "g", "--dry-run"], tmp_path))
    assert re.search(r"lr\s+0\.0, 0\.25, 0\.5, 0\.75, 1\.0\s+5", grid), grid
    sampled = _ok(sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "{uniform: [0, 1]}",
                            "--strategy", "sobol", "--n-trials", "4", "--sweep-id", "s", "--dry-run"], tmp_path))
    assert re.search(r"trials\s*:\s*4\b", sampled), sampled
    broken = sweeplab(["run", "--base", "base.json", "--command", COMMAND, "--param", "lr", "{start: 0, stop: 1",
                       "--sweep-id", "b"], tmp_path)
    assert broken.returncode == 2 and "--param lr '{start: 0, stop: 1' starts like a mapping" in broken.stderr
    assert "Traceback" not in broken.stderr and not (tmp_path / "logs").exists()
