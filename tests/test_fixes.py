"""What PocketFlow gets wrong, fixed in rillflow: one test (at least) per fix."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import rillflow as rf
from rillflow import node_path


# --- params isolation -----------------------------------------------------------------------------
def test_node_writing_self_params_does_not_leak_to_later_nodes() -> None:
    class Writer(rf.Node):
        def prep(self, shared: Any) -> Any:
            self.params["leak"] = "oops"
            self.params["k"] = "changed"

    class Reader(rf.Node):
        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["seen"] = dict(self.params)

    writer = Writer()
    writer >> Reader()
    flow = rf.Flow(writer)
    flow.set_params({"k": "v"})
    shared: dict[str, Any] = {}
    flow.run(shared)
    assert shared["seen"] == {"k": "v"}
    assert flow.params == {"k": "v"}


# --- cur_retry under parallel execution -----------------------------------------------------------
async def test_cur_retry_is_per_item_under_parallel_execution() -> None:
    class Flaky(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> Any:
            return list(range(5))

        async def exec_async(self, item: int) -> Any:
            attempt = self.cur_retry
            await asyncio.sleep(0.001 * (5 - item))  # interleave items
            if attempt < 2:
                raise ValueError(f"item {item} attempt {attempt}")
            return (item, attempt)

        async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
            return ("fell back early", str(exc))

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    shared: dict[str, Any] = {}
    await Flaky(max_retries=3).run_async(shared)
    assert shared["out"] == [(i, 2) for i in range(5)]


async def test_async_cur_retry_visible_in_exec_and_fallback() -> None:
    class Node(rf.AsyncNode):
        async def exec_async(self, prep_res: Any) -> Any:
            raise ValueError(self.cur_retry)

        async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
            return (str(exc), self.cur_retry)

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["res"] = exec_res

    shared: dict[str, Any] = {}
    await Node(max_retries=3).run_async(shared)
    assert shared["res"] == ("2", 2)


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


# --- never block the loop -------------------------------------------------------------------------
class Ticker:
    """Counts 5 ms ticks of the event loop while it runs: a blocked loop stops ticking."""

    def __init__(self) -> None:
        self.ticks = 0

    async def __aenter__(self) -> Ticker:
        self.task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.005)
            self.ticks += 1


async def test_sync_exec_runs_in_a_worker_thread_prep_and_post_on_the_loop() -> None:
    loop_thread = threading.get_ident()

    class Blocking(rf.Node):
        def prep(self, shared: dict[str, Any]) -> Any:
            shared["prep_thread"] = threading.get_ident()

        def exec(self, prep_res: Any) -> Any:
            time.sleep(0.2)  # would freeze the ticker if run on the loop
            return threading.get_ident()

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["exec_thread"] = exec_res
            shared["post_thread"] = threading.get_ident()

    shared: dict[str, Any] = {}
    async with Ticker() as ticker:
        await rf.AsyncFlow(Blocking()).run_async(shared)
    assert shared["prep_thread"] == loop_thread == shared["post_thread"]
    assert shared["exec_thread"] != loop_thread
    assert ticker.ticks >= 10  # the loop kept running during the 0.2 s exec


async def test_node_can_opt_out_of_the_worker_thread() -> None:
    class OnLoop(rf.Node):
        exec_in_thread = False

        def exec(self, prep_res: Any) -> Any:
            return threading.get_ident()

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["t"] = exec_res

    shared: dict[str, Any] = {}
    await rf.AsyncFlow(OnLoop()).run_async(shared)
    assert shared["t"] == threading.get_ident()


async def test_retry_wait_in_async_context_does_not_block_the_loop() -> None:
    class Flaky(rf.Node):  # a sync node: its wait must still be asyncio.sleep inside an AsyncFlow
        def exec(self, prep_res: Any) -> Any:
            if self.cur_retry == 0:
                raise ValueError
            return "ok"

    async with Ticker() as ticker:
        await rf.AsyncFlow(Flaky(max_retries=2, wait=0.2)).run_async({})
    assert ticker.ticks >= 10


# --- async by method ------------------------------------------------------------------------------
async def test_plain_node_with_async_def_phases_runs_in_async_flow() -> None:
    class Mixed(rf.Node):
        async def prep(self, shared: dict[str, Any]) -> Any:
            await asyncio.sleep(0)
            return shared["x"]

        async def exec(self, prep_res: Any) -> Any:
            raise ValueError(prep_res)

        async def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            await asyncio.sleep(0)
            return f"fallback {exc}"

        async def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res
            return "done"

    shared: dict[str, Any] = {"x": 7}
    assert await rf.AsyncFlow(Mixed()).run_async(shared) == "done"
    assert shared["out"] == "fallback 7"
    with pytest.raises(RuntimeError, match="run_async"):
        rf.Flow(Mixed()).run({"x": 1})


async def test_async_node_may_keep_phases_sync_and_both_spellings_work() -> None:
    class SyncPhases(rf.AsyncNode):
        def prep(self, shared: dict[str, Any]) -> Any:
            return 2

        def exec(self, prep_res: Any) -> Any:
            return (prep_res * 3, threading.get_ident())

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    shared: dict[str, Any] = {}
    await rf.AsyncFlow(SyncPhases()).run_async(shared)
    assert shared["out"][0] == 6 and shared["out"][1] != threading.get_ident()

    class Instance(rf.AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    async def exec_override(prep_res: Any) -> Any:
        return "instance async exec"

    node = Instance()
    node.exec_async = exec_override  # type: ignore[method-assign]
    await rf.AsyncFlow(node).run_async(shared)
    assert shared["out"] == "instance async exec"


# --- sync APIs where they cannot work -------------------------------------------------------------
@pytest.mark.parametrize("flow_cls", [rf.AsyncBatchFlow, rf.AsyncParallelBatchFlow, rf.AsyncFlow])
def test_async_flows_nested_in_sync_flow_raise(flow_cls: type[rf.AsyncFlow]) -> None:
    class Items(flow_cls):  # type: ignore[valid-type,misc]
        async def prep_async(self, shared: Any) -> Any:
            return [{"i": 1}]

    ran: list[str] = []

    class Step(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            ran.append("ran")

    with pytest.raises(rf.AsyncNodeInSyncFlowError, match="run_async"):
        rf.Flow(Items(Step())).run({})
    assert ran == []


def test_async_flow_run_outside_a_loop_runs_it() -> None:
    class Step(rf.AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["ok"] = True
            return "end"

    shared: dict[str, Any] = {}
    assert rf.AsyncFlow(Step()).run(shared) == "end"
    assert shared == {"ok": True}


async def test_sync_run_inside_running_loop_warns_and_names_run_async() -> None:
    class Step(rf.AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["loop"] = asyncio.get_running_loop()
            return "end"

    shared: dict[str, Any] = {}
    with pytest.warns(RuntimeWarning, match="run_async"):
        assert rf.AsyncFlow(Step()).run(shared) == "end"
    assert shared["loop"] is not asyncio.get_running_loop()  # ran on its own loop, no nesting


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_max_retries_below_one_raises(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        rf.Node(max_retries=bad)
    with pytest.raises(ValueError, match="max_retries"):
        rf.AsyncParallelBatchNode(max_retries=bad)


@pytest.mark.parametrize("cls", [rf.AsyncBatchNode, rf.AsyncParallelBatchNode])
async def test_async_batch_nodes_accept_none(cls: type[rf.AsyncNode]) -> None:
    class Empty(cls):  # type: ignore[valid-type,misc]
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    shared: dict[str, Any] = {}
    await Empty().run_async(shared)
    assert shared["out"] == []


@pytest.mark.parametrize("cls", [rf.AsyncBatchFlow, rf.AsyncParallelBatchFlow])
async def test_async_batch_flows_accept_none(cls: type[rf.AsyncFlow]) -> None:
    shared: dict[str, Any] = {}
    assert await cls(rf.Node()).run_async(shared) is None


# --- guard rails ----------------------------------------------------------------------------------
def test_max_steps_stops_a_runaway_loop_naming_the_node() -> None:
    class Again(rf.Node):
        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["n"] = shared.get("n", 0) + 1
            return "again"

    loop = Again()
    loop - "again" >> loop
    shared: dict[str, Any] = {}
    with pytest.raises(rf.MaxStepsExceeded, match="before running Again: max_steps=5"):
        rf.Flow(loop, max_steps=5).run(shared)
    assert shared["n"] == 5


async def test_max_steps_in_async_flow() -> None:
    loop = rf.AsyncNode()
    loop >> loop
    with pytest.raises(rf.MaxStepsExceeded):
        await rf.AsyncFlow(loop, max_steps=3).run_async({})


def test_strict_mode_turns_missing_successor_into_an_error() -> None:
    class Decide(rf.Node):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            return "unknown"

    decide = Decide()
    decide - "search" >> rf.Node()
    with pytest.raises(rf.MissingSuccessorError, match=r"'unknown'.*\['search'\]"):
        rf.Flow(decide, strict=True).run({})


def test_exception_note_names_node_path_in_nested_flows() -> None:
    class Decide(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            raise KeyError("no decision")

    inner = rf.Flow(rf.Node(), name="Inner")
    inner.start_node >> Decide()
    outer = rf.Flow(inner, name="ResearchFlow")
    with pytest.raises(KeyError) as info:
        outer.run({})
    assert info.value.__notes__ == ["rillflow: raised in ResearchFlow > Inner > Decide"]
    assert node_path(info.value) == ["ResearchFlow", "Inner", "Decide"]


async def test_exception_note_in_async_flow_and_batch_items() -> None:
    class Broken(rf.BatchNode):
        def prep(self, shared: Any) -> Any:
            return ["a", "b"]

        def exec(self, item: str) -> Any:
            if item == "b":
                raise ValueError(item)

    with pytest.raises(ValueError) as info:
        await rf.AsyncFlow(Broken(name="Parse"), name="Top").run_async({})
    assert info.value.__notes__ == ["rillflow: raised in Top > Parse > item 1"]


def test_standalone_node_error_note() -> None:
    class Solo(rf.Node):
        def prep(self, shared: Any) -> Any:
            raise OSError("disk")

    with pytest.raises(OSError) as info:
        Solo().run({})
    assert info.value.__notes__ == ["rillflow: raised in Solo"]


# --- retry policy ---------------------------------------------------------------------------------
def test_exponential_backoff_with_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)

    class Fails(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            raise ConnectionError

        def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            return "gave up"

    Fails(max_retries=6, wait=0.1, backoff=2, max_wait=1.0).run({})
    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])


def test_jitter_stays_within_its_fraction() -> None:
    node = rf.Node(wait=1.0, jitter=0.25, backoff=3)
    delays = [node.retry_delay(1) for _ in range(200)]
    assert all(2.25 <= d <= 3.75 for d in delays)
    assert len(set(delays)) > 100  # actually random


def test_retry_on_limits_which_exceptions_are_retried() -> None:
    class Picky(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            self.attempts = getattr(self, "attempts", 0) + 1
            raise (ConnectionError if self.cur_retry == 0 else ValueError)("x")

        def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            return (type(exc).__name__, self.attempts)

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["res"] = exec_res

    shared: dict[str, Any] = {}
    Picky(max_retries=5, retry_on=ConnectionError).run(shared)
    assert shared["res"] == ("ValueError", 2)  # retried the ConnectionError, not the ValueError


async def test_per_attempt_timeout_counts_as_a_failed_attempt() -> None:
    class Slow(rf.AsyncNode):
        async def exec_async(self, prep_res: Any) -> Any:
            if self.cur_retry < 2:
                await asyncio.sleep(5)
            return f"attempt {self.cur_retry}"

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["res"] = exec_res

    shared: dict[str, Any] = {}
    started = time.perf_counter()
    await Slow(max_retries=3, timeout=0.05).run_async(shared)
    assert shared["res"] == "attempt 2"
    assert time.perf_counter() - started < 2  # the 5 s sleeps were cut short

    with pytest.raises(TimeoutError, match=r"exec attempt 2 timed out after 0\.05s"):
        await Slow(max_retries=2, timeout=0.05).run_async({})


def test_timeout_in_sync_run_warns_that_it_is_not_enforced() -> None:
    with pytest.warns(UserWarning, match="timeout is enforced only"):
        rf.Node(timeout=1).run({})


@pytest.mark.parametrize(
    "kwargs",
    [{"wait": -1}, {"backoff": 0.5}, {"jitter": 2}, {"max_wait": -1}, {"timeout": 0}],
)
def test_invalid_retry_policy(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        rf.Node(**kwargs)


def test_flow_argument_validation() -> None:
    with pytest.raises(ValueError, match="max_steps"):
        rf.Flow(max_steps=0)
    with pytest.raises(TypeError, match="start must be a node"):
        rf.Flow("not a node")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="successor must be a node"):
        rf.Node() >> "nope"  # type: ignore[operator]


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
