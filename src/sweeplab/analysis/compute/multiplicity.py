"""Multiplicity: a stated family of tests (metrics × parameters) with Benjamini-Hochberg FDR control.

Interface:

* :func:`benjamini_hochberg` ``(p_values)`` -> adjusted q-values in the input order (None kept as None).
* :class:`FamilyMember` (``metric``, ``parameter`` (term), ``p_value``, ``q_value``) and
  :class:`TestFamily` (``name``: how the family is defined, ``members``, ``alpha``,
  ``significant()`` -> the members with q < alpha, ``any_significant``).
* :func:`build_family` ``(p_values: Mapping[(metric, term), p | None], alpha=0.05)`` -> TestFamily.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .stats import ALPHA

__all__ = ["FamilyMember", "TestFamily", "benjamini_hochberg", "build_family"]


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg q-values in the input order; untested (None) entries stay None.

    >>> [round(q, 3) for q in benjamini_hochberg([0.01, 0.04, 0.03])]
    [0.03, 0.04, 0.04]
    """
    tested = [(i, p) for i, p in enumerate(p_values) if p is not None]
    m = len(tested)
    out: list[float | None] = [None] * len(p_values)
    running = 1.0
    for rank, (i, p) in reversed(list(enumerate(sorted(tested, key=lambda item: item[1]), start=1))):
        running = min(running, p * m / rank)
        out[i] = min(1.0, running)
    return out


@dataclass(frozen=True)
class FamilyMember:
    """One test of the family: a metric against a term (a parameter, an interaction)."""

    metric: str
    term: str
    p_value: float | None
    q_value: float | None


@dataclass(frozen=True)
class TestFamily:
    """Every test the report shows a verdict for, adjusted together (Benjamini-Hochberg FDR)."""

    name: str
    members: list[FamilyMember] = field(default_factory=list)
    alpha: float = ALPHA

    def significant(self) -> list[FamilyMember]:
        """Members whose q-value is below ``alpha``."""
        return [m for m in self.members if m.q_value is not None and m.q_value < self.alpha]

    @property
    def any_significant(self) -> bool:
        """True when some member is significant after FDR control."""
        return bool(self.significant())

    def q_value(self, metric: str, term: str) -> float | None:
        """The q-value of one member (None when untested or not in the family)."""
        for m in self.members:
            if m.metric == metric and m.term == term:
                return m.q_value
        return None

    @property
    def tested(self) -> int:
        """How many members have a p-value."""
        return sum(1 for m in self.members if m.p_value is not None)


def build_family(p_values: Mapping[tuple[str, str], float | None], alpha: float = ALPHA,
                 name: str = "") -> TestFamily:
    """The family of ``{(metric, term): p}`` with BH q-values; ``name`` states what it covers."""
    keys = list(p_values)
    q = benjamini_hochberg([p_values[k] for k in keys])
    metrics = sorted({k[0] for k in keys})
    terms = sorted({k[1] for k in keys})
    stated = name or (f"{len(metrics)} metric(s) × {len(terms)} term(s) = {len(keys)} tests "
                      f"({sum(p is not None for p in p_values.values())} testable), Benjamini-Hochberg FDR {alpha:g}")
    return TestFamily(stated, [FamilyMember(k[0], k[1], p_values[k], qv) for k, qv in zip(keys, q)], alpha)
