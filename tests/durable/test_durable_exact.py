"""A resumed durable run ends with the state one clean run would have: no step's changes applied twice.

Each test crashes a run at a chosen moment (the checkpoint is frozen as it was, as if the process had
died), resumes it, and compares ``shared`` with what one clean run gives.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from durable_helpers import Crash, Freezable

from rillflow import AsyncNode, AsyncParallelBatchFlow, Flow, Node
from rillflow.durable import Checkpointer, Done


class Work(AsyncNode):
    async def prep_async(self, shared: dict[str, Any]) -> int:
        shared["started"] += 1
        return int(self.params["i"])

    async def exec_async(self, i: int) -> int:
        await asyncio.sleep(0.5 if i == 0 else 0.05)
        return i

    async def post_async(self, shared: dict[str, Any], i: int, result: int) -> None:
        shared["posted"] += 1
        await asyncio.sleep(0.3 if i == 1 else 0)  # changes `shared`, then awaits
        shared["done"].append(result)


class Each(AsyncParallelBatchFlow):
    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, int]]:
        return [{"i": i} for i in range(4)]


async def crash_at(flow: Any, shared: dict[str, Any], cp: Freezable, seconds: float, run_id: str) -> None:
    run = asyncio.create_task(flow.run_async(shared, run_id=run_id, checkpointer=cp))
    await asyncio.sleep(seconds)
    cp.frozen = True  # the process dies: nothing after this moment is stored
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)


async def test_a_parallel_item_s_half_done_changes_are_not_saved_with_a_sibling_s_step(
    freezable: Freezable, checkpointer: Checkpointer
) -> None:
    fresh = {"started": 0, "posted": 0, "done": []}
    await crash_at(Each(Work()), fresh, freezable, 0.25, "p")  # item 0 in its exec, item 1 inside post
    resumed = await Each(Work()).resume_async("p", checkpointer=checkpointer)
    assert isinstance(resumed, Done)
    assert resumed.shared["started"] == 4
    assert resumed.shared["posted"] == 4
    assert sorted(resumed.shared["done"]) == [0, 1, 2, 3]


CRASH: dict[str, Any] = {}  # step number -> the checkpointer to freeze there


class Count(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["steps"] += 1
        if shared["steps"] in CRASH:
            CRASH.pop(shared["steps"]).crash()


class Sub(Flow):
    def prep(self, shared: dict[str, Any]) -> Any:
        shared["entered"] += 1
        return shared["entered"] * 10

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared["sub_prep_res"] = prep_res
        return exec_res


def nested() -> Flow:
    a, b = Count(name="A"), Count(name="B")
    a >> b
    sub = Sub(start=a, name="Sub")

    class Top(Flow):
        def prep(self, shared: dict[str, Any]) -> Any:
            shared["top_entered"] += 1

    first = Count(name="First")
    first >> sub >> Count(name="Last")
    return Top(start=first, name="Top")


def test_a_nested_flow_s_prep_does_not_run_again_on_resume(freezable: Freezable) -> None:
    CRASH[3] = freezable  # the process dies in Sub's second node
    with pytest.raises(Crash):
        nested().run({"entered": 0, "top_entered": 0, "steps": 0}, run_id="n", checkpointer=freezable)
    resumed = nested().resume("n", checkpointer=freezable.inner)
    assert isinstance(resumed, Done)
    clean = {"entered": 0, "top_entered": 0, "steps": 0}
    nested().run(clean)
    assert resumed.shared == clean == {
        "entered": 1, "top_entered": 1, "steps": 4, "sub_prep_res": 10,
    }  # fmt: skip


def test_a_failed_node_resumes_after_its_prep() -> None:
    from rillflow.durable import MemoryCheckpointer

    class Flaky(Node):
        fail = True

        def prep(self, shared: dict[str, Any]) -> Any:
            shared["prepped"] += 1
            return shared["prepped"]

        def exec(self, prep_res: Any) -> Any:
            if Flaky.fail:
                raise RuntimeError("service down")
            return prep_res

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
            shared["result"] = exec_res

    cp = MemoryCheckpointer()
    shared = {"prepped": 0}
    try:
        Flow(Flaky()).run(shared, run_id="f", checkpointer=cp)
    except RuntimeError:
        pass
    Flaky.fail = False
    done = Flow(Flaky()).resume("f", checkpointer=cp)
    assert done.shared == {"prepped": 1, "result": 1}


def test_a_node_may_ask_for_its_prep_to_run_again_on_resume() -> None:
    from rillflow.durable import MemoryCheckpointer

    class Ask(Node):
        resume_runs_prep = True  # its prep only reads `shared`, and keeps what exec needs on the node

        def prep(self, shared: dict[str, Any]) -> Any:
            self.who = shared["who"]

        def exec(self, prep_res: Any) -> Any:
            return f"{self.who}: {self.interrupt('ok?')}"

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
            shared["said"] = exec_res

    cp = MemoryCheckpointer()
    assert Flow(Ask()).run({"who": "ann"}, run_id="a", checkpointer=cp).paused
    assert Flow(Ask()).resume("a", "yes", checkpointer=cp).shared["said"] == "ann: yes"
