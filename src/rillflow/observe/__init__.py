"""Seeing a run: its events, for listeners and streams (``flow.run(shared, listeners=[print])``), and
integrations that consume them: OpenTelemetry tracing (``rillflow.observe.otel``) and progress bars
(``rillflow.observe.progress``), each needing its optional extra.

A listener is any callable taking one :class:`Event` (``async def`` works too); annotated with event types
(``def on_end(event: NodeEnd)``) or wrapped in :func:`listen_to`, it gets only those.
``async for event in flow.stream_async(shared)`` yields the same events as the run goes.
See docs/observability.md.
"""

from .event_types import EVENT_TYPES, FilteredListener, listen_to
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
    "EVENT_TYPES",
    "Emit",
    "Error",
    "Event",
    "EventHooks",
    "Fallback",
    "FilteredListener",
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
    "listen_to",
    "listener_hooks",
]
