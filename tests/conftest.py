"""Fixtures shared by several test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def dask_scheduler() -> Iterator[str]:
    """A real Dask cluster on 127.0.0.1 for the whole session: a scheduler and two single-threaded workers.

    The workers are separate processes, as on a real cluster; their address is what a user gives
    to ``--dask``.
    """
    from distributed import (
        LocalCluster,  # the test extra installs it: a missing one is a failure
    )

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", worker_dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


from helpers.engine_support import workspace  # noqa: E402,F401 - the engine tests' fixture, for every module
