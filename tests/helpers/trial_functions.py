"""Trial functions for the python runner tests (imported by ``sweeplab.runners._trial_call``)."""

from __future__ import annotations

import json
from typing import Any

from sweeplab.errors import ConfigError


def train(config: dict[str, Any], context: Any) -> dict[str, Any]:
    """Succeed, report numbers (and a string that must be dropped), record the context."""
    (context.trial_dir / "context.json").write_text(json.dumps({
        "seed": context.seed, "experiment_id": context.experiment_id, "attempt": context.attempt,
        "trial_dir": str(context.trial_dir)}))
    return {"score": config["x"] * 2, "seed": context.seed, "converged": True, "label": "dropped"}


def reject(config: dict[str, Any], context: Any) -> dict[str, Any]:
    """Declare the config invalid."""
    raise ConfigError(f"x must be positive, got {config['x']}")


def explode(config: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fail like a buggy trial."""
    raise RuntimeError("boom in the trial")


def not_a_mapping(config: dict[str, Any], context: Any) -> list[int]:
    """Return something that is not a metrics mapping."""
    return [1, 2, 3]


def nothing(config: dict[str, Any], context: Any) -> None:
    """Succeed without metrics."""
    return None
