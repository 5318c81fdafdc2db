"""Events delivered to listeners: exact sequences for each shape of flow, and listener behaviour."""

from __future__ import annotations

import asyncio
import re
import warnings
from collections import Counter
from typing import Any

import pytest
from observe_helpers import Recorder

import rillflow as rf
from rillflow.errors import Interrupt
from rillflow.hooks import emit
from rillflow.observe import Error, ItemEnd, NodeEnd, Pause, Retry, RunEnd, listener_hooks


class Decide(rf.Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        return str(shared["answer"])


class Yes(rf.Node):
    pass


class No(rf.Node):
    pass


def test_branching_flow_reports_the_taken_branch(recorder: Recorder) -> None:
    decide = Decide()
    decide - "yes" >> Yes()
    decide - "no" >> No()
    rf.Flow(decide, name="Branchy").run({"answer": "no"}, listeners=[recorder])
    assert recorder.brief() == [
        ("run_start", "Branchy"),
        ("node_start", "Branchy > Decide"),
        ("node_end", "Branchy > Decide"),
        ("node_start", "Branchy > No"),
        ("node_end", "Branchy > No"),
        ("run_end", "Branchy"),
    ]
    ends: list[NodeEnd] = recorder.of("node_end")
    assert [(e.action, e.node_type, e.retries, e.error) for e in ends] == [
        ("no", "Decide", 0, None),
        (None, "No", 0, None),
    ]


class Count(rf.Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        shared["n"] += 1
        return "again" if shared["n"] < 3 else "done"


def test_loop_revisits_the_same_node_key_and_same_class_nodes_get_numbered(recorder: Recorder) -> None:
    count, last = Count(), Count()
    count - "again" >> count
    count - "done" >> last
    shared = {"n": 0}
    rf.Flow(count).run(shared, listeners=[recorder])
    assert recorder.brief(skip=frozenset({"node_start"})) == [
        ("run_start", "Flow"),
        ("node_end", "Flow > Count"),
        ("node_end", "Flow > Count"),
        ("node_end", "Flow > Count"),
        ("node_end", "Flow > Count#2"),
        ("run_end", "Flow"),
    ]
    assert [e.action for e in recorder.of("node_end")] == ["again", "again", "done", "done"]


class Say(rf.Node):
    def exec(self, prep_res: Any) -> str:
        emit("text", f"hi from {self.params.get('who', 'me')}")
        return "said"


def nested_flow() -> rf.Flow:
    say = Say()
    say >> No()
    inner = rf.Flow(say, name="Inner")
    first = Yes()
    first >> inner
    return rf.Flow(first, name="Outer")


EXPECTED_NESTED = [
    ("run_start", "Outer"),
    ("node_start", "Outer > Yes"),
    ("node_end", "Outer > Yes"),
    ("node_start", "Outer > Inner"),
    ("node_start", "Outer > Inner > Say"),
    ("text", "Outer > Inner > Say"),
    ("node_end", "Outer > Inner > Say"),
    ("node_start", "Outer > Inner > No"),
    ("node_end", "Outer > Inner > No"),
    ("node_end", "Outer > Inner"),
    ("run_end", "Outer"),
]


def test_nested_flow_events_carry_the_full_path(recorder: Recorder) -> None:
    nested_flow().run({}, listeners=[recorder])
    assert recorder.brief() == EXPECTED_NESTED
    assert recorder.of("text")[0].data == "hi from me"


async def test_nested_flow_events_are_the_same_in_an_async_run(recorder: Recorder) -> None:
    await nested_flow().run_async({}, listeners=[recorder])
    assert recorder.brief() == EXPECTED_NESTED


class Double(rf.BatchNode):
    def prep(self, shared: dict[str, Any]) -> list[int]:
        return list(shared["items"])

    def exec(self, item: int) -> int:
        return item * 2


def test_batch_node_reports_each_item_with_its_result(recorder: Recorder) -> None:
    rf.Flow(Double(), name="B").run({"items": [1, 2, 3]}, listeners=[recorder])
    assert recorder.brief() == [
        ("run_start", "B"),
        ("node_start", "B > Double"),
        ("items", "B > Double"),
        *[pair for _ in range(3) for pair in (("item_start", "B > Double"), ("item_end", "B > Double"))],
        ("node_end", "B > Double"),
        ("run_end", "B"),
    ]
    assert recorder.of("items")[0].total == 3
    assert [(e.index, e.result) for e in recorder.of("item_end")] == [(0, 2), (1, 4), (2, 6)]


class PerItem(rf.BatchFlow):
    def prep(self, shared: dict[str, Any]) -> list[dict[str, str]]:
        return [{"who": "ann"}, {"who": "bob"}]


def test_batch_flow_items_put_the_item_index_in_the_path(recorder: Recorder) -> None:
    PerItem(Say(), name="Greet").run({}, listeners=[recorder])
    assert recorder.brief() == [
        ("run_start", "Greet"),
        ("items", "Greet"),
        ("item_start", "Greet"),
        ("node_start", "Greet > #0 > Say"),
        ("text", "Greet > #0 > Say"),
        ("node_end", "Greet > #0 > Say"),
        ("item_end", "Greet"),
        ("item_start", "Greet"),
        ("node_start", "Greet > #1 > Say"),
        ("text", "Greet > #1 > Say"),
        ("node_end", "Greet > #1 > Say"),
        ("item_end", "Greet"),
        ("run_end", "Greet"),
    ]
    assert [e.data for e in recorder.of("text")] == ["hi from ann", "hi from bob"]


class Slow(rf.AsyncParallelBatchNode):
    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        return [3, 1, 2]

    async def exec_async(self, item: int) -> int:
        for _ in range(item):  # items finish in a different order than they start
            await asyncio.sleep(0)
        return item * 10


def assert_items_well_formed(recorder: Recorder, batch_path: str, total: int) -> None:
    """Concurrent items: each item starts before it ends, all inside the batch's items...node_end."""
    kinds = [(e.kind, getattr(e, "index", None)) for e in recorder.events if e.where == batch_path]
    kinds = [k for k in kinds if k[0] not in ("node_start", "node_end", "run_start", "run_end")]
    assert kinds[0] == ("items", None)
    item_events = [k for k in kinds if k[0] in ("item_start", "item_end")]
    assert Counter(item_events) == Counter(
        [("item_start", i) for i in range(total)] + [("item_end", i) for i in range(total)]
    )
    for i in range(total):
        assert item_events.index(("item_start", i)) < item_events.index(("item_end", i))


async def test_parallel_batch_node_reports_every_item_in_any_order(recorder: Recorder) -> None:
    await rf.AsyncFlow(Slow(), name="P").run_async({}, listeners=[recorder])
    assert recorder.brief()[:3] == [("run_start", "P"), ("node_start", "P > Slow"), ("items", "P > Slow")]
    assert recorder.brief()[-2:] == [("node_end", "P > Slow"), ("run_end", "P")]
    assert_items_well_formed(recorder, "P > Slow", 3)
    results = {e.index: e.result for e in recorder.of("item_end")}
    assert results == {0: 30, 1: 10, 2: 20}
    finish_order = [e.index for e in recorder.of("item_end")]
    assert finish_order == [1, 2, 0]  # really concurrent: the shortest item finished first


class ParallelGreet(rf.AsyncParallelBatchFlow):
    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, str]]:
        return [{"who": "ann"}, {"who": "bob"}, {"who": "cy"}]


