"""Listeners that take only some event types: by annotation or ``listen_to``; the others are not built."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Optional, Union

import pytest

import rillflow as rf
from rillflow.core.hooks import HOOK_METHODS
from rillflow.durable import SQLiteCheckpointer
from rillflow.hooks import emit
from rillflow.observe import (
    Emit,
    Error,
    Event,
    EventHooks,
    ItemEnd,
    NodeEnd,
    NodeStart,
    Pause,
    RunEnd,
    listen_to,
)
from rillflow.observe.event_types import listener_event_types


class Step(rf.Node):
    def exec(self, prep_res: Any) -> str:
        emit("note", "hello")
        return "ok"


class Boom(rf.Node):
    def exec(self, prep_res: Any) -> None:
        raise ValueError("boom")


class Ask(rf.Node):
    def exec(self, prep_res: Any) -> None:
        self.interrupt({"question": "ok?"})


def two_steps() -> rf.Flow:
    first = Step()
    first >> Step()
    return rf.Flow(first, name="Two")


def test_an_annotated_listener_gets_only_its_type() -> None:
    seen: list[Event] = []

    def on_end(event: NodeEnd) -> None:
        seen.append(event)

    two_steps().run({}, listeners=[on_end])
    assert [(e.kind, e.where) for e in seen] == [("node_end", "Two > Step"), ("node_end", "Two > Step#2")]


def test_a_union_annotation_takes_each_named_type_and_optional_is_the_same_as_the_type() -> None:
    union: list[str] = []
    old_union: list[str] = []
    optional: list[str] = []

    def on_union(event: NodeStart | RunEnd) -> None:
        union.append(event.kind)

    def on_old_union(event: Union[NodeStart, RunEnd]) -> None:  # noqa: UP007 (the typing form on purpose)
        old_union.append(event.kind)

    def on_optional(event: Optional[Emit]) -> None:  # noqa: UP045 (the typing form on purpose)
        assert event is not None
        optional.append(event.kind)

    two_steps().run({}, listeners=[on_union, on_old_union, on_optional])
    assert union == old_union == ["node_start", "node_start", "run_end"]
    assert optional == ["note", "note"]


def test_unannotated_broad_or_unresolvable_annotations_take_every_event() -> None:
    def plain(event):  # type: ignore[no-untyped-def]
        return None

    def broad(event: Event) -> None: ...

    def anything(event: object) -> None: ...

    def any_typed(event: Any) -> None: ...

    def mixed(event: NodeEnd | int) -> None: ...

    unresolvable = _unresolvable_listener()
    listener: Any
    for listener in (plain, broad, anything, any_typed, mixed, unresolvable, print, [].append):
        assert listener_event_types(listener) is None, listener
    seen: list[str] = []
    two_steps().run({}, listeners=[lambda e: seen.append(e.kind)])
    assert seen.count("node_start") == 2 and seen[0] == "run_start" and seen[-1] == "run_end"


def _unresolvable_listener() -> Any:
    namespace: dict[str, Any] = {}
    exec("def listener(event: 'NotDefinedAnywhere') -> None: ...", namespace)
    return namespace["listener"]


def test_methods_and_callable_objects_are_read_past_self() -> None:
    class Watcher:
        def __init__(self) -> None:
            self.ends: list[NodeEnd] = []
            self.starts: list[NodeStart] = []

        def __call__(self, event: NodeEnd) -> None:
            self.ends.append(event)

        def on_start(self, event: NodeStart) -> None:
            self.starts.append(event)

    watcher = Watcher()
    assert listener_event_types(watcher) == (NodeEnd,)
    assert listener_event_types(watcher.on_start) == (NodeStart,)
    two_steps().run({}, listeners=[watcher, watcher.on_start])
    assert len(watcher.ends) == 2 and all(isinstance(e, NodeEnd) for e in watcher.ends)
    assert len(watcher.starts) == 2 and all(isinstance(e, NodeStart) for e in watcher.starts)


def test_listen_to_filters_a_builtin_and_works_called_directly() -> None:
    ends: list[Event] = []
    only_ends = listen_to(NodeEnd, RunEnd)(ends.append)
    two_steps().run({}, listeners=[only_ends])
    assert [e.kind for e in ends] == ["node_end", "node_end", "run_end"]
    ends.clear()
    only_ends(NodeStart(("x",), "id", 0.0, "Step"))  # called outside a run it filters itself
    assert ends == []
    assert "listen_to(NodeEnd, RunEnd)" in repr(only_ends)


def test_listen_to_as_a_decorator_on_an_async_listener() -> None:
    seen: list[str] = []

    @listen_to(Emit)
    async def on_emit(event: Any) -> None:
        await asyncio.sleep(0)
        seen.append(event.kind)

    class AsyncStep(rf.AsyncNode):
        async def exec_async(self, prep_res: Any) -> None:
            emit("chunk", "a")

    asyncio.run(rf.AsyncFlow(AsyncStep()).run_async({}, listeners=[on_emit]))
    assert seen == ["chunk"]


@pytest.mark.parametrize(
    ("args", "message"),
    [((), "at least one event type"), ((int,), "event classes"), (("NodeEnd",), "event classes")],
)
def test_listen_to_rejects_what_is_not_an_event_type(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        listen_to(*args)


def test_listen_to_rejects_a_listener_that_is_not_callable() -> None:
    with pytest.raises(TypeError, match="must be callable"):
        listen_to(NodeEnd)("not a function")  # type: ignore[arg-type]


def test_an_error_listener_still_sees_the_failure_where_it_happened() -> None:
    errors: list[Error] = []

    def on_error(event: Error) -> None:
        errors.append(event)

    first = Step()
    first >> Boom()
    with pytest.raises(ValueError, match="boom"):
        rf.Flow(first, name="Fails").run({}, listeners=[on_error])
    assert [(e.where, e.message) for e in errors] == [("Fails > Boom", "ValueError: boom")]


def test_a_pause_listener_gets_the_pause_of_a_durable_run(tmp_path: Any) -> None:
    pauses: list[Pause] = []

    def on_pause(event: Pause) -> None:
        pauses.append(event)

    flow = rf.Flow(Ask(), name="Asks")
    flow.run({}, run_id="r1", checkpointer=SQLiteCheckpointer(tmp_path / "runs.db"), listeners=[on_pause])
    assert len(pauses) == 1 and pauses[0].payload == {"question": "ok?"}


def test_item_listeners_of_a_batch_get_each_item_end() -> None:
    ends: list[ItemEnd] = []

    def on_item_end(event: ItemEnd) -> None:
        ends.append(event)

    class Double(rf.BatchNode):
        def prep(self, shared: dict[str, Any]) -> list[int]:
            return [1, 2, 3]

        def exec(self, item: int) -> int:
            return item * 2

    rf.Flow(Double()).run({}, listeners=[on_item_end])
    assert [(e.index, e.result) for e in ends] == [(0, 2), (1, 4), (2, 6)]


def test_listeners_of_different_types_each_get_theirs_in_order() -> None:
    log: list[tuple[str, str]] = []

    def everything(event: Event) -> None:
        log.append(("all", event.kind))

    def ends(event: NodeEnd) -> None:
        log.append(("ends", event.kind))

    rf.Flow(Step(), name="One").run({}, listeners=[everything, ends])
    assert log == [
        ("all", "run_start"),
        ("all", "node_start"),
        ("all", "note"),
        ("all", "node_end"),
        ("ends", "node_end"),
        ("all", "run_end"),
    ]


def test_hook_methods_whose_events_no_listener_takes_are_not_called() -> None:
    def on_end(event: NodeEnd) -> None: ...

    def on_error(event: Error) -> None: ...

    def skipped(hooks: EventHooks) -> set[str]:
        return {name for name in HOOK_METHODS if getattr(getattr(hooks, name), "__rillflow_noop__", False)}

    never = {"on_prep_end", "on_post_start", "on_step"}  # no event comes from them
    assert skipped(EventHooks([print])) == never
    assert skipped(EventHooks([on_end])) == never | {
        "on_node_start", "on_retry", "on_fallback", "on_items", "on_item_start", "on_item_end", "on_emit",
    }  # fmt: skip
    # Errors are reported where they happen: at a node's or an item's end.
    assert skipped(EventHooks([on_error])) == never | {
        "on_node_start", "on_retry", "on_fallback", "on_items", "on_item_start", "on_emit",
    }  # fmt: skip


def test_stream_async_still_yields_every_event() -> None:
    async def collect() -> list[str]:
        flow = rf.AsyncFlow(Step(), name="Streamed")
        return [event.kind async for event in flow.stream_async({})]

    assert asyncio.run(collect()) == ["run_start", "node_start", "note", "node_end", "run_end"]


def test_deliver_hands_an_event_type_of_your_own_to_listeners_of_its_base() -> None:
    @dataclass(slots=True)
    class Checkpointed(NodeEnd):
        pass

    ends: list[Event] = []
    everything: list[Event] = []
    starts: list[Event] = []

    def on_end(event: NodeEnd) -> None:
        ends.append(event)

    def on_start(event: NodeStart) -> None:
        starts.append(event)

    hooks = EventHooks([on_end, everything.append, on_start])
    event = Checkpointed(("F",), "id", 0.0, "Step", None, 0.1)
    hooks.deliver(event)
    assert ends == [event] and everything == [event] and starts == []


def test_event_names_resolve_even_when_imported_inside_a_function() -> None:
    from rillflow.observe import ItemStart as LocalOnly  # noqa: F401 (not in this module's globals)

    namespace: dict[str, Any] = {}
    exec("def listener(event: 'ItemStart | Pause') -> None: ...", namespace)
    assert listener_event_types(namespace["listener"]) is not None
    from rillflow.observe import ItemStart

    assert listener_event_types(namespace["listener"]) == (ItemStart, Pause)


@pytest.mark.parametrize(
    ("listeners", "message"),
    [
        (print, r"got print itself: use listeners=\[print\]"),
        ("print", "got str itself"),
        (3, "takes a list of callables, got int"),
        ([print, 3], r"listeners\[1\] is not callable \(int\)"),
    ],
)
def test_listeners_that_cannot_listen_are_refused_before_the_run(listeners: Any, message: str) -> None:
    ran: list[bool] = []

    class Marks(rf.Node):
        def exec(self, prep_res: Any) -> None:
            ran.append(True)

    with pytest.raises(TypeError, match=message):
        rf.Flow(Marks()).run({}, listeners=listeners)
    assert ran == []
