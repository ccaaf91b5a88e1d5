"""Expand a resolved sweep into trials, lazily and deterministically.

The grid is the Cartesian product of the axes in declaration order (the last varies
fastest), a zip group is one axis, and replicates are innermost. A trial is computed from
its position alone (mixed-radix decoding), so a plan of a million trials can be counted,
indexed, sliced and iterated without building it in memory.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import Any, overload

from ..trial import Trial, canonical_json
from .dotpaths import set_path
from .resolve import ResolvedSweep

__all__ = ["Plan", "derive_seed", "MAX_ID_LENGTH"]

#: experiment ids longer than this are cut and given a short hash
MAX_ID_LENGTH = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


def derive_seed(base_seed: int, repeat: int) -> int:
    """The seed of replicate ``repeat``: the same at every grid point (common random numbers)."""
    digest = hashlib.sha256(f"sweeplab-seed:{base_seed}:{repeat}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _short_names(paths: list[str]) -> dict[str, str]:
    """The shortest dotted suffix of each path that no other path shares (usually the last key)."""
    names: dict[str, str] = {}
    for path in paths:
        parts = path.split(".")
        for width in range(1, len(parts) + 1):
            suffix = ".".join(parts[-width:])
            if sum(1 for other in paths if other == suffix or other.endswith("." + suffix)) == 1:
                break
        names[path] = suffix
    return names


def _id_text(value: Any, *, drawn: bool = False) -> str:
    """``value`` as a piece of an experiment id. ``drawn``: the value was drawn by a design or a search,
    whose floats carry 16 digits nobody chose; 4 significant digits name it (the id's number and the
    trial's key stay unique)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif drawn and isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, (int, float, str)):
        text = str(value)
    else:
        text = canonical_json(value)
    return _UNSAFE.sub("-", text) or "x"


class Plan(Sequence[Trial]):
    """The trials of a sweep, in order. ``plan[i]`` is the trial at position ``i`` (from 0);
    its ``index`` (from 1) is what experiment ids and file names show."""

    def __init__(self, sweep: ResolvedSweep) -> None:
        self.sweep = sweep
        self._radices = [len(axis.rows) for axis in sweep.axes]
        self._replicates = sweep.replicates
        size = self._replicates
        for radix in self._radices:
            size *= radix
        self._size = size
        names = _short_names(sweep.paths)
        # Per axis and position, the pieces that every trial at that position shares.
        # The key hashes "path=value" pieces sorted by path, so neither the order of the keys under
        # 'sweep' nor grouping parameters into a zip changes a trial's identity.
        self._fragments: list[list[tuple[dict[str, Any], list[str], str]]] = []
        for axis in sweep.axes:
            column: list[tuple[dict[str, Any], list[str], str]] = []
            for point, row in enumerate(axis.rows):
                params = dict(zip(axis.paths, row))
                key_pieces = [f"{p}={canonical_json(v)}" for p, v in params.items()]
                if axis.design:  # a design's points are numbered: equal draws stay distinct trials
                    key_pieces.append(f"design point #{point}")
                id_part = "_".join(f"{_id_text(names[p])}={_id_text(v, drawn=axis.design)}" for p, v in params.items())
                column.append((params, key_pieces, id_part))
            self._fragments.append(column)
        spec = sweep.spec
        self._seeds = [derive_seed(spec.seed, r) for r in range(self._replicates)]
        self._key_prefix = f"{sweep.base_hash}|seed={spec.seed}"

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, position: int) -> Trial: ...
    @overload
    def __getitem__(self, position: slice) -> list[Trial]: ...

    def __getitem__(self, position: int | slice) -> Trial | list[Trial]:
        if isinstance(position, slice):
            return [self._trial(i) for i in range(*position.indices(self._size))]
        if position < 0:
            position += self._size
        if not 0 <= position < self._size:
            raise IndexError(f"plan position {position} is out of range (the plan has {self._size} trials)")
        return self._trial(position)

    def __iter__(self) -> Iterator[Trial]:
        for position in range(self._size):
            yield self._trial(position)

    def keys(self) -> Iterator[tuple[int, str]]:
        """(position, key) of every trial, in order — cheaper than building the trials, for a resume
        that must skip what the journal already holds."""
        fragments = self._fragments
        ranges = [range(radix) for radix in self._radices]
        for position, picks in enumerate(itertools.product(*ranges, range(self._replicates))):
            pieces: list[str] = []
            for axis, pick in enumerate(picks[:-1]):
                pieces.extend(fragments[axis][pick][1])
            yield position, self._key(pieces, picks[-1])

    def _key(self, key_pieces: list[str], repeat: int) -> str:
        key_parts = [self._key_prefix, f"rep={repeat}", *sorted(key_pieces)]
        label = self.sweep.labels[repeat]
        if label is not None:
            key_parts.append(f"label={label}")
        return hashlib.sha256("\n".join(key_parts).encode()).hexdigest()[:12]

    def _trial(self, position: int) -> Trial:
        repeat = position % self._replicates
        rest = position // self._replicates
        picks: list[int] = [0] * len(self._radices)
        for axis in range(len(self._radices) - 1, -1, -1):
            rest, picks[axis] = divmod(rest, self._radices[axis])
        params: dict[str, Any] = {}
        key_pieces: list[str] = []
        id_parts: list[str] = []
        for axis, pick in enumerate(picks):
            axis_params, pieces, id_part = self._fragments[axis][pick]
            params.update(axis_params)
            key_pieces.extend(pieces)
            id_parts.append(id_part)
        label = self.sweep.labels[repeat]
        if label is not None:
            id_parts.append(_id_text(label))
        key = self._key(key_pieces, repeat)
        index = position + 1
        return Trial(index=index, key=key, experiment_id=self._experiment_id(index, id_parts, key), params=params,
                     repeat=repeat, seed=self._seeds[repeat], label=label)

    def _experiment_id(self, index: int, id_parts: list[str], key: str) -> str:
        experiment_id = f"{self.sweep.sweep_id}_exp{index:04d}"
        if id_parts:
            experiment_id += "_" + "_".join(id_parts)
        if len(experiment_id) > MAX_ID_LENGTH:
            experiment_id = experiment_id[: MAX_ID_LENGTH - 9].rstrip("_-.") + "_" + key[:8]
        return experiment_id

    def config_for(self, trial: Trial) -> dict[str, Any]:
        """The config the trial runs: the base config with its parameters, id and seed applied."""
        sweep = self.sweep
        runner = sweep.runner
        config: dict[str, Any] = sweep.base_config
        for path, value in trial.params.items():
            config = set_path(config, path, value, new_keys=runner.allows_new_key, policy_name=runner.name)
        if "experiment_id" in config:
            config = {**config, "experiment_id": trial.experiment_id}
        return runner.prepare(config, trial.seed)