async def test_parallel_batch_flow_reports_items_and_their_nodes(recorder: Recorder) -> None:
    await ParallelGreet(Say(), name="PG").run_async({}, listeners=[recorder])
    assert_items_well_formed(recorder, "PG", 3)
    node_events = Counter(pair for pair in recorder.brief() if pair[0] in ("node_start", "text", "node_end"))
    assert node_events == Counter(
        {(kind, f"PG > #{i} > Say"): 1 for i in range(3) for kind in ("node_start", "text", "node_end")}
    )
    assert sorted(e.data for e in recorder.of("text")) == ["hi from ann", "hi from bob", "hi from cy"]


class Flaky(rf.Node):
    def __init__(self, failures: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.failures = failures

    def exec(self, prep_res: Any) -> str:
        if self.cur_retry < self.failures:
            raise ValueError(f"attempt {self.cur_retry} failed")
        return "ok"

    def exec_fallback(self, prep_res: Any, exc: Exception) -> str:
        return "fallback"

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: str) -> None:
        shared["result"] = exec_res


def test_retries_are_reported_and_counted_on_node_end(recorder: Recorder) -> None:
    shared: dict[str, Any] = {}
    rf.Flow(Flaky(2, max_retries=3)).run(shared, listeners=[recorder])
    assert shared["result"] == "ok"
    assert recorder.brief() == [
        ("run_start", "Flow"),
        ("node_start", "Flow > Flaky"),
        ("retry", "Flow > Flaky"),
        ("retry", "Flow > Flaky"),
        ("node_end", "Flow > Flaky"),
        ("run_end", "Flow"),
    ]
    retries: list[Retry] = recorder.of("retry")
    assert [(r.attempt, str(r.error), r.delay) for r in retries] == [
        (0, "attempt 0 failed", 0),
        (1, "attempt 1 failed", 0),
    ]
    assert recorder.of("node_end")[0].retries == 2


