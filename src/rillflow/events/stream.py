"""``flow.stream_async(shared)``: iterate over a run's events while it runs.

The run goes on in its own task; events reach the iterator as they happen (text chunks from a node that
streams an LLM reply arrive while that node is still running), from nested flows too. When the run ends
the iteration ends, raising the run's exception if it failed. Leaving the loop early (``break``, an
exception, cancellation) cancels the run; wrap the iterator in ``contextlib.aclosing`` to have that happen
at once rather than when the iterator is garbage-collected.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

from .._node import BaseNode
from .._options import DURABLE_OPTIONS
from ..hooks import RunHooks
from .listeners import EventHooks, new_run_id
from .types import Event

_DONE: Any = object()  # marks the end of the run in the queue


class _Collector:
    """A listener that puts events into an asyncio queue, from the loop thread or a worker thread."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def __call__(self, event: Event) -> None:
        if threading.get_ident() == self.thread:
            self.queue.put_nowait(event)
        else:  # emitted by a sync exec running in a worker thread
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)


async def stream_async(node: BaseNode, shared: Any, **options: Any) -> AsyncIterator[Event]:
    """Run ``node`` (usually a flow) and yield its :class:`Event` objects as they happen.

    ``options`` are the run options of ``run_async`` (``listeners``, ``hooks``, ``run_id``,
    ``checkpointer``...). The run's final state is in ``shared``; its last event is ``run_end``.
    """
    collector = _Collector()
    listeners = [*(options.pop("listeners", None) or ()), collector]
    if DURABLE_OPTIONS.intersection(options) and not options.get("run_id"):
        options["run_id"] = new_run_id()  # named here, so checkpoints and events share the id
    given = options.pop("hooks", None)
    hooks = [given] if isinstance(given, RunHooks) else list(given or ())
    hooks.append(EventHooks(listeners, run_id=options.get("run_id")))
    run = asyncio.create_task(node.run_async(shared, hooks=hooks, **options))
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
