"""Fuzzing the inputs of ``sweeplab run`` through its real entry point, ``sweeplab.cli.main``.

Three targets — sweep specs (YAML text, from well-formed to mangled), command-line arguments, and
base configs (JSON text) — and for every generated case:

* the exit code is 0, 1 or 2 and nothing escapes ``main`` (an escaping exception is a traceback);
* stderr never shows a traceback;
* a dry run writes nothing, and a refused run (exit 2) writes nothing: no sweep folder, no database;
* each case finishes within the hypothesis deadline, and the process's peak memory grows by less
  than :data:`MEMORY_BUDGET` over a whole target. Alias bombs and deep nesting also run in child
  processes capped at 1 GB of address space.

The cases run in this process (fast); the bounds keep the whole file at well under a minute.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sweeplab.cli import main
from sweeplab.planning.values import MAX_GENERATED

BASE: dict[str, Any] = {"experiment_id": "base", "lr": 0.1, "max_cycles": 10, "name": "adam", "flag": False,
                        "items": [1, 2, 3], "opt": {"lr": 0.5, "betas": [0.9, 0.99]}, "extra": None}
HEAD: dict[str, Any] = {"base_config": "base.json", "runner": "command", "command": ["true"], "output_dir": "out",
                        "db_path": "out/results.db"}
#: the peak resident memory of this process may grow by at most this much over one target (KiB)
MEMORY_BUDGET = 512 * 1024
FUZZ = settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@pytest.fixture
def peak_memory() -> Iterator[None]:
    """Fail the test when this process's peak memory grew by more than MEMORY_BUDGET during it."""
    before = _peak_kib()
    yield
    grown = _peak_kib() - before
    assert grown < MEMORY_BUDGET, f"peak memory grew by {grown // 1024} MB"


