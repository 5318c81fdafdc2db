"""Events of a run, for listeners and streams: ``flow.run(shared, listeners=[print])``.

A listener is any callable taking one :class:`Event` (``async def`` works too).
``async for event in flow.stream_async(shared)`` yields the same events as the run goes.
See docs/observability.md.
"""

from .listeners import EventHooks, Listener, listener_hooks, new_run_id
from .stream import stream_async
from .types import (
    Emit,
    Error,
    Event,
    Fallback,
    ItemEnd,
    Items,
    ItemStart,
    NodeEnd,
    NodeStart,
    Pause,
    Retry,
    RunEnd,
    RunStart,
)

__all__ = [
    "Emit",
    "Error",
    "Event",
    "EventHooks",
    "Fallback",
    "ItemEnd",
    "ItemStart",
    "Items",
    "Listener",
    "NodeEnd",
    "NodeStart",
    "Pause",
    "Retry",
    "RunEnd",
    "RunStart",
    "listener_hooks",
    "new_run_id",
    "stream_async",
]