def test_fallback_is_reported_after_the_last_attempt(recorder: Recorder) -> None:
    shared: dict[str, Any] = {}
    rf.Flow(Flaky(5, max_retries=2)).run(shared, listeners=[recorder])
    assert shared["result"] == "fallback"
    assert [kind for kind, _ in recorder.brief()] == [
        "run_start", "node_start", "retry", "fallback", "node_end", "run_end",
    ]  # fmt: skip
    assert str(recorder.of("fallback")[0].error) == "attempt 1 failed"
    assert recorder.of("node_end")[0].retries == 1


class Boom(rf.Node):
    def exec(self, prep_res: Any) -> None:
        raise KeyError("missing")


def test_an_error_is_reported_once_at_the_node_that_raised(recorder: Recorder) -> None:
    inner = rf.Flow(Boom(), name="Inner")
    with pytest.raises(KeyError):
        rf.Flow(inner, name="Outer").run({}, listeners=[recorder])
    assert recorder.brief() == [
        ("run_start", "Outer"),
        ("node_start", "Outer > Inner"),
        ("node_start", "Outer > Inner > Boom"),
        ("fallback", "Outer > Inner > Boom"),  # the default exec_fallback re-raises
        ("error", "Outer > Inner > Boom"),
        ("node_end", "Outer > Inner > Boom"),
        ("node_end", "Outer > Inner"),
        ("run_end", "Outer"),
    ]
    error: Error = recorder.of("error")[0]
    assert isinstance(error.error, KeyError)
    assert error.message == "KeyError: 'missing'"
    ends: list[NodeEnd] = recorder.of("node_end")
    assert all(e.error is error.error and e.action is None for e in ends)
    run_end: RunEnd = recorder.of("run_end")[0]
    assert run_end.error is error.error


class FailOdd(rf.AsyncParallelBatchNode):
    async def prep_async(self, shared: Any) -> list[int]:
        return [0, 1, 2, 3]

    async def exec_async(self, item: int) -> int:
        if item % 2:
            raise ValueError(f"odd {item}")
        return item


async def test_collected_item_failures_are_reported_per_item(recorder: Recorder) -> None:
    await rf.AsyncFlow(FailOdd(fail_fast=False), name="C").run_async({}, listeners=[recorder])
    errors = sorted((e.where, str(e.error)) for e in recorder.of("error"))
    assert errors == [("C > FailOdd > #1", "odd 1"), ("C > FailOdd > #3", "odd 3")]
    failed: list[ItemEnd] = [e for e in recorder.of("item_end") if e.error is not None]
    assert sorted(e.index for e in failed) == [1, 3]


