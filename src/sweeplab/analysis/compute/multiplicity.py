"""Multiplicity: a stated family of tests (metrics × parameters) with Benjamini-Hochberg FDR control.

Interface:

* :func:`benjamini_hochberg` ``(p_values)`` -> adjusted q-values in the input order (None kept as None).
* :class:`FamilyMember` (``metric``, ``parameter`` (term), ``p_value``, ``q_value``) and
  :class:`TestFamily` (``name``: how the family is defined, ``members``, ``alpha``,
  ``significant()`` -> the members with q < alpha, ``any_significant``).
* :func:`build_family` ``(p_values: Mapping[(metric, term), p | None], alpha=0.05)`` -> TestFamily.
"""

from __future__ import annotations