@contextlib.contextmanager
def workspace(files: dict[str, str | bytes]) -> Iterator[Path]:
    """A fresh folder with the base config and ``files``, as the current folder."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "base.json").write_text(json.dumps(BASE), encoding="utf-8")
        for file, content in files.items():
            if isinstance(content, bytes):
                (root / file).write_bytes(content)
            else:
                (root / file).write_text(content, encoding="utf-8", errors="surrogatepass")
        os.chdir(root)
        try:
            yield root
        finally:
            os.chdir(old)


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def check_case(argv: list[str], files: dict[str, str | bytes], capsys: pytest.CaptureFixture[str]) -> int:
    """Run ``main(argv)`` in a fresh workspace and check the rules every input must keep."""
    capsys.readouterr()
    with workspace(files) as root:
        before = _listing(root)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own errors and --help
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = capsys.readouterr()
        assert code in (0, 1, 2), f"exit {code} for {argv}\nstderr:\n{err}"
        assert "Traceback" not in err and "Traceback" not in out, err
        if code == 2 or "--dry-run" in argv:
            assert _listing(root) == before, f"exit {code} wrote {_listing(root) - before}\nstderr:\n{err}"
        if code == 2:
            assert err.strip(), "exit 2 without a message"
        event(f"exit {code}")
        if code == 1 and "--dry-run" in argv:  # a dry run runs no trial: exit 1 would be a surprise worth seeing
            event(f"dry run with exit 1: {argv} {err[-300:]}")
    return code


# --- strategies ---------------------------------------------------------------------------------

_NUMBERS = st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
                     st.sampled_from([0, 1, -1, 1e-300, 1e300, 2**63, 2**63 - 1, -(2**63)]))
_TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["", ".", "..", "a.b", "items.0", "items.²", "opt.lr",
                                                          "{config}", "-", "--", "auto", "local", "nan", "1e400",
                                                          "2024-06-01", "x" * 300]))
_SCALARS = st.one_of(st.none(), st.booleans(), _NUMBERS, _TEXT)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=3),
                       max_leaves=12)
_PATHS = st.one_of(st.sampled_from(["lr", "max_cycles", "name", "flag", "items.0", "items.2", "items.3", "opt",
                                    "opt.lr", "opt.betas.1", "extra", "new_key", "experiment_id_suffix",
                                    "items.01", "opt..lr"]), _TEXT)


def _count(generator: dict[str, Any]) -> float:
    """How many values a generator asks for (roughly; 0 when it is malformed)."""
    try:
        if "step" in generator:
            return abs((generator["stop"] - generator["start"]) / generator["step"]) + 1
        return float(list(generator.values())[0][2])
    except (TypeError, ValueError, ZeroDivisionError, IndexError, OverflowError):
        return 0


# One generator may give up to MAX_GENERATED (1 000 000) values, and a dry run of that many takes ~20 s
# (every value's config is probed several times): a cost, not a fault. The fuzz keeps its generators
# either small or over the limit, where they are refused at once.
_GENERATORS = st.one_of(
    st.fixed_dictionaries({"start": _NUMBERS, "stop": _NUMBERS, "step": _NUMBERS}),
    st.fixed_dictionaries({"linspace": st.lists(_NUMBERS, min_size=0, max_size=4)}),
    st.fixed_dictionaries({"logspace": st.lists(_NUMBERS, min_size=3, max_size=3)}),
).filter(lambda generator: not 5_000 < _count(generator) <= MAX_GENERATED)
_SWEEP = st.dictionaries(_PATHS, st.one_of(st.lists(_SCALARS, min_size=0, max_size=4), _SCALARS, _GENERATORS,
                                           st.lists(_VALUES, max_size=3)), min_size=0, max_size=3)
_OTHER_KEYS = st.dictionaries(
    st.sampled_from(["repeats", "seed", "parallel", "timeout", "grace_period", "max_retries", "limits", "zip",
                     "sweep_id", "tags", "description", "dask_scheduler", "runner", "resume", "paralel"]),
    st.one_of(_VALUES, st.fixed_dictionaries({"memory_gb": _NUMBERS}), st.fixed_dictionaries({"cpu_threads": _NUMBERS}),
              st.lists(st.lists(_PATHS, max_size=3), max_size=2)),
    max_size=3)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


#: fragments that the mangling inserts into otherwise well-formed YAML
_FRAGMENTS = ["&a ", "*a", "&a [1, *a]", "!!float ", "!!int ", "!!bool ", "!!binary ", "!!timestamp ", "!!set ",
              "!!python/object:os.system ", "[" * 200, "{", "}", "]", "<<: ", ": ", "- ", "\t", "---\n", "...\n",
              "? ", "|\n", ">\n", "\x00", "\ufeff", "1e400", ".nan", "-.inf", "%YAML 1.1\n", "\n  x: 1\n  x: 2\n",
              "'", '"', "\\ud800", '"\\ud800"', "#", "@", "`", "\r", "\u2028", "9" * 5000]


#: sweeps whose values fit the base config's types, so that many cases get past validation
_TYPED_SWEEP = st.fixed_dictionaries({}, optional={
    "lr": st.one_of(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=3), _GENERATORS),
    "max_cycles": st.lists(st.integers(-(2**65), 2**65), min_size=1, max_size=3),
    "name": st.lists(st.text(max_size=8), min_size=1, max_size=3),
    "new_key": st.lists(_VALUES, min_size=1, max_size=3),
    "items.1": st.lists(_NUMBERS, min_size=1, max_size=2),
    "experiment_id_suffix": st.lists(_TEXT, min_size=1, max_size=3),
})


@st.composite
def spec_texts(draw: st.DrawFn) -> str:
    """A sweep spec as YAML text: a generated mapping, sometimes mangled with YAML's sharp edges."""
    data = {**HEAD, **draw(st.one_of(st.just({}), _OTHER_KEYS)), "sweep": draw(st.one_of(_SWEEP, _TYPED_SWEEP))}
    if draw(st.integers(0, 3)) == 0:
        data.pop(draw(st.sampled_from(sorted(data))))
    text = _dump(data)
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(_FRAGMENTS)) + text[at:]
    return text


