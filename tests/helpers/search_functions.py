"""Trial functions with a planted ground truth, for the search strategy tests and benchmarks.

Standard library only; the python runner imports this module in each trial's process (tests copy it
next to their sweep spec). Noise is seeded from the trial's seed and its parameters, so a trial that
runs again reports the same value.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

#: where the quadratic's maximum (1.0) lies
PEAK = (0.3, 0.7)


def _noise(config: dict[str, Any], context: Any, *names: str) -> random.Random:
    token = ":".join(repr(config[name]) for name in names)
    return random.Random(f"{context.seed}:{token}")


def step(config: dict[str, Any], context: Any) -> dict[str, float]:
    """A step of height 1 at ``config['x0']`` along ``config['x']``, plus Gaussian noise ``config['noise']``."""
    time.sleep(float(config.get("sleep", 0.0)))
    y = 1.0 if config["x"] >= config["x0"] else 0.0
    return {"y": y + _noise(config, context, "x").gauss(0.0, float(config.get("noise", 0.0)))}


def quadratic_value(x: float, y: float) -> float:
    """The noise-free quadratic: 1 at :data:`PEAK`, falling off as the squared distance."""
    return 1.0 - (x - PEAK[0]) ** 2 - (y - PEAK[1]) ** 2


def quadratic(config: dict[str, Any], context: Any) -> dict[str, float]:
    """:func:`quadratic_value` at (x, y) plus Gaussian noise ``config['noise']``."""
    time.sleep(float(config.get("sleep", 0.0)))
    value = quadratic_value(config["x"], config["y"])
    return {"score": value + _noise(config, context, "x", "y").gauss(0.0, float(config.get("noise", 0.0))),
            "true_score": value}


def branin_value(x: float, y: float) -> float:
    """The Branin function; its minimum, 0.397887, is at (-pi, 12.275), (pi, 2.275) and (9.42478, 2.475)."""
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def branin(config: dict[str, Any], context: Any) -> dict[str, float]:
    """The Branin function of (x, y) as metric ``f``."""
    return {"f": branin_value(config["x"], config["y"])}
