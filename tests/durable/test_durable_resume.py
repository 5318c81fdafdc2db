"""Resuming after a crash: nested flows continue at their next node, batches skip finished items."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from durable_helpers import Crash, Freezable

from rillflow import (
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchFlow,
    AsyncParallelBatchNode,
    BatchFlow,
    BatchNode,
    Flow,
    Node,
)
from rillflow.durable import (
    Checkpointer,
    CheckpointMismatchError,
    Done,
    MemoryCheckpointer,
    RunExistsError,
)
from rillflow.hooks import Path, RunHooks


class Crasher:
    """Crashes the run once, at the point named by ``arm``, freezing its checkpoint as it was."""

    def __init__(self) -> None:
        self.at: Any = None
        self.cp: Freezable | None = None
        self.ran: list[Any] = []

    def arm(self, cp: Freezable, at: Any) -> None:
        self.cp, self.at = cp, at
        self.ran.clear()

    def point(self, where: Any) -> None:
        self.ran.append(where)
        if where == self.at and self.cp is not None:
            self.at = None
            self.cp.crash()


CRASH = Crasher()


class Step(Node):
    """Appends its name to shared["log"]; a crash point."""

    def prep(self, shared: dict[str, Any]) -> Any:
        shared["log"].append(self.name)
        CRASH.point(self.name)


def nested() -> Flow:
    a, x, y, b = (Step(name=n) for n in ("A", "X", "Y", "B"))
    x >> y
    sub = Flow(start=x, name="Sub")
    a >> sub >> b
    return Flow(start=a, name="Top")


def test_a_nested_flow_continues_at_the_node_that_was_running(freezable: Freezable) -> None:
    CRASH.arm(freezable, "Y")
    with pytest.raises(Crash):
        nested().run({"log": []}, run_id="n", checkpointer=freezable)
    assert freezable.get("n").status == "running"  # the crash left it running
    CRASH.ran.clear()
    done = nested().resume("n", checkpointer=freezable.inner)
    assert isinstance(done, Done)
    assert CRASH.ran == ["Y", "B"]
    assert done.shared["log"] == ["A", "X", "Y", "B"]  # Y's first, unsaved entry is gone with the crash


class Count(Node):
    def prep(self, shared: dict[str, Any]) -> Any:
        CRASH.point(shared["n"])
        return shared["n"]

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        shared["n"] += 1
        shared["seen"].append(prep_res)
        return "again" if shared["n"] < 10 else "stop"


def loop() -> Flow:
    count = Count()
    count - "again" >> count
    count - "stop" >> Step(name="End")
    return Flow(start=count, name="Loop")


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_a_loop_resumes_where_each_mode_says(freezable: Freezable, durability: Any) -> None:
    CRASH.arm(freezable, 6)
    with pytest.raises(Crash):
        loop().run({"n": 0, "seen": [], "log": []}, run_id="l", checkpointer=freezable, durability=durability)
    stored_n = int(freezable.inner.load("l").entries[("s", "n")])
    # sync saved every step; async at least the start and at most every step; exit only the start.
    if durability == "sync":
        assert stored_n == 6
    elif durability == "exit":
        assert stored_n == 0
    else:
        assert 0 <= stored_n <= 6
    done = loop().resume("l", checkpointer=freezable.inner, durability=durability)
    assert isinstance(done, Done)
    assert done.shared["seen"] == list(range(10))  # nothing lost, nothing counted twice
    assert done.shared["log"] == ["End"]


class Square(BatchNode):
    def prep(self, shared: dict[str, Any]) -> Any:
        return list(range(8))

    def exec(self, item: int) -> int:
        CRASH.point(item)
        return item * item

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["squares"] = exec_res


def test_a_batch_node_reruns_only_unfinished_items(freezable: Freezable) -> None:
    CRASH.arm(freezable, 5)
    with pytest.raises(Crash):
        Flow(start=Square()).run({}, run_id="b", checkpointer=freezable)
    done = Flow(start=Square()).resume("b", checkpointer=freezable.inner)
    assert done.shared["squares"] == [i * i for i in range(8)]
    assert CRASH.ran == [0, 1, 2, 3, 4, 5, 5, 6, 7]


class Slow(AsyncParallelBatchNode):
    async def prep_async(self, shared: dict[str, Any]) -> Any:
        return list(range(20))

    async def exec_async(self, item: int) -> int:
        CRASH.point(item)
        await asyncio.sleep(0)
        return item + 100

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["out"] = exec_res


async def test_a_parallel_batch_node_reruns_only_items_not_recorded(freezable: Freezable) -> None:
    CRASH.arm(freezable, 13)
    with pytest.raises(Crash):
        await AsyncFlow(start=Slow(max_concurrency=4)).run_async({}, run_id="p", checkpointer=freezable)
    first = list(CRASH.ran)
    recorded = finished_items(freezable, "p")
    assert len(recorded) >= 9  # recorded as they finished, before the crash
    CRASH.ran.clear()
    done = await AsyncFlow(start=Slow(max_concurrency=4)).resume_async("p", checkpointer=freezable.inner)
    assert done.shared["out"] == [i + 100 for i in range(20)]
    assert 13 in CRASH.ran
    assert not recorded & set(CRASH.ran)  # only items not recorded at the crash ran again
    assert sorted(set(CRASH.ran) | set(first)) == list(range(20))


def finished_items(cp: Freezable, run_id: str) -> set[int]:
    return {json.loads(key)[-1] for ns, key in cp.inner.load(run_id).entries if ns == "i"}


class Write(AsyncNode):
    async def exec_async(self, prep_res: Any) -> Any:
        CRASH.point(self.params["i"])
        return self.params["i"]

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["results"][str(exec_res)] = exec_res * 2


class Items(AsyncParallelBatchFlow):
    async def prep_async(self, shared: dict[str, Any]) -> Any:
        return [{"i": i} for i in range(30)]


async def test_a_parallel_batch_flow_keeps_finished_items_results(freezable: Freezable) -> None:
    CRASH.arm(freezable, 17)
    with pytest.raises(Crash):
        await Items(start=Write(), max_concurrency=3).run_async(
            {"results": {}}, run_id="f", checkpointer=freezable
        )
    recorded = finished_items(freezable, "f")
    saved = json.loads(freezable.inner.load("f").entries[("s", "results")])
    assert recorded and recorded <= {int(k) for k in saved}  # an item and its writes are saved together
    CRASH.ran.clear()
    done = await Items(start=Write(), max_concurrency=3).resume_async("f", checkpointer=freezable.inner)
    assert done.shared["results"] == {str(i): i * 2 for i in range(30)}
    assert 17 in CRASH.ran
    assert not recorded & set(CRASH.ran)


class Half(Node):
    def prep(self, shared: dict[str, Any]) -> Any:
        CRASH.point((self.name, self.params["i"]))

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["done"].append((self.name, self.params["i"]))


class Each(BatchFlow):
    def prep(self, shared: dict[str, Any]) -> Any:
        return [{"i": i} for i in range(4)]


def each() -> Each:
    first, second = Half(name="First"), Half(name="Second")
    first >> second
    return Each(start=first)


def test_a_batch_flow_item_resumes_inside_its_sub_flow(freezable: Freezable) -> None:
    CRASH.arm(freezable, ("Second", 2))
    with pytest.raises(Crash):
        each().run({"done": []}, run_id="e", checkpointer=freezable)
    CRASH.ran.clear()
    done = each().resume("e", checkpointer=freezable.inner)
    assert CRASH.ran == [("Second", 2), ("First", 3), ("Second", 3)]  # item 2 resumed at its second node
    assert [tuple(d) for d in done.shared["done"]] == [(n, i) for i in range(4) for n in ("First", "Second")]


def test_a_run_that_raised_is_saved_as_failed_and_resumes_at_the_failed_node() -> None:
    cp = MemoryCheckpointer()
    calls: list[str] = []

    class Flaky(Node):
        def exec(self, prep_res: Any) -> Any:
            calls.append("flaky")
            if len(calls) == 1:
                raise ValueError("boom")

    CRASH.arm(Freezable(cp), None)
    a, flaky = Step(name="A"), Flaky()
    a >> flaky
    with pytest.raises(ValueError, match="boom") as info:
        Flow(start=a).run({"log": []}, run_id="x", checkpointer=cp)
    assert any("flow.resume('x')" in note for note in info.value.__notes__)
    assert cp.get("x").status == "failed"
    done = Flow(start=a).resume("x", checkpointer=cp)
    assert done.shared["log"] == ["A"]
    assert calls == ["flaky", "flaky"]
    assert Flow(start=a).resume("x", checkpointer=cp) == done  # a finished run is returned, not re-run


def test_a_flow_of_another_shape_is_refused_naming_the_difference() -> None:
    cp = Freezable(MemoryCheckpointer())
    CRASH.arm(cp, "X")
    with pytest.raises(Crash):
        nested().run({"log": []}, run_id="m", checkpointer=cp)
    changed = nested()
    changed.start_node.successors["default"].start_node = Step(name="Z")  # Sub now starts at Z
    with pytest.raises(CheckpointMismatchError, match=r"Top > Sub > X.*absent") as info:
        changed.resume("m", checkpointer=cp.inner)
    assert "Top > Sub > Z" in str(info.value)


def test_a_batch_whose_items_changed_is_refused(freezable: Freezable) -> None:
    CRASH.arm(freezable, 5)
    with pytest.raises(Crash):
        Flow(start=Square()).run({}, run_id="b", checkpointer=freezable)

    class Fewer(Square):
        def prep(self, shared: dict[str, Any]) -> Any:
            return list(range(6))

    fewer = Flow(start=Square())
    fewer.start_node.prep = Fewer().prep  # type: ignore[method-assign]
    with pytest.raises(CheckpointMismatchError, match=r"had 8 items .* has 6"):
        fewer.resume("b", checkpointer=freezable.inner)


def test_run_ids_are_not_reused_and_params_are_restored(checkpointer: Checkpointer) -> None:
    seen: list[Any] = []

    class P(Node):
        def prep(self, shared: Any) -> Any:
            seen.append(self.params.get("user"))
            return self.interrupt("go?")

    flow = Flow(start=P())
    flow.set_params({"user": "ann"})
    paused = flow.run({}, run_id="same", checkpointer=checkpointer)
    assert paused.paused
    with pytest.raises(RunExistsError, match=r"flow\.resume"):
        flow.run({}, run_id="same", checkpointer=checkpointer)
    fresh = Flow(start=P())  # a new process builds the flow again, without the params
    fresh.resume("same", "yes", checkpointer=checkpointer)
    assert seen == ["ann", "ann"]


def test_the_callers_hooks_run_alongside_and_plain_runs_are_untouched() -> None:
    steps: list[Path] = []

    class Seen(RunHooks):
        def on_step(self, *, path: Path, **_: Any) -> None:
            steps.append(path)

    CRASH.arm(Freezable(MemoryCheckpointer()), None)
    shared = {"n": 0, "seen": [], "log": []}
    done = loop().run(shared, run_id="h", checkpointer=MemoryCheckpointer(), hooks=Seen())
    assert isinstance(done, Done)
    assert len(steps) == 11
    plain = {"n": 0, "seen": [], "log": []}
    assert loop().run(plain) is None  # no options: the plain run returns the flow's last action
    assert plain["seen"] == list(range(10))


def test_a_durable_run_needs_a_checkpointer_and_a_known_mode() -> None:
    with pytest.raises(ValueError, match="checkpointer="):
        loop().run({}, run_id="x")
    with pytest.raises(ValueError, match="durability"):
        loop().run({}, checkpointer=MemoryCheckpointer(), durability="sometimes")


def test_an_async_flow_runs_and_resumes_durably_from_sync_code() -> None:
    cp = MemoryCheckpointer()

    class Ask(AsyncNode):
        async def exec_async(self, prep_res: Any) -> Any:
            return self.interrupt("ok?")

        async def post_async(self, shared: dict[str, Any], prep_res: Any, answer: Any) -> None:
            shared["answer"] = answer

    paused = AsyncFlow(start=Ask()).run({}, run_id="a", checkpointer=cp)
    assert paused.paused
    assert AsyncFlow(start=Ask()).resume("a", "yes", checkpointer=cp).shared == {"answer": "yes"}


def test_a_flow_that_contains_itself_runs_durably(checkpointer: Checkpointer) -> None:
    class Again(Node):
        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["n"] = shared.get("n", 0) + 1
            return "again" if shared["n"] < 3 else "out"

    again = Again()
    recursive = Flow(again, name="Recursive")
    again - "again" >> recursive
    again - "out" >> Node(name="Out")
    result = recursive.run({}, run_id="self", checkpointer=checkpointer)
    assert isinstance(result, Done)
    assert result.shared == {"n": 3}
