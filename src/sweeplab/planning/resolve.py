"""Resolve a :class:`~sweeplab.planning.spec.SweepSpec` against its base config.

This is where a spec meets the world: the base config file is read, the runner is chosen (and
anchors the base to its folder), every dot path is checked against the base config (and the runner's
schema), every value against the type found there, and zip groups and replicates are put in their final
shape. The result, :class:`ResolvedSweep`, is all a :class:`~sweeplab.planning.plan.Plan` needs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, PathError, SpecError, closest_match
from ..runners.base import Runner, get_runner, runner_for_base
from ..trial import canonical_json
from .axes import Axis
from .design import strategy_axes
from .dotpaths import get_path, set_path, split_path
from .json_data import MAX_DEPTH, json_problem
from .spec import MAX_MEMORY_GB, MIN_MEMORY_GB, REPLICATE_KEY, SweepSpec, check_sweep_id
from .values import expand_values

log = logging.getLogger(__name__)

__all__ = ["Axis", "ResolvedSweep", "resolve", "read_base_config", "probe_configs", "MAX_TRIALS"]

#: a sweep may have at most this many trials (every one becomes a row of the journal; a typo in a
#: generator can ask for 10^20)
MAX_TRIALS = 10_000_000
_NAME_MAX = 255  # bytes in a file name


@dataclass
class ResolvedSweep:
    """A validated sweep, ready to be expanded into trials."""

    spec: SweepSpec
    sweep_id: str
    base_path: Path
    base_config: dict[str, Any]
    base_hash: str
    runner_name: str
    runner: Runner
    axes: list[Axis]
    labels: list[str | None]           # one entry per replicate
    sweep_dir: Path
    db_path: Path
    spec_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def replicates(self) -> int:
        return len(self.labels)

    @property
    def paths(self) -> list[str]:
        return [p for axis in self.axes for p in axis.paths]

    def sweep_params(self) -> dict[str, list[Any]]:
        """Every parameter with its values, in declaration order (zip members included)."""
        return {path: axis.values_of(path) for axis in self.axes for path in axis.paths}


def read_base_config(spec_value: str, spec_dir: Path | None) -> tuple[Path, dict[str, Any]]:
    """Find and parse the base config JSON.

    A relative path is looked up from the current folder first (as the original tool, run
    from the repository root), then from the spec file's folder and its parent.
    """
    candidates = [Path(spec_value)]
    if not Path(spec_value).is_absolute() and spec_dir is not None:
        candidates += [spec_dir / spec_value, spec_dir.parent / spec_value]
    found = next((c for c in candidates if _is_file(c)), None)
    if found is None:
        looked = ", ".join(f"'{c}'" for c in dict.fromkeys(str(c) for c in candidates))
        raise SpecError(f"base config file '{spec_value}' does not exist (looked at {looked}): "
                        "give the path of the experiment's JSON config")
    try:
        data = json.loads(found.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SpecError(f"base config file '{found}' is not valid JSON: {exc.msg} at line {exc.lineno}, "
                        f"column {exc.colno}") from None
    except RecursionError:
        raise SpecError(f"base config file '{found}' is nested too deeply to read: at most {MAX_DEPTH} levels "
                        "of lists and objects are allowed") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise SpecError(f"base config file '{found}' cannot be read as JSON: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"base config file '{found}' cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(f"base config file '{found}' must hold a JSON object, got a {type(data).__name__}")
    problem = json_problem(data)
    if problem is not None:
        location, what, _ = problem
        path = location.replace("[", ".").replace("]", "").lstrip(".")  # the dot path a sweep would use
        raise SpecError(f"base config file '{found}': the value at '{path}' {what}")
    return found.resolve(), data


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, for one
        return False


def _choose_runner(spec: SweepSpec, base: dict[str, Any], base_path: Path) -> tuple[str, Runner]:
    name = spec.runner
    if name is None:
        if spec.command is not None:
            name = "command"
        elif spec.function is not None:
            name = "python"
        else:
            name = runner_for_base(base)
    if name is None:
        raise SpecError(
            f"cannot tell which runner executes the trials of base config '{base_path.name}': set "
            "'runner: command' with 'command: [prog, --config, \"{config}\"]', or 'runner: python' with "
            "'function: package.module:function' (on the CLI: --command '...' or --function ...)"
        )
    if spec.command is not None and name != "command":
        raise SpecError(f"'command' is only used by the command runner, but the runner is '{name}': "
                        "remove 'command' or set 'runner: command'")
    if spec.function is not None and name != "python":
        raise SpecError(f"'function' is only used by the python runner, but the runner is '{name}': "
                        "remove 'function' or set 'runner: python'")
    options: dict[str, Any] = {}
    if spec.command is not None:
        options["command"] = spec.command
    if spec.function is not None:
        options["function"] = spec.function
    return name, get_runner(name)({**options, "isolation": spec.isolation} if spec.isolation else options)


def _check_type(path: str, value: Any, base_value: Any) -> None:
    if base_value is None:
        return
    def is_number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if isinstance(base_value, bool):
        ok, expected = isinstance(value, bool), "true or false"
    elif isinstance(base_value, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected = "an integer"
        if is_number(value) and not ok:
            expected += (f" (the base config has {base_value!r}; write it as {float(base_value)!r} "
                         "if fractional values are meant)")
    elif isinstance(base_value, float):
        ok, expected = is_number(value), "a number"
    elif isinstance(base_value, str):
        ok, expected = isinstance(value, str), "a string"
    elif isinstance(base_value, list):
        ok, expected = isinstance(value, list), "a list"
    elif isinstance(base_value, dict):
        ok, expected = isinstance(value, dict), "a mapping"
    else:
        ok, expected = True, ""
    if not ok:
        raise SpecError(f"sweep parameter '{path}': the value {value!r} is {type(value).__name__}, but the base "
                        f"config has {base_value!r} there: expected {expected}")


def _zip_groups(spec: SweepSpec, sweep_values: dict[str, list[Any]]) -> tuple[list[tuple[str, ...]], list[Axis]]:
    """Return (names-form groups, mapping-form axes)."""
    named: list[tuple[str, ...]] = []
    inline: list[Axis] = []
    seen: set[str] = set()
    for number, group in enumerate(spec.zip, start=1):
        if isinstance(group, list) and all(isinstance(p, str) for p in group):
            paths = tuple(group)
            for path in paths:
                if path not in sweep_values:
                    raise SpecError(f"zip group {number} names '{path}', which is not a parameter under 'sweep': "
                                    "list its values under 'sweep', or give the group as a mapping path → values")
            columns = [sweep_values[p] for p in paths]
        elif isinstance(group, dict) and group:
            paths = tuple(str(p) for p in group)
            for path in paths:
                if path in sweep_values:
                    raise SpecError(f"parameter '{path}' appears both under 'sweep' and in zip group {number}: "
                                    "give its values in one place only")
            columns = [expand_values(p, group[p]) for p in paths]
        else:
            raise SpecError(f"zip group {number} must be a list of parameter paths (e.g. [a, b]) or a mapping "
                            f"path → values, got {group!r}")
        if len(paths) < 2:
            raise SpecError(f"zip group {number} has one parameter ({paths[0] if paths else 'none'}): "
                            "a zip group needs at least two parameters that vary together")
        for path in paths:
            if path in seen:
                raise SpecError(f"parameter '{path}' appears in more than one zip group: put it in one group only")
            seen.add(path)
        lengths = {p: len(c) for p, c in zip(paths, columns)}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{p} has {n}" for p, n in lengths.items())
            raise SpecError(f"zip group {number} has value lists of unequal length ({shown}): "
                            "parameters that vary together need the same number of values")
        if isinstance(group, list):
            named.append(paths)
        else:
            inline.append(Axis(paths, tuple(zip(*columns))))
    return named, inline


def _axes(spec: SweepSpec) -> tuple[list[Axis], list[str | None]]:
    sweep_values: dict[str, list[Any]] = {}
    labels: list[str | None] | None = None
    for path, raw in spec.sweep.items():
        if path == REPLICATE_KEY:
            values = expand_values(path, raw)
            labels = [str(v) for v in values]
        elif spec.strategy == "grid":  # other strategies declare distributions (planning/design.py)
            sweep_values[path] = expand_values(path, raw)
    named, inline = _zip_groups(spec, sweep_values)
    in_group = {p: g for g in named for p in g}
    axes: list[Axis] = []
    for path, values in sweep_values.items():
        group = in_group.get(path)
        if group is None:
            axes.append(Axis((path,), tuple((v,) for v in values)))
        elif group[0] == path:
            axes.append(Axis(group, tuple(zip(*(sweep_values[p] for p in group)))))
    axes.extend(inline)
    if spec.strategy != "grid":
        axes = strategy_axes(spec)
    if labels is not None and spec.repeats != 1:
        raise SpecError(f"both 'repeats: {spec.repeats}' and 'sweep.{REPLICATE_KEY}' ask for replicates: "
                        "use one of them ('repeats: N' is the short form of N labels)")
    _check_size(axes, len(labels) if labels is not None else spec.repeats)
    if labels is None:
        labels = [None] if spec.repeats == 1 else [f"rep{r + 1}" for r in range(spec.repeats)]
    return axes, labels


def _check_size(axes: list[Axis], replicates: int) -> None:
    """Refuse a plan of more than :data:`MAX_TRIALS` trials, before anything is built for it."""
    total = replicates
    for axis in axes:
        total *= len(axis.rows)
    if total > MAX_TRIALS:
        factors = [f"{' + '.join(axis.paths)}: {len(axis.rows)}" for axis in axes]
        if replicates > 1:
            factors.append(f"replicates: {replicates}")
        shown = f"{total:,}" if total < 10**15 else f"{total:.3g}"
        raise SpecError(f"the sweep has {shown} trials ({' × '.join(factors)}); at most {MAX_TRIALS} are "
                        "allowed: sweep fewer values, or split it into several sweeps")


def _check_name_lengths(sweep_id: str, db_path: Path) -> None:
    """The sweep's lock file beside the database is named after both: it must fit a file name (255 bytes)."""
    together = len(os.fsencode(db_path.name)) + len(sweep_id)
    if together > _NAME_MAX - 15:
        raise SpecError(f"the database file name '{db_path.name}' and the sweep id '{sweep_id}' are {together} "
                        f"characters long together; at most {_NAME_MAX - 15} fit in the name of the sweep's lock "
                        "file beside the database: shorten one of them")


