"""The shared limiter, exercised deterministically with a fake clock and the scripted model."""

from __future__ import annotations

import asyncio
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from rillflow.llm import Lease, Limiter, ScriptedModel

if TYPE_CHECKING:
    from conftest import MixedFlow


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_minute_bucket_refills_over_time() -> None:
    clock = FakeClock()
    limiter = Limiter(requests_per_minute=2, clock=clock)
    assert isinstance(limiter.try_acquire(), Lease)
    assert isinstance(limiter.try_acquire(), Lease)
    assert limiter.try_acquire() == pytest.approx(30.0)
    clock.now += 30
    assert isinstance(limiter.try_acquire(), Lease)


def test_tokens_per_minute_charges_the_estimate_then_settles_real_usage() -> None:
    clock = FakeClock()
    limiter = Limiter(tokens_per_minute=600, clock=clock)
    lease = limiter.try_acquire(500)
    assert isinstance(lease, Lease)
    assert limiter.try_acquire(200) == pytest.approx(10.0)  # 100 left, refills 10 tokens/s
    lease.settle(100)  # the request used far less than estimated: 400 come back
    assert isinstance(limiter.try_acquire(200), Lease)


def test_oversized_requests_wait_for_a_full_bucket_instead_of_forever() -> None:
    clock = FakeClock()
    limiter = Limiter(tokens_per_minute=100, clock=clock)
    assert isinstance(limiter.try_acquire(5000), Lease)
    assert limiter.try_acquire(5000) == pytest.approx(60.0)


def test_max_in_flight_waits_for_a_release() -> None:
    limiter = Limiter(max_in_flight=1)
    lease = limiter.try_acquire()
    assert isinstance(lease, Lease)
    assert limiter.try_acquire() == math.inf
    assert isinstance(limiter.try_acquire(ignore_in_flight=True), Lease)
    lease.release()
    lease.release()  # idempotent
    assert limiter.in_flight == 1


def test_invalid_budgets_are_rejected() -> None:
    with pytest.raises(ValueError):
        Limiter(max_in_flight=0)
    with pytest.raises(ValueError):
        Limiter(requests_per_minute=-1)


async def test_concurrent_async_calls_respect_max_in_flight() -> None:
    model = ScriptedModel(lambda prompt: f"re: {prompt}", latency=0.01, limiter=Limiter(max_in_flight=2))
    replies = await asyncio.gather(*(model.generate_async(f"q{i}") for i in range(10)))
    assert [reply.text for reply in replies] == [f"re: q{i}" for i in range(10)]
    assert model.peak_concurrency == 2
    assert model.limiter.peak_in_flight == 2
    assert model.limiter.in_flight == 0


async def test_threads_and_tasks_share_one_budget() -> None:
    model = ScriptedModel(lambda prompt: "ok", latency=0.01, limiter=Limiter(max_in_flight=2))
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=4) as pool:
        thread_calls = [loop.run_in_executor(pool, model.generate, f"t{i}") for i in range(6)]
        task_calls = [model.generate_async(f"a{i}") for i in range(6)]
        replies = await asyncio.gather(*thread_calls, *task_calls)
    assert len(replies) == 12
    assert model.peak_concurrency == 2


async def test_a_cancelled_waiter_leaves_no_trace() -> None:
    limiter = Limiter(max_in_flight=1)
    held = limiter.try_acquire()
    assert isinstance(held, Lease)

    async def wait_for_slot() -> None:
        async with limiter.hold_async():
            pass

    waiter = asyncio.create_task(wait_for_slot())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    held.release()
    assert limiter.in_flight == 0
    async with limiter.hold_async():
        assert limiter.in_flight == 1


async def test_blocking_call_inside_the_loop_does_not_deadlock_on_a_full_budget() -> None:
    model = ScriptedModel(["later", "now"], limiter=Limiter(max_in_flight=1))
    slot_taken = asyncio.Event()
    release = asyncio.Event()

    async def hold_the_only_slot() -> None:
        async with model.limiter.hold_async():
            slot_taken.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_only_slot())
    await slot_taken.wait()
    # Waiting here would deadlock: only this blocked loop could free the slot.
    with pytest.warns(RuntimeWarning, match="generate_async"):
        assert model.generate("x").text == "later"
    release.set()
    await holder
    assert (await model.generate_async("y")).text == "now"


async def test_parallel_batch_node_obeys_the_model_budget_without_extra_code(mixed_flow: MixedFlow) -> None:
    model = ScriptedModel(lambda prompt: prompt[::-1], latency=0.01, limiter=Limiter(max_in_flight=3))
    words = [f"word{i}" for i in range(12)]
    # No max_concurrency on the batch node: the model's limiter is the only bound.
    result = await mixed_flow(model, "sync node", words, None)
    assert result.first == "edon cnys"
    assert result.items == [word[::-1] for word in words]
    assert model.peak_concurrency == 3
    assert result.sync_thread != threading.main_thread().name
