"""Trial functions for the end-to-end validity tests (copied next to the sweep's YAML)."""

from __future__ import annotations

import random
from typing import Any

BASE = {None: 3.0, 1: 1.0, 2: 2.0}


def depth_metrics(config: dict[str, Any], context: Any) -> dict[str, Any]:
    """Metrics of a known truth over max_depth (null, 1, 2): the score's level means are 3, 1 and 2."""
    depth = config["max_depth"]
    rng = random.Random(context.seed)
    seed_noise = rng.gauss(0, 1)  # the same at every grid point of a replicate (common seeds)
    return {
        "score": BASE[depth] + rng.gauss(0, 0.1),
        "seed_only": seed_noise,
        "loss": float("inf") if depth == 2 else BASE[depth],
        "ratio": float("nan") if depth is None else 1.0,
        "optimizer_name": "adam",
        "tied": 0.0 if depth == 1 else 0.4,  # every replicate ties within a level
    }
