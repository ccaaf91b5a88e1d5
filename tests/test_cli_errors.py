"""Every user mistake through the CLI: exit code 2, one clear message, no traceback, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BASE = {"experiment_id": "base", "lr": 0.1, "max_cycles": 10, "name": "adam", "opt": {"lr": 0.5}}
CMD = ["--command", "echo {config}"]
WHERE = ["--output", "out", "--db", "out/results.db"]


def sweeplab(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sweeplab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "250"})


def _spec(body: str, *, base: str = "base.json") -> str:
    """A sweep YAML with the output and database under out/ (checked not to exist afterwards)."""
    head = f"base_config: {base}\nrunner: command\ncommand: [echo, \"{{config}}\"]\noutput_dir: out\n" \
           "db_path: out/results.db\n"
    return head + textwrap.dedent(body)


@dataclass
class Case:
    id: str
    args: list[str]
    fragments: list[str]
    files: dict[str, str] = field(default_factory=dict)
    usage: bool = False  # an argparse error: usage line + message


CASES = [
    # unknown keys
    Case("unknown-key", ["run", "s.yaml", "--yes"], ["unknown key 'paralel'", "did you mean 'parallel'"],
         {"s.yaml": _spec("paralel: 2\nsweep: {lr: [0.1, 0.2]}\n")}),
    Case("unknown-limits-key", ["run", "s.yaml", "--yes"], ["unknown key 'memory'", "memory_gb"],
         {"s.yaml": _spec("limits: {memory: 2}\nsweep: {lr: [0.1]}\n")}),
    # value lists
    Case("empty-list-yaml", ["run", "s.yaml", "--yes"], ["'lr'", "empty"],
         {"s.yaml": _spec("sweep: {lr: []}\n")}),
    Case("param-without-values", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "--yes"],
         ["--param lr has no values"]),
    Case("duplicate-values", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", "0.2", "0.1",
                              "--yes"], ["'lr'", "0.1", "twice"]),
    Case("duplicate-generated", ["run", "s.yaml", "--yes"], ["'lr'", "twice"],
         {"s.yaml": _spec("sweep: {lr: {linspace: [0.5, 0.5, 3]}}\n")}),
    Case("bad-generator", ["run", "s.yaml", "--yes"], ["'lr'", "linspace", "[start, stop, count]"],
         {"s.yaml": _spec("sweep: {lr: {linspace: [0, 1]}}\n")}),
    Case("unknown-generator", ["run", "s.yaml", "--yes"], ["'lr'", "generator", "from"],
         {"s.yaml": _spec("sweep: {lr: {from: 0, to: 1}}\n")}),
    Case("range-wrong-sign", ["run", "s.yaml", "--yes"], ["'lr'", "step"],
         {"s.yaml": _spec("sweep: {lr: {start: 1.0, stop: 0.0, step: 0.1}}\n")}),
    # types
    Case("string-for-number", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", "fast", "--yes"],
         ["'lr'", "'fast'", "a number"]),
    Case("float-for-int", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "max_cycles", "10", "12.5",
                           "--yes"], ["'max_cycles'", "12.5", "an integer", "10.0"]),
    Case("bool-for-string", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "name", "true", "--yes"],
         ["'name'", "True", "a string"]),
    Case("wrong-type-yaml-key", ["run", "s.yaml", "--yes"], ["'repeats'", "'many'"],
         {"s.yaml": _spec("repeats: many\nsweep: {lr: [0.1]}\n")}),
    Case("parallel-zero-yaml", ["run", "s.yaml", "--yes"], ["'parallel'", "auto"],
         {"s.yaml": _spec("parallel: 0\nsweep: {lr: [0.1]}\n")}),
    Case("sweep-not-mapping", ["run", "s.yaml", "--yes"], ["'sweep' must map"],
         {"s.yaml": _spec("sweep: [lr, max_cycles]\n")}),
    # base config
    Case("missing-base-cli", ["run", "--base", "nothere.json", *CMD, *WHERE, "--param", "lr", "0.1", "--yes"],
         ["nothere.json", "does not exist"]),
    Case("missing-base-yaml", ["run", "s.yaml", "--yes"], ["nothere.json", "does not exist"],
         {"s.yaml": _spec("sweep: {lr: [0.1]}\n", base="nothere.json")}),
    Case("invalid-json", ["run", "--base", "broken.json", *CMD, *WHERE, "--param", "lr", "0.1", "--yes"],
         ["broken.json", "not valid JSON", "line 2"], {"broken.json": '{"lr": 0.1,\n  oops}\n'}),
    Case("base-not-object", ["run", "--base", "list.json", *CMD, *WHERE, "--param", "0", "1", "--yes"],
         ["list.json", "JSON object"], {"list.json": "[1, 2]"}),
    Case("no-base", ["run", *CMD, *WHERE, "--param", "lr", "0.1", "--yes"], ["no base config", "--base"]),
    Case("no-params", ["run", "--base", "base.json", *CMD, *WHERE, "--yes"], ["no parameters", "--param"]),
    # paths
    # (the generic runners accept new leaf keys, so a missing path means a missing intermediate key)
    Case("missing-path", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "optt.lr", "0.1", "--yes"],
         ["'optt.lr'", "top level", "did you mean 'opt'"]),
    Case("bad-list-index", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr.0", "0.1", "--yes"],
         ["'lr.0'", "'lr'"]),
    Case("empty-path-segment", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "opt..lr", "0.1", "--yes"],
         ["'opt..lr'", "empty segment"]),
    # sweep ids
    Case("sweep-id-parent", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1",
                             "--sweep-id", "../escape", "--yes"], ["'../escape'", "sweep_id", "letters, digits"]),
    Case("sweep-id-slash", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1",
                            "--sweep-id", "a/b", "--yes"], ["'a/b'", "sweep_id"]),
    Case("sweep-id-yaml", ["run", "s.yaml", "--yes"], ["'x..y'", "sweep_id"],
         {"s.yaml": _spec("sweep_id: x..y\nsweep: {lr: [0.1]}\n")}),
    Case("sweep-id-absolute", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1",
                               "--sweep-id", "/tmp/abs", "--yes"], ["'/tmp/abs'", "sweep_id"]),
    # zip groups
    Case("zip-unequal-cli", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", "0.2",
                             "--param", "max_cycles", "1", "2", "3", "--zip", "lr,max_cycles", "--yes"],
         ["zip group 1", "unequal length", "lr has 2", "max_cycles has 3"]),
    Case("zip-unequal-mapping", ["run", "s.yaml", "--yes"], ["zip group 1", "unequal length"],
         {"s.yaml": _spec("sweep: {name: [a]}\nzip:\n  - {lr: [0.1, 0.2], max_cycles: [1]}\n")}),
    Case("sweep-and-inline-zip", ["run", "s.yaml", "--yes"], ["'lr'", "both under 'sweep' and in zip group 1"],
         {"s.yaml": _spec("sweep: {lr: [0.1, 0.2]}\nzip:\n  - {lr: [0.3, 0.4], max_cycles: [1, 2]}\n")}),
    Case("zip-unknown-name", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", "0.2",
                              "--zip", "lr,max_cycles", "--yes"], ["'max_cycles'", "not a parameter under 'sweep'"]),
    Case("zip-single", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", "0.2", "--zip", "lr",
                        "--yes"], ["zip group 1", "at least two"]),
    # replicates
    Case("repeats-and-suffix", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1",
                                "--param", "experiment_id_suffix", "a", "b", "--repeats", "2", "--yes"],
         ["repeats", "experiment_id_suffix"]),
    Case("repeats-zero-yaml", ["run", "s.yaml", "--yes"], ["'repeats'", "0"],
         {"s.yaml": _spec("repeats: 0\nsweep: {lr: [0.1]}\n")}),
    # runner and command
    Case("unknown-runner", ["run", "--base", "base.json", "--runner", "pyton", *WHERE, "--param", "lr", "0.1",
                            "--yes"], ["'pyton'", "python"]),
    Case("no-runner", ["run", "--base", "base.json", *WHERE, "--param", "lr", "0.1", "--yes"],
         ["runner", "--command"]),
    Case("unknown-placeholder", ["run", "--base", "base.json", "--command", "echo {cfg}", *WHERE, "--param", "lr",
                                 "0.1", "--yes"], ["{cfg}", "{config}"]),
    # the sweep file itself
    Case("missing-yaml", ["run", "--config", "nope.yaml", "--yes"], ["nope.yaml", "does not exist"]),
    Case("invalid-yaml", ["run", "s.yaml", "--yes"], ["s.yaml", "not valid YAML", "line"],
         {"s.yaml": "base_config: base.json\nsweep:\n  lr: [0.1, 0.2\n"}),
    Case("empty-yaml", ["run", "s.yaml", "--yes"], ["s.yaml", "empty"], {"s.yaml": ""}),
    Case("two-sweep-files", ["run", "a.yaml", "--config", "b.yaml", "--yes"], ["two sweep files"],
         {"a.yaml": _spec("sweep: {lr: [0.1]}\n"), "b.yaml": _spec("sweep: {lr: [0.2]}\n")}),
    Case("list-without-dry-run", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", "--list"],
         ["--list", "--dry-run"]),
    # values no trial config, journal or view can carry, and YAML's sharp edges (issue 11)
    Case("nan-param", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", ".nan", "--yes"],
         ["sweep parameter 'lr'", "value 2 (nan) is NaN", "finite number"]),
    Case("inf-yaml", ["run", "s.yaml", "--yes"], ["'lr'", "infinity", "1e9"],
         {"s.yaml": _spec("sweep: {lr: [0.1, .inf]}\n")}),
    Case("nan-base", ["run", "--base", "nan.json", *CMD, *WHERE, "--param", "lr", "0.2", "--yes"],
         ["nan.json", "'opt.lr'", "NaN"], {"nan.json": '{"lr": 0.1, "opt": {"lr": NaN}}'}),
    Case("duplicate-yaml-key", ["run", "s.yaml", "--yes"], ["s.yaml", "'lr'", "twice", "lines 7 and 8"],
         {"s.yaml": _spec("sweep:\n  lr: [0.1]\n  lr: [0.2]\n")}),
    Case("recursive-alias", ["run", "s.yaml", "--yes"], ["s.yaml", "*r", "own anchor"],
         {"s.yaml": _spec("sweep: {lr: &r [0.1, *r]}\n")}),
    Case("float-tag", ["run", "s.yaml", "--yes"], ["s.yaml", "'abc'", "!!float"],
         {"s.yaml": _spec("sweep: {lr: [!!float abc]}\n")}),
    Case("memory-tiny", ["run", "s.yaml", "--yes"], ["'limits.memory_gb'", "1e-300", "0.01"],
         {"s.yaml": _spec("limits: {memory_gb: 1e-300}\nsweep: {lr: [0.1]}\n")}),
    Case("repeats-huge", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", "--repeats",
                          "1000000000", "--yes"], ["'repeats'", "100000"]),
    Case("sweep-id-long", ["run", "--base", "base.json", *CMD, "--param", "lr", "0.1", "--sweep-id", "a" * 300,
                           "--yes"], ["sweep_id", "300 characters"]),
    # argparse-level mistakes
    Case("parallel-zero-cli", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1",
                               "--parallel", "0", "--yes"], ["--parallel", "'auto'"], usage=True),
    Case("parallel-word-cli", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1",
                               "--parallel", "many", "--yes"], ["--parallel", "'many'"], usage=True),
    Case("timeout-negative", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1",
                              "--timeout", "-5", "--yes"], ["--timeout"], usage=True),
    Case("unknown-flag", ["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", "--paralel", "2"],
         ["--paralel"], usage=True),
    Case("unknown-command", ["frobnicate"], ["frobnicate"], usage=True),
]


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_user_error(tmp_path: Path, case: Case) -> None:
    (tmp_path / "base.json").write_text(json.dumps(BASE), encoding="utf-8")
    for name, text in case.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    before = _listing(tmp_path)

    done = sweeplab(case.args, tmp_path)

    assert done.returncode == 2, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert "Traceback" not in done.stderr
    assert "Traceback" not in done.stdout
    for fragment in case.fragments:
        assert fragment in done.stderr, f"{fragment!r} not in:\n{done.stderr}"
    lines = done.stderr.strip().splitlines()
    if case.usage:
        assert lines[-1].startswith("sweeplab") and "error:" in lines[-1]
    else:
        assert len(lines) == 1, done.stderr                    # one message
        assert lines[0].startswith("sweeplab run: error: ")
    assert not (tmp_path / "out").exists()                     # no sweep folder, no database
    assert not (tmp_path / "out" / "results.db").exists()
    assert not (tmp_path / "logs").exists()                    # nor at the default places
    assert _listing(tmp_path) == before                        # nothing written at all


def test_logspace_overflow_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(json.dumps(BASE), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(_spec("sweep: {lr: {logspace: [0, 400, 3]}}\n"), encoding="utf-8")
    done = sweeplab(["run", "s.yaml", "--yes"], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_sweep_id_with_newline_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(json.dumps(BASE), encoding="utf-8")
    done = sweeplab(["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", "--sweep-id", "bad\n",
                     "--dry-run"], tmp_path)
    assert done.returncode == 2


def test_base_name_with_space_gets_an_automatic_id(tmp_path: Path) -> None:
    (tmp_path / "my base.json").write_text(json.dumps(BASE), encoding="utf-8")
    done = sweeplab(["run", "--base", "my base.json", *CMD, *WHERE, "--param", "lr", "0.1", "--dry-run"], tmp_path)
    assert done.returncode == 0, done.stderr


def test_error_before_writing_even_with_existing_output_folder(tmp_path: Path) -> None:
    """A bad spec leaves an existing output folder exactly as it was."""
    (tmp_path / "base.json").write_text(json.dumps(BASE), encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x", encoding="utf-8")
    before = _listing(tmp_path)
    done = sweeplab(["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "fast", "--yes"], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert _listing(tmp_path) == before


def test_same_param_twice_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(json.dumps(BASE), encoding="utf-8")
    done = sweeplab(["run", "--base", "base.json", *CMD, *WHERE, "--param", "lr", "0.1", "0.2", "--param", "lr", "0.3",
                     "--dry-run"], tmp_path)
    assert done.returncode == 2
    assert "'lr'" in done.stderr and "Traceback" not in done.stderr
