"""``flow.stream_async(shared)``: iterate over a run's events while it runs.

The run goes on in its own task; events reach the iterator as they happen (text chunks from a node that
streams an LLM reply arrive while that node is still running), from nested flows too. When the run ends
the iteration ends, raising the run's exception if it failed. Leaving the loop early (``break``, an
exception, cancellation) cancels the run; wrap the iterator in ``contextlib.aclosing`` to have that happen
at once rather than when the iterator is garbage-collected. The events are what ``listeners=`` delivers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .node import BaseNode

_DONE: Any = object()  # marks the end of the run in the queue


class _Collector:
    """A listener that puts events into an asyncio queue, from the loop thread or a worker thread."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def __call__(self, event: Any) -> None:
        if threading.get_ident() == self.thread:
            self.queue.put_nowait(event)
        else:  # emitted by a sync exec running in a worker thread
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)


async def stream_node(node: BaseNode, shared: Any, options: Mapping[str, Any]) -> AsyncIterator[Any]:
    """Run ``node`` (usually a flow) and yield its events (``rillflow.observe`` types) as they happen.

    ``options`` are the run options of ``run_async``; the run's final state is in ``shared``; its last
    event is ``run_end``.
    """
    collector = _Collector()
    listeners = [*(options.get("listeners") or ()), collector]
    run = asyncio.create_task(node.run_async(shared, **{**options, "listeners": listeners}))
    # Queued after every event of the run: listeners are done when the run's task completes.
    run.add_done_callback(lambda _: collector.queue.put_nowait(_DONE))
    try:
        while (event := await collector.queue.get()) is not _DONE:
            yield event
        run.result()  # the run's exception, if it failed
    finally:
        if not run.done():
            run.cancel()
            await asyncio.wait({run})
        if not run.cancelled():
            run.exception()  # retrieved, so asyncio does not log it as never retrieved