@st.composite
def alias_texts(draw: st.DrawFn) -> str:
    """Nested anchors and aliases (recursive ones too) inside a value list."""
    levels, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    parts = ["&l0 [" + ", ".join(["1"] * width) + "]"]
    for level in range(1, levels):
        parts.append(f"&l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    if draw(st.booleans()):
        parts.append(f"&r [1, {{a: *r}}, *l{levels - 1}]")  # an alias inside its own anchor
    return _dump(HEAD) + "sweep:\n  new_key: [" + ", ".join(parts) + "]\n"  # a new key takes any value


_TOKENS = st.one_of(_TEXT, st.sampled_from(["0.1", "0.2", ".nan", ".inf", "-.inf", "1e400", "-1e-3", str(2**70),
                                            "[1, 2]", "{a: 1}", "&a [*a]", "!!float x", "!!int 1.5", "true", "null",
                                            "~", "0x1F", "0o17", "010", "1_000", "\udcff", "x" * 300, "--dry-run"]))
_FLAGS = {"--param": st.tuples(_PATHS, st.lists(_TOKENS, min_size=0, max_size=3)).map(lambda t: [t[0], *t[1]]),
          "--repeats": _TOKENS.map(lambda t: [t]), "--seed": _TOKENS.map(lambda t: [t]),
          "--parallel": _TOKENS.map(lambda t: [t]), "--timeout": _TOKENS.map(lambda t: [t]),
          "--max-retries": _TOKENS.map(lambda t: [t]), "--sweep-id": _TOKENS.map(lambda t: [t]),
          "--zip": _TOKENS.map(lambda t: [t]), "--output": _TOKENS.map(lambda t: [t]),
          "--db": _TOKENS.map(lambda t: [t]), "--description": _TOKENS.map(lambda t: [t]),
          "--tag": _TOKENS.map(lambda t: [t]), "--runner": _TOKENS.map(lambda t: [t]),
          "--base": st.sampled_from(["base.json", "missing.json", "", "x" * 300]).map(lambda t: [t]),
          "--dask": _TOKENS.map(lambda t: [t]), "--list": st.just([])}


@st.composite
def cli_arguments(draw: st.DrawFn) -> list[str]:
    """``run --base base.json --command true`` plus a handful of generated flags, and --dry-run."""
    argv = ["run", "--base", "base.json", "--command", "true", "--param", "lr", "0.1", "0.2"]
    for flag in draw(st.lists(st.sampled_from(sorted(_FLAGS)), max_size=5)):
        argv += [flag, *draw(_FLAGS[flag])]
    return [*argv, "--dry-run"]


@st.composite
def base_texts(draw: st.DrawFn) -> tuple[str | bytes, str]:
    """A base config's text (JSON, with Python's NaN/Infinity extensions, deep nesting, bad bytes) and a path
    to sweep in it."""
    shape = draw(st.sampled_from(["json", "deep", "tokens", "bytes"]))
    if shape == "json":
        data = draw(st.dictionaries(_TEXT, _VALUES, max_size=5))
        text: str | bytes = json.dumps(data)  # allow_nan: NaN and Infinity appear as Python writes them
        path = draw(st.sampled_from(sorted(data))) if data and draw(st.booleans()) else draw(_PATHS)
    elif shape == "deep":
        depth = draw(st.sampled_from([50, 99, 100, 101, 150, 999, 5000]))
        opener = draw(st.sampled_from(['{"a": ', "["]))
        closer = "}" if opener.startswith("{") else "]"
        text = '{"lr": 0.1, "x": ' + opener * depth + "1" + closer * depth + "}"
        path = draw(st.sampled_from(["lr", "x", "x.a", "x.0"]))
    elif shape == "tokens":
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 5000, "1" * 20,
                                      '"\\ud800"', "[]", "{}", "null", "true", '"\\u0000"']))
        text = '{"lr": 0.1, "x": ' + token + "}"
        path = draw(st.sampled_from(["lr", "x", "x.0"]))
    else:
        text = draw(st.sampled_from([b'{"lr": 0.1, "x": "\xff"}', b"\xef\xbb\xbf{\"lr\": 0.1}", b"", b"\x00",
                                     b'[1, 2]', b'{"lr": 0.1,}']))
        path = "lr"
    return text, path


