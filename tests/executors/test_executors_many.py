"""``run_many(..., executor=)``: whole runs on worker processes, each with its own ``shared``."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor

import pytest
from executor_nodes import Double

from rillflow import Flow
from rillflow.agents import run_many
from rillflow.durable import PostgresCheckpointer
from rillflow.executors import CannotTravelError


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2) as executor:
        yield executor


@pytest.mark.filterwarnings("ignore:Flow ends")
async def test_each_run_goes_to_a_worker_with_its_own_shared(pool: Executor) -> None:
    inputs = [{"x": i} for i in range(8)]
    results = await run_many(Flow(start=Double()), inputs, executor=pool, max_concurrency=3)
    assert [r.result for r in results] == ["done"] * 8
    assert [r.shared["doubled"] for r in results] == [2 * i for i in range(8)]
    assert os.getpid() not in {r.shared["pid"] for r in results}
    assert inputs[0] == {"x": 0}  # the caller's inputs are untouched


@pytest.mark.filterwarnings("ignore:Flow ends")
async def test_a_failed_run_keeps_its_error_and_does_not_stop_the_others(pool: Executor) -> None:
    results = await run_many(Flow(start=Double()), [{"x": 1}, {"x": -1}, {"x": 2}], executor=pool)
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, ValueError)
    assert "raised on the executor's worker" in "\n".join(results[1].error.__notes__)


async def test_an_input_that_cannot_travel_is_named(pool: Executor) -> None:
    results = await run_many(Flow(start=Double()), [{"x": 1, "lock": threading.Lock()}], executor=pool)
    assert isinstance(results[0].error, CannotTravelError)
    assert "key 'lock'" in str(results[0].error)
    assert "input 0" in str(results[0].error)


@pytest.mark.filterwarnings("ignore:Flow ends")
async def test_runs_on_workers_checkpoint_into_one_shared_postgres(pool: Executor, postgres_url: str) -> None:
    store = PostgresCheckpointer(postgres_url)
    results = await run_many(Flow(start=Double()), [{"x": 1}, {"x": 2}], executor=pool, checkpointer=store)
    done = [r.result for r in results]
    assert [d.status for d in done] == ["done", "done"]
    assert [d.shared["doubled"] for d in done] == [2, 4]
    stored = {run.run_id: run.status for run in store.list_runs()}
    assert {d.run_id for d in done} <= set(stored)
    for d in done:
        store.delete(d.run_id)