def _check_overlaps(axes: list[Axis]) -> None:
    """Refuse two swept paths of which one lies inside the other: one would overwrite the other's value."""
    paths = {path for axis in axes for path in axis.paths}
    for inner in sorted(paths):
        segments = inner.split(".")
        outer = next((".".join(segments[:n]) for n in range(1, len(segments)) if ".".join(segments[:n]) in paths),
                     None)
        if outer is not None:
            raise SpecError(f"sweep parameters '{outer}' and '{inner}' overlap: '{inner}' lies inside '{outer}', "
                            "so setting one overwrites the other; sweep one of them (or list whole values of "
                            f"'{outer}')")


def _check_paths(axes: list[Axis], base: dict[str, Any], runner: Runner) -> list[str]:
    """Check every swept path against the base config; returns notes (new keys that look like typos)."""
    notes = []
    for axis in axes:
        for column, path in enumerate(axis.paths):
            try:
                base_value = get_path(base, path)
            except PathError:
                # A new key is fine where the runner's schema allows it; set_path says why not.
                set_path(base, path, axis.rows[0][column], new_keys=runner.allows_new_key, policy_name=runner.name)
                note = _typo_note(base, path)
                if note:
                    notes.append(note)
                continue
            for row in axis.rows:
                _check_type(path, row[column], base_value)
    return notes