# --- the targets --------------------------------------------------------------------------------

@FUZZ
@given(text=spec_texts())
def test_fuzz_sweep_specs(text: str, capsys: pytest.CaptureFixture[str], peak_memory: None) -> None:
    check_case(["run", "s.yaml", "--dry-run"], {"s.yaml": text}, capsys)


@FUZZ
@given(text=alias_texts())
def test_fuzz_aliases_in_process(text: str, capsys: pytest.CaptureFixture[str], peak_memory: None) -> None:
    code = check_case(["run", "s.yaml", "--dry-run"], {"s.yaml": text}, capsys)
    if "&r" in text:
        assert code == 2


@FUZZ
@given(argv=cli_arguments())
def test_fuzz_command_line(argv: list[str], capsys: pytest.CaptureFixture[str], peak_memory: None) -> None:
    check_case(argv, {}, capsys)


@FUZZ
@given(base=base_texts(), values=st.lists(_TOKENS, min_size=1, max_size=2))
def test_fuzz_base_configs(base: tuple[str | bytes, str], values: list[str], capsys: pytest.CaptureFixture[str],
                           peak_memory: None) -> None:
    text, path = base
    check_case(["run", "--base", "b.json", "--command", "true", "--output", "out", "--db", "out/results.db",
                "--param", path, *values, "--dry-run"], {"b.json": text}, capsys)


def _unique(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.fixed_dictionaries({"sweep": st.dictionaries(
           st.sampled_from(["lr", "name", "opt", "new_key", "opt.new", "items.1", "experiment_id_suffix"]),
           st.lists(_VALUES, min_size=1, max_size=2, unique_by=_unique), min_size=1, max_size=2)}),
       limits=st.one_of(st.none(), st.fixed_dictionaries({"memory_gb": _NUMBERS})))
def test_fuzz_real_runs(data: dict[str, Any], limits: dict[str, Any] | None,
                        capsys: pytest.CaptureFixture[str]) -> None:
    """A few real runs with the command runner: what is accepted runs to the end, leaves readable views and
    resumes; what is refused leaves nothing."""
    spec = {**HEAD, "sweep_id": "fuzz", "max_retries": 0, **data, **({"limits": limits} if limits else {})}
    capsys.readouterr()
    with workspace({"s.yaml": _dump(spec)}) as root:
        try:
            code = main(["run", "s.yaml", "--yes", "--quiet"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = capsys.readouterr()
        assert "Traceback" not in err + out, err
        assert code in (0, 1, 2), err
        event(f"exit {code}")
        if code == 2:
            assert not (root / "out").exists(), err
            return
        json.loads((root / "out" / "fuzz" / "sweep_results.json").read_text(encoding="utf-8"))
        resumed = main(["resume", "fuzz", "--sweep-dir", "out", "--quiet"])
        _, err = capsys.readouterr()
        assert resumed == code, err


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(alias_texts(), st.sampled_from(["[" * 100_000, "a: " + "[" * 5000 + "1" + "]" * 5000,
                                                       "- " * 3000 + "1"])))
def test_fuzz_bombs_in_a_capped_child(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The real command in a child process with 1 GB of address space and 60 s: alias bombs and deep
    nesting end with a message, not a MemoryError, a RecursionError or a hang."""
    root = tmp_path_factory.mktemp("bomb")
    (root / "base.json").write_text(json.dumps(BASE), encoding="utf-8")
    spec = text if text.startswith("base_config") else _dump(HEAD) + "sweep:\n  lr: " + text.replace("\n", " ") + "\n"
    (root / "s.yaml").write_text(spec, encoding="utf-8")
    limit = 1 << 30

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "sweeplab", "run", "s.yaml", "--dry-run"], cwd=root,
                          capture_output=True, text=True, timeout=60, preexec_fn=cap,
                          env={**os.environ, "COLUMNS": "250"})
    assert done.returncode in (0, 2), done.stderr
    assert "Traceback" not in done.stderr
    assert _listing(root) == {"base.json", "s.yaml"}