class Ask(rf.Node):
    def exec(self, prep_res: Any) -> Any:
        return self.interrupt({"question": "ship it?"})


def test_interrupt_is_a_pause_event_not_an_error(recorder: Recorder) -> None:
    with pytest.raises(Interrupt):
        rf.Flow(rf.Flow(Ask(), name="Inner"), name="Outer").run({}, listeners=[recorder])
    assert recorder.of("error") == []
    pause: Pause = recorder.of("pause")[0]
    assert pause.where == "Outer > Inner > Ask"
    assert pause.payload == {"question": "ship it?"}
    assert len(recorder.of("pause")) == 1


def test_every_event_carries_the_run_id_and_ordered_timestamps(recorder: Recorder) -> None:
    flow = nested_flow()
    flow.run({}, listeners=[recorder])
    first = {e.run_id for e in recorder.events}
    assert len(first) == 1 and re.fullmatch(r"[0-9a-f]{32}", next(iter(first)))
    times = [e.time for e in recorder.events]
    assert times == sorted(times)
    run_end: RunEnd = recorder.of("run_end")[0]
    assert run_end.duration >= max(e.duration for e in recorder.of("node_end")) >= 0

    again = Recorder()
    flow.run({}, listeners=[again])
    assert {e.run_id for e in again.events}.isdisjoint(first)

    hooked = Recorder()
    flow.run({}, hooks=listener_hooks([hooked]))  # the same hooks as listeners=, given directly
    assert len({e.run_id for e in hooked.events}) == 1


def test_a_failing_listener_is_warned_about_once_and_does_not_break_the_run(recorder: Recorder) -> None:
    def broken(event: Any) -> None:
        raise RuntimeError("listener bug")

    shared: dict[str, Any] = {"answer": "yes"}
    decide = Decide()
    decide - "yes" >> Yes()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rf.Flow(decide).run(shared, listeners=[broken, recorder])
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "listener bug" in messages[0]
    assert len(recorder.events) == 6  # the listener after the broken one got every event


def test_async_listeners_finish_within_a_sync_run() -> None:
    seen: list[str] = []

    async def slow_listener(event: Any) -> None:
        await asyncio.sleep(0)
        seen.append(event.kind)

    nested_flow().run({}, listeners=[slow_listener])
    assert seen == [kind for kind, _ in EXPECTED_NESTED]


async def test_async_listeners_are_awaited_before_an_async_run_returns() -> None:
    seen: list[str] = []

    async def slow_listener(event: Any) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        seen.append(event.kind)

    await nested_flow().run_async({}, listeners=[slow_listener])
    assert seen == [kind for kind, _ in EXPECTED_NESTED]  # all of them, in order
    assert asyncio.all_tasks() == {asyncio.current_task()}  # no listener task outlives the run


async def test_a_failing_async_listener_does_not_break_the_run() -> None:
    async def broken(event: Any) -> None:
        raise RuntimeError("async listener bug")

    shared: dict[str, Any] = {}
    with pytest.warns(RuntimeWarning, match="async listener bug"):
        await rf.AsyncFlow(Flaky(0)).run_async(shared, listeners=[broken])
    assert shared["result"] == "ok"


class SyncSay(rf.Node):
    """A sync exec in an async flow runs in a worker thread; its emits still arrive."""

    def exec(self, prep_res: Any) -> None:
        emit("text", "from a thread")


async def test_emits_from_a_worker_thread_reach_async_listeners() -> None:
    got: list[tuple[str, Any]] = []

    async def listener(event: Any) -> None:
        got.append((event.kind, getattr(event, "data", None)))

    await rf.AsyncFlow(SyncSay()).run_async({}, listeners=[listener])
    assert ("text", "from a thread") in got
    assert got[-1] == ("run_end", None)
