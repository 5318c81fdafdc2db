"""``flow.stream_async``: events while the run goes, text chunks before the run ends, errors, cancellation."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

import pytest

import rillflow as rf
from rillflow.hooks import emit
from rillflow.llm import ScriptedModel
from rillflow.observe import Emit, Event

HANG_GUARD = 10  # seconds; only reached if streaming is broken (the run would wait forever)


class Talk(rf.AsyncNode):
    """Streams two chunks, and between them waits until the consumer has seen the first one."""

    async def exec_async(self, prep_res: Any) -> None:
        emit("text", "Hello")
        await self.params["first_seen"].wait()  # would never finish if chunks only arrived at the end
        emit("text", " world")


async def test_text_chunks_arrive_while_the_node_is_still_running() -> None:
    first_seen = asyncio.Event()
    flow = rf.AsyncFlow(rf.AsyncFlow(Talk(), name="Inner"), name="Outer")
    flow.set_params({"first_seen": first_seen})
    chunks: list[str] = []
    kinds: list[str] = []
    async with asyncio.timeout(HANG_GUARD):
        async for event in flow.stream_async({}):
            kinds.append(event.kind)
            if isinstance(event, Emit) and event.kind == "text":
                assert event.path == ("Outer", "Inner", "Talk")  # from the nested flow's node
                chunks.append(event.text)
                first_seen.set()
    assert chunks == ["Hello", " world"]
    assert kinds.index("text") < kinds.index("node_end") and kinds[-1] == "run_end"


class Answer(rf.AsyncNode):
    """Streams an LLM reply chunk by chunk, as a real node would."""

    async def exec_async(self, prep_res: Any) -> str:
        model = ScriptedModel(["The tide is high."])
        parts = []
        async for chunk in model.stream_async("Tell me about tides"):
            emit("text", chunk)
            parts.append(chunk)
        return "".join(parts)

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: str) -> None:
        shared["answer"] = exec_res


async def test_streaming_an_llm_reply_from_a_nested_flow() -> None:
    shared: dict[str, Any] = {}
    flow = rf.AsyncFlow(rf.AsyncFlow(Answer(), name="Reply"), name="Chat")
    texts = [e.text async for e in flow.stream_async(shared) if e.kind == "text"]
    assert "".join(texts) == shared["answer"] == "The tide is high."
    assert len(texts) > 1  # really chunked


class Fail(rf.AsyncNode):
    async def exec_async(self, prep_res: Any) -> None:
        emit("text", "about to fail")
        raise ValueError("no luck")


async def test_the_run_error_is_raised_after_its_events() -> None:
    kinds: list[str] = []
    with pytest.raises(ValueError, match="no luck"):
        async for event in rf.AsyncFlow(Fail(), name="F").stream_async({}):
            kinds.append(event.kind)
    assert kinds == ["run_start", "node_start", "text", "fallback", "error", "node_end", "run_end"]


class Forever(rf.AsyncNode):
    async def exec_async(self, prep_res: Any) -> None:
        self.params["state"]["started"] = True
        try:
            while True:
                emit("text", "tick")
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            self.params["state"]["cancelled"] = True
            raise


async def test_leaving_the_iteration_cancels_the_run() -> None:
    state: dict[str, bool] = {}
    flow = rf.AsyncFlow(Forever())
    flow.set_params({"state": state})
    got: list[Event] = []
    async with asyncio.timeout(HANG_GUARD):
        async with aclosing(flow.stream_async({})) as events:
            async for event in events:
                got.append(event)
                if event.kind == "text":
                    break
    assert state == {"started": True, "cancelled": True}
    assert asyncio.all_tasks() == {asyncio.current_task()}  # the run's task is gone


async def test_cancelling_the_consumer_cancels_the_run() -> None:
    state: dict[str, bool] = {}
    flow = rf.AsyncFlow(Forever())
    flow.set_params({"state": state})
    ticking = asyncio.Event()

    async def consume() -> None:
        async for event in flow.stream_async({}):
            if event.kind == "text":
                ticking.set()

    consumer = asyncio.create_task(consume())
    async with asyncio.timeout(HANG_GUARD):
        await ticking.wait()
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
    assert state == {"started": True, "cancelled": True}


async def test_stream_passes_extra_listeners_the_same_events() -> None:
    seen: list[Event] = []
    streamed = [e async for e in rf.AsyncFlow(Answer()).stream_async({}, listeners=[seen.append])]
    assert [e.kind for e in streamed] == [e.kind for e in seen]
    assert len({e.run_id for e in streamed}) == 1


async def test_a_sync_flow_can_be_streamed_too() -> None:
    class Sync(rf.Node):
        def exec(self, prep_res: Any) -> None:
            emit("text", "from a thread")

    events = [(e.kind, e.where) async for e in rf.Flow(Sync(), name="S").stream_async({})]
    assert events == [
        ("run_start", "S"),
        ("node_start", "S > Sync"),
        ("text", "S > Sync"),
        ("node_end", "S > Sync"),
        ("run_end", "S"),
    ]
