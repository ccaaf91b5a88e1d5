"""The designed-experiment view of the objective: every parameter with the others held fixed.

One table of the type-II ANOVA (main effects, pairwise interactions, the replicate block), each
term's share of the variance (its importance) and its FDR-adjusted q-value within the stated
family of every metric × term, then what the design can detect (smallest attainable p, minimal
detectable effect) and the warnings (imbalance, aliasing, terms left out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..compute.names import short_name
from .document import Block, Heading, Paragraph, Table, fmt_num, fmt_p
from .sampled_section import adaptive_caveat

if TYPE_CHECKING:
    from ..compute.design import DesignAnalysis, TermTest
    from ..compute.multiplicity import TestFamily
    from ..compute.sweep_statistics import SweepStatistics

__all__ = ["design_blocks", "term_label", "importance_text", "fmt_share"]


def term_label(term: TermTest) -> str:
    """``rate``, ``rate × cycles``, ``a = b (aliased)`` or ``replicate (block)``."""
    if term.kind == "block":
        return "replicate (block)"
    names = [short_name(f) for f in term.factors]
    if term.kind == "interaction":
        return " × ".join(names)
    return " = ".join(names) + (" (aliased)" if len(names) > 1 else "")


def fmt_share(share: float) -> str:
    """A share of the variance as a percentage (``<1%`` for the small ones)."""
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def importance_text(design: DesignAnalysis, top: int | None = None) -> str:
    """``rate 62%, cycles 3%, rate × cycles 1%, residual 30%`` (largest first)."""
    terms = sorted((t for t in design.terms if t.kind != "block"), key=lambda t: -t.share)
    shown = terms[:top] if top else terms
    parts = [f"{term_label(t)} {fmt_share(t.share)}" for t in shown]
    residual = 1.0 - sum(t.share for t in design.terms)
    if top is None:
        parts.append(f"residual {fmt_share(max(residual, 0.0))}")
    return ", ".join(parts)


def _q_cell(family: TestFamily, metric: str, term: TermTest, marks: bool = True) -> str:
    if term.kind == "block":
        return "-"
    q = family.q_value(metric, term.term)
    if q is None:
        return "-"
    return fmt_p(q) + ("*" if marks and q < family.alpha else "")


def design_blocks(a: SweepStatistics, metric: str, family: TestFamily) -> list[Block]:
    """The objective's design analysis as report blocks."""
    if not a.parameters:
        return []
    design = a.design_analysis(metric)
    blocks: list[Block] = [Heading(f"{metric}: each parameter with the others held fixed")]
    if design.status != "ok" or not design.terms:
        blocks.append(Paragraph(f"No design analysis ({design.status}): {design.reason or 'no estimable term'}."))
        return blocks + _warning_blocks(design)
    rows = []
    for term in design.terms:
        note = "; ".join(filter(None, [term.qualifier, term.note]))
        rows.append([term_label(term), term.kind, f"{term.df:g}", fmt_num(term.f), fmt_p(term.p_value),
                     _q_cell(family, metric, term, marks=not adaptive_caveat(a)), fmt_share(term.share), note or "-"])
    blocks.append(Table(["term", "kind", "df", "F", "p", "q (FDR)", "share", "note"], rows,
                        caption=f"Type-II ANOVA of {metric} (n={design.n}, residual df={design.residual_df:g})",
                        left_columns=2, key_columns=1, trailing_left=1))
    lines = ["Model: least squares with every parameter as a factor and the pairwise interactions the data can "
             "estimate" + ("; replicates are blocks (replicate r shares its seed across grid points)"
                           if design.blocked else "") + ".",
             f"Importance (share of the variance): {importance_text(design)}.",
             f"q (FDR): adjusted over one family of tests, {family.name}; * marks q < {family.alpha:g}."]
    if adaptive_caveat(a):
        lines[-1] = f"q (FDR): adjusted over one family of tests, {family.name}; no term is marked significant."
        lines.append("Descriptive only: " + adaptive_caveat(a) + ".")
    blocks.append(Paragraph("\n".join(lines)))
    return blocks + _warning_blocks(design)


def _warning_blocks(design: DesignAnalysis) -> list[Block]:
    warnings = list(design.warnings)
    if design.balance is not None and design.balance.warning and design.balance.warning not in warnings:
        warnings.append(design.balance.warning)
    if not warnings:
        return []
    return [Paragraph("Warnings:\n" + "\n".join(f"- {w}" for w in warnings))]
