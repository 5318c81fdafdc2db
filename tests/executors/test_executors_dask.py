"""DaskExecutor: a local cluster it starts and stops, or a scheduler it connects to and leaves running."""

from __future__ import annotations

import os
from typing import Any

import pytest
from executor_nodes import Square, square_flow

from rillflow.executors import DaskExecutor


async def test_a_batch_runs_on_a_local_cluster_it_starts_and_stops() -> None:
    with DaskExecutor(n_workers=2) as dask:
        pids = set(dask.worker_pids().values())
        shared: dict[str, Any] = {"items": [1, 2, 2, 3]}  # equal items still run each (pure=False)
        await square_flow(Square(executor=dask)).run_async(shared)
        cluster = dask.cluster
    assert [r[0] for r in shared["results"]] == [1, 4, 4, 9]
    assert {pid for _, pid in shared["results"]} <= pids
    assert os.getpid() not in pids
    assert dask.cluster is None and cluster.status.name == "closed"


async def test_connecting_to_a_scheduler_leaves_its_cluster_running() -> None:
    with DaskExecutor(n_workers=1) as owner:
        address = owner.cluster.scheduler_address
        with DaskExecutor(address) as client:
            assert client.cluster is None
            shared: dict[str, Any] = {"items": [5]}
            await square_flow(Square(executor=client)).run_async(shared)
        assert owner.client.status == "running"
        assert owner.submit(sum, [1, 2]).result() == 3
    assert shared["results"][0][0] == 25


def test_cluster_options_with_an_address_are_refused() -> None:
    with pytest.raises(ValueError, match="only when DaskExecutor starts a cluster"):
        DaskExecutor("tcp://127.0.0.1:1", n_workers=2)
