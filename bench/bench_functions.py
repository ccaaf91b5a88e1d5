"""Trial functions the benchmarks run through the python runner (imported by name)."""

from __future__ import annotations

from typing import Any


def trivial(config: dict[str, Any], context: Any) -> dict[str, float]:
    """Does nothing worth timing: the benchmark measures the dispatch around it."""
    return {"y": float(config.get("x", 0)) * 2}
