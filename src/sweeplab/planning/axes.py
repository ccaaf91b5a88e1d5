"""One dimension of a sweep's trials: a parameter, a zip group, or the points of a sampled design."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Axis"]


@dataclass(frozen=True)
class Axis:
    """One dimension of the grid: a single parameter, or a zip group varying together.

    ``rows[i]`` holds the values of ``paths`` at position ``i``. A ``design`` axis holds the points of
    a sampled design (random, lhs, sobol): its rows are numbered points, so two points that happen
    to draw the same values (choices, integers) remain two trials.
    """

    paths: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    design: bool = False

    @property
    def zipped(self) -> bool:
        return len(self.paths) > 1 and not self.design

    def values_of(self, path: str) -> list[Any]:
        column = self.paths.index(path)
        return [row[column] for row in self.rows]
