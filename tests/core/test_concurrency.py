"""Parallel batches: structured fail-fast, collect mode, max_concurrency, any iterable."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import rillflow as rf
from rillflow import node_path


# --- structured concurrency -----------------------------------------------------------------------
async def test_failing_item_cancels_siblings_and_is_named() -> None:
    class Fan(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> Any:
            return list(range(6))

        async def exec_async(self, item: int) -> Any:
            if item == 3:
                await asyncio.sleep(0.01)
                raise RuntimeError("item three broke")
            try:
                await asyncio.sleep(0.3)
            except asyncio.CancelledError:
                cancelled.append(item)
                raise
            shared["late_writes"].append(item)  # must never happen
            return item

    cancelled: list[int] = []
    shared: dict[str, Any] = {"late_writes": []}
    flow = rf.AsyncFlow(Fan(), name="Pipeline")
    with pytest.raises(RuntimeError, match="item three broke") as info:
        await flow.run_async(shared)
    assert sorted(cancelled) == [0, 1, 2, 4, 5]
    await asyncio.sleep(0.35)
    assert shared["late_writes"] == []
    assert node_path(info.value) == ["Pipeline", "Fan", "item 3 of 6"]
    assert "rillflow: raised in Pipeline > Fan > item 3 of 6" in info.value.__notes__


async def test_failing_sub_flow_cancels_sibling_sub_flows() -> None:
    class Step(rf.AsyncNode):
        async def exec_async(self, prep_res: Any) -> Any:
            if self.params["i"] == 1:
                raise ValueError("sub-flow 1 failed")
            await asyncio.sleep(0.3)
            finished.append(self.params["i"])

    class Fan(rf.AsyncParallelBatchFlow):
        async def prep_async(self, shared: Any) -> Any:
            return [{"i": i} for i in range(4)]

        async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            raise AssertionError("post must not run after a failure")

    finished: list[int] = []
    with pytest.raises(ValueError, match="sub-flow 1 failed") as info:
        await Fan(Step()).run_async({})
    await asyncio.sleep(0.35)
    assert finished == []
    assert node_path(info.value) == ["Fan", "item 1 of 4 {'i': 1}", "Step"]


async def test_collect_mode_returns_every_result_or_exception() -> None:
    class Fan(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> Any:
            return [1, 0, 2, 0]

        async def exec_async(self, item: int) -> Any:
            await asyncio.sleep(0.001)
            return 10 // item

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    shared: dict[str, Any] = {}
    await Fan(fail_fast=False).run_async(shared)
    out = shared["out"]
    assert out[0] == 10 and out[2] == 5
    assert isinstance(out[1], ZeroDivisionError) and isinstance(out[3], ZeroDivisionError)
    assert node_path(out[3]) == ["item 3 of 4"]


async def test_collect_mode_for_parallel_batch_flow_runs_post() -> None:
    class Step(rf.AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            if self.params["i"] % 2:
                raise ValueError(self.params["i"])
            shared["ok"].append(self.params["i"])

    class Fan(rf.AsyncParallelBatchFlow):
        async def prep_async(self, shared: Any) -> Any:
            return [{"i": i} for i in range(4)]

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["post_ran"] = True

    shared: dict[str, Any] = {"ok": []}
    await Fan(Step(), fail_fast=False).run_async(shared)
    assert sorted(shared["ok"]) == [0, 2] and shared["post_ran"]


# --- bounded concurrency --------------------------------------------------------------------------
@pytest.mark.parametrize(("limit", "items"), [(1, 5), (3, 20), (7, 7), (50, 10)])
async def test_max_concurrency_bounds_items_in_flight(limit: int, items: int) -> None:
    in_flight = peak = 0

    class Bounded(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> Any:
            return list(range(items))

        async def exec_async(self, item: int) -> Any:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.002)
            in_flight -= 1
            return item

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    shared: dict[str, Any] = {}
    await Bounded(max_concurrency=limit).run_async(shared)
    assert shared["out"] == list(range(items))
    assert peak == min(limit, items)


async def test_max_concurrency_on_parallel_batch_flow() -> None:
    in_flight = peak = 0

    class Step(rf.AsyncNode):
        async def exec_async(self, prep_res: Any) -> Any:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.002)
            in_flight -= 1

    class Fan(rf.AsyncParallelBatchFlow):
        async def prep_async(self, shared: Any) -> Any:
            return [{"i": i} for i in range(12)]

    await Fan(Step(), max_concurrency=4).run_async({})
    assert peak == 4


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_invalid_max_concurrency(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        rf.AsyncParallelBatchNode(max_concurrency=bad)
    with pytest.raises(ValueError, match="max_concurrency"):
        rf.AsyncParallelBatchFlow(max_concurrency=bad)


async def test_parallel_batch_accepts_any_iterable() -> None:
    class FromGenerator(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> Any:
            return (i for i in range(3))

        async def exec_async(self, item: int) -> Any:
            return item + 1

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    class FromDict(rf.AsyncParallelBatchFlow):
        async def prep_async(self, shared: Any) -> Any:
            return {"a": 1}  # iterating a dict gives its keys, as in PocketFlow

    shared: dict[str, Any] = {}
    await FromGenerator().run_async(shared)
    assert shared["out"] == [1, 2, 3]
    with pytest.raises(TypeError) as info:
        await FromDict(rf.Node()).run_async({})
    assert node_path(info.value) == ["FromDict", "item 0 of 1 'a'"]


@pytest.mark.parametrize("fail_fast", [True, False])
async def test_single_item_batch_runs_inline_with_the_same_semantics(fail_fast: bool) -> None:
    class One(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> Any:
            return [0]

        async def exec_async(self, item: int) -> Any:
            return 1 // item

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    shared: dict[str, Any] = {}
    if fail_fast:
        with pytest.raises(ZeroDivisionError) as info:
            await One(fail_fast=True).run_async(shared)
        assert node_path(info.value) == ["One", "item 0 of 1"]
    else:
        await One(fail_fast=False).run_async(shared)
        assert isinstance(shared["out"][0], ZeroDivisionError)
        assert node_path(shared["out"][0]) == ["item 0 of 1"]
