"""The event loop: sync work in threads, async by method, sync APIs misused inside a loop."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import rillflow as rf


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


async def test_awaiting_a_sync_run_fails_before_anything_runs_and_names_run_async() -> None:
    ran: list[str] = []

    class Step(rf.AsyncNode):
        async def exec_async(self, prep_res: Any) -> None:
            ran.append("step")

    flow = rf.AsyncFlow(Step())
    with pytest.raises(TypeError, match=r"AsyncFlow\.run\(\) cannot be awaited.*run_async"):
        await flow.run({})
    with pytest.raises(TypeError, match=r"AsyncFlow\.resume\(\) cannot be awaited.*resume_async"):
        await flow.resume("some-run")
    assert ran == []


def test_batch_async_flow_is_the_old_name_of_async_batch_flow() -> None:
    class Step(rf.AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
            shared.setdefault("seen", []).append(self.params["i"])

    class Each(rf.BatchAsyncFlow):
        async def prep_async(self, shared: Any) -> Any:
            return [{"i": 1}, {"i": 2}]

    with pytest.warns(DeprecationWarning, match="use AsyncBatchFlow"):
        flow = Each(Step())
    shared: dict[str, Any] = {}
    flow.run(shared)
    assert isinstance(flow, rf.AsyncBatchFlow) and shared["seen"] == [1, 2]
