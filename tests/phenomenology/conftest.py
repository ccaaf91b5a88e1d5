"""Shared fixtures of the phenomenology tests: run an experiment in-process and inspect it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sweeplab.phenomenology.db import ExperimentDatabase
from sweeplab.phenomenology.experiment import Experiment
from sweeplab.phenomenology.metrics import compute_metrics
from sweeplab.phenomenology.schema import ExperimentConfig, validate_config_dict

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    """A finished in-process experiment."""

    config: ExperimentConfig
    db: ExperimentDatabase
    status: str
    metrics: dict[str, float]

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.db.conn.execute(sql, params).fetchall()

    def count(self, table: str, where: str = "1", *params: Any) -> int:
        return self.db.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0]


@pytest.fixture
def run_experiment() -> Iterator[Callable[..., Run]]:
    """``run_experiment(config_dict, **top_level_overrides)`` runs it in memory and returns a :class:`Run`."""
    opened: list[ExperimentDatabase] = []

    def run(config: dict[str, Any], **overrides: Any) -> Run:
        cfg = validate_config_dict({**copy.deepcopy(config), **overrides})
        db = ExperimentDatabase(":memory:")
        opened.append(db)
        status = Experiment(cfg, db).run()
        return Run(cfg, db, status, compute_metrics(db, cfg))

    yield run
    for db in opened:
        db.close()


def example(name: str) -> dict[str, Any]:
    """An example experiment config as a dict."""
    return json.loads((REPO / "experiments" / "examples" / name).read_text(encoding="utf-8"))


def sweep_spec(name: str) -> dict[str, Any]:
    """An example sweep YAML as a dict."""
    return yaml.safe_load((REPO / "sweeps" / name).read_text(encoding="utf-8"))


@pytest.fixture
def minimal() -> dict[str, Any]:
    """A small config with nothing scheduled: tests add what they need."""
    return {
        "experiment_id": "minimal",
        "mode": "isolated",
        "max_cycles": 12,
        "resource_constraints": {"ram_limit_gb": 64.0},
        "self_report_schedule": {"on_startup": False},
        "seed": 1,
    }


@pytest.fixture
def load_example() -> Callable[[str], dict[str, Any]]:
    """``load_example("isolated_baseline.json")`` → the example config as a dict."""
    return example


@pytest.fixture
def load_sweep() -> Callable[[str], dict[str, Any]]:
    """``load_sweep("ram_limits_sweep.yaml")`` → the sweep YAML as a dict."""
    return sweep_spec
