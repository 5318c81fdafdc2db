"""Seeing a run: its events, for listeners and streams (``flow.run(shared, listeners=[print])``), and
integrations that consume them: OpenTelemetry tracing (``rillflow.observe.otel``) and progress bars
(``rillflow.observe.progress``), each needing its optional extra.

A listener is any callable taking one :class:`Event` (``async def`` works too).
``async for event in flow.stream_async(shared)`` yields the same events as the run goes.
See docs/observability.md.
"""

from .events import (
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
from .listeners import EventHooks, Listener, listener_hooks

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
]