def _typo_note(base: dict[str, Any], path: str) -> str | None:
    """For a swept path that creates a new key: a warning when an existing key is spelled almost alike."""
    segments = split_path(path)
    parent = ".".join(segments[:-1])
    siblings = get_path(base, parent) if parent else base
    match = closest_match(segments[-1], siblings, cutoff=0.75) if isinstance(siblings, dict) else None
    if match is None:
        return None
    where = f"'{parent}'" if parent else "the top level of the base config"
    suggested = f"{parent}.{match}" if parent else match
    return (f"parameter '{path}' adds the key '{segments[-1]}' to {where}, which has '{match}' instead: "
            f"did you mean '{suggested}'? The trial must read the new key, or this parameter changes nothing.")


def probe_configs(axes: list[Axis], base: dict[str, Any], runner: Runner,
                  seed: int) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield (overrides, config) for every value of every axis, the other axes at their first value.

    These few configs stand for the whole plan when checking validity and resource needs:
    every value the plan can use appears in one of them.
    """
    first = {p: axis.rows[0][i] for axis in axes for i, p in enumerate(axis.paths)}
    def build(overrides: dict[str, Any]) -> dict[str, Any]:
        config = base
        for path, value in {**first, **overrides}.items():
            config = set_path(config, path, value, new_keys=runner.allows_new_key, policy_name=runner.name)
        return runner.prepare(config, seed)
    if not axes:
        yield {}, runner.prepare(base, seed)
    for axis in axes:
        for row in axis.rows:
            overrides = dict(zip(axis.paths, row))
            yield overrides, build(overrides)


def _validate_with_runner(axes: list[Axis], base: dict[str, Any], runner: Runner, seed: int) -> None:
    """Ask the runner to validate the base config and every probe config."""
    try:
        prepared = runner.prepare(base, seed)
        runner.validate(prepared)
        _check_declared_resources(runner, prepared)
    except ConfigError as exc:
        raise ConfigError(f"the base config is invalid for the {runner.name} runner: {exc}") from None
    for overrides, config in probe_configs(axes, base, runner, seed):
        try:
            runner.validate(config)
            _check_declared_resources(runner, config)
        except ConfigError as exc:
            shown = ", ".join(f"{p}={v!r}" for p, v in overrides.items())
            raise ConfigError(f"with {shown} the experiment config is invalid: {exc}") from None


def _check_declared_resources(runner: Runner, config: dict[str, Any]) -> None:
    """The RAM a config declares for its trial must be a limit a process can live under, and a number the
    budget and the address-space cap can hold (the spec's ``limits.memory_gb`` keeps the same range)."""
    memory = runner.resources(config).memory_gb
    if memory is not None and not MIN_MEMORY_GB <= memory <= MAX_MEMORY_GB:
        raise ConfigError(f"it declares a RAM limit of {memory:g} GB per trial; expected from {MIN_MEMORY_GB} GB "
                          f"(about 10 MB: a smaller limit rounds to none, or no process starts under it) to "
                          f"{MAX_MEMORY_GB:.0f} GB")


def resolve(spec: SweepSpec, *, spec_dir: Path | None = None, now: float | None = None) -> ResolvedSweep:
    """Validate ``spec`` against its base config and return the resolved sweep."""
    base_path, base = read_base_config(spec.base_config, spec_dir)
    runner_name, runner = _choose_runner(spec, base, base_path)
    base = runner.anchor(base, base_path)
    base_hash = hashlib.sha256(canonical_json(base).encode()).hexdigest()[:16]
    axes, labels = _axes(spec)
    _check_overlaps(axes)
    notes = _check_paths(axes, base, runner)
    runner.check_parameters([path for axis in axes for path in axis.paths])  # e.g. {name} placeholders
    for note in notes:
        log.warning("%s", note)
    _validate_with_runner(axes, base, runner, spec.seed)
    sweep_id = spec.sweep_id
    if sweep_id is None:
        stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(now))
        # the base file's name is cut so that the id stays within MAX_SWEEP_ID_LENGTH
        stem = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9_.-]+", "-", base_path.stem)[:60]).strip("-.") or "base"
        sweep_id = check_sweep_id(f"sweep_{stem}_{stamp}")
    _check_name_lengths(sweep_id, Path(spec.db_path))
    return ResolvedSweep(
        spec=spec, sweep_id=sweep_id, base_path=base_path, base_config=base, base_hash=base_hash,
        runner_name=runner_name, runner=runner, axes=axes, labels=labels,
        sweep_dir=Path(spec.output_dir) / sweep_id, db_path=Path(spec.db_path), spec_dir=spec_dir, notes=notes,
    )
