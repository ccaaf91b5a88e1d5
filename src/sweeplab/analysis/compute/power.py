"""What a design can detect: the smallest attainable p-value and the minimal detectable effect.

Interface:

* :func:`smallest_p_two_sample` ``(n1, n2)`` -> the smallest two-sided p an exact
  Mann-Whitney / permutation test can give: ``2 / C(n1+n2, n1)``.
* :func:`smallest_p_kruskal` ``(counts)`` -> the smallest p a permutation Kruskal-Wallis test can give.
* :func:`minimal_detectable_effect` ``(levels, replicates, alpha=0.05, power=0.8, *,
  blocks=False)`` -> the smallest difference between two level means, in units of the noise
  σ, that a two-sided t-test on the design's residual degrees of freedom detects with that
  power (noncentral t).
* :func:`replicates_needed` ``(effect_sigma, levels, alpha=0.05, power=0.8)`` -> the number of
  replicates per level for that effect (None when above :data:`MAX_REPLICATES`).
* :class:`PowerNote` and :func:`power_note` ``(levels, replicates, alpha, comparisons)`` ->
  both numbers plus the smallest attainable Holm-adjusted p, and a ``unattainable`` flag with a
  sentence when no comparison can reach significance at this n (what ``--dry-run`` and the report print).
"""

from __future__ import annotations
