"""Turn the engine's hook calls into events and deliver them to listeners (plain callables, sync or async).

A listener takes every event, or only the types its parameter is annotated with
(``def on_end(event: NodeEnd)``, ``NodeEnd | Error``) or that :func:`listen_to` names: events no listener
takes are not built at all, and hook calls whose events nobody takes are skipped.

A sync listener is called inline, where the event happens. An async listener (or any listener returning an
awaitable) gets its events in order: in an async run they are awaited by one task on the run's loop, and
the run awaits that task before it returns (``aclose``), so no listener task outlives the run; in a sync
run each one is run to completion on the spot. A listener that raises never breaks the run: it is warned
about once and keeps receiving later events.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ..core.context import Path
from ..core.hooks import RunHooks, noop
from ..core.node import BaseNode
from ..errors import Interrupt
from .event_types import EVENT_TYPES, listener_event_types
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

_now = time.time

# ``Any``, not ``Event``: a listener annotated ``(event: NodeEnd)`` is called with NodeEnd events only.
Listener = Callable[[Any], Any]
"""A callable taking one :class:`Event` (or the event types its annotation names); it may be
``async def`` (or return an awaitable)."""


#: For each hook method that can be skipped, the events it delivers: with no listener taking any of them,
#: the engine does not call the method at all.
_DELIVERS: dict[str, tuple[type[Event], ...]] = {
    "on_node_start": (NodeStart,),
    "on_node_end": (NodeEnd, Error, Pause),
    "on_retry": (Retry,),
    "on_fallback": (Fallback,),
    "on_items": (Items,),
    "on_item_start": (ItemStart,),
    "on_item_end": (ItemEnd, Error, Pause),
    "on_emit": (Emit,),
}


@noop
def _skipped(**_: Any) -> None:
    return None


class EventHooks(RunHooks):
    """Run hooks that build :class:`Event` objects and hand them to ``listeners``; every event carries the
    run id the run was started with. Each event goes to the listeners that take its type."""

    def __init__(self, listeners: Iterable[Listener]) -> None:
        self.listeners = _checked(listeners)
        self._taken = [(_unwrap(listener), listener_event_types(listener)) for listener in self.listeners]
        self._to: dict[type[Event], tuple[Listener, ...]] = {kind: self._takers(kind) for kind in EVENT_TYPES}
        for method, kinds in _DELIVERS.items():
            if not any(self._to[kind] for kind in kinds):
                setattr(self, method, _skipped)  # the engine sees a no-op and never calls it
        self._node_start_to, self._node_end_to = self._to[NodeStart], self._to[NodeEnd]
        self.run_id = ""
        self._started = 0.0
        self._reported: dict[int, BaseException] = {}  # errors already reported, by id (kept alive)
        self._warned: set[int] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._queue: deque[tuple[Listener, Awaitable[Any]]] = deque()
        self._consumer: asyncio.Task[None] | None = None
        self._runner: asyncio.Runner | None = None

    # --- delivery -----------------------------------------------------------------------------------
    def _takers(self, kind: type[Event]) -> tuple[Listener, ...]:
        return tuple(fn for fn, types in self._taken if types is None or issubclass(kind, types))

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to every listener that takes its type; schedule what async listeners return."""
        kind = type(event)
        listeners = self._to.get(kind)
        if listeners is None:  # an event type of your own
            listeners = self._to[kind] = self._takers(kind)
        self._send(listeners, event)

    def _send(self, listeners: tuple[Listener, ...], event: Event) -> None:
        for listener in listeners:
            try:
                result = listener(event)
            except Exception as exc:
                self._listener_failed(listener, exc)
                continue
            if result is not None and inspect.isawaitable(result):
                self._await_later(listener, result)

    def _await_later(self, listener: Listener, awaitable: Awaitable[Any]) -> None:
        loop = self._loop
        if loop is None:  # a sync run: finish it now, on a private loop kept for the run
            if self._runner is None:
                self._runner = asyncio.Runner()
            try:
                self._runner.run(_wrap(awaitable))
            except Exception as exc:
                self._listener_failed(listener, exc)
        elif threading.get_ident() == self._loop_thread:
            self._enqueue(listener, awaitable)
        else:  # emitted from a worker thread (a sync exec inside an async flow)
            loop.call_soon_threadsafe(self._enqueue, listener, awaitable)

    def _enqueue(self, listener: Listener, awaitable: Awaitable[Any]) -> None:
        self._queue.append((listener, awaitable))
        if self._consumer is None and self._loop is not None:
            self._consumer = self._loop.create_task(self._consume())

    async def _consume(self) -> None:
        try:
            while self._queue:
                listener, awaitable = self._queue.popleft()
                try:
                    await awaitable
                except Exception as exc:
                    self._listener_failed(listener, exc)
        finally:
            self._consumer = None
            for _, left in self._queue:  # only when cancelled: do not leave never-awaited coroutines
                if inspect.iscoroutine(left):
                    left.close()
            self._queue.clear()

    def _listener_failed(self, listener: Listener, exc: Exception) -> None:
        if id(listener) in self._warned:
            return
        self._warned.add(id(listener))
        name = getattr(listener, "__qualname__", None) or type(listener).__name__
        warnings.warn(
            f"rillflow event listener {name} raised {type(exc).__name__}: {exc} "
            "(the run goes on; further errors of this listener are not reported)",
            RuntimeWarning,
            stacklevel=2,
        )

    async def aclose(self) -> None:
        """Wait until async listeners have handled every event (awaited by the run before it returns)."""
        while self._consumer is not None:
            await self._consumer  # cancelling the run cancels it too

    # --- hooks --------------------------------------------------------------------------------------
    def on_run_start(self, *, path: Path, run_id: str, **_: Any) -> None:
        self.run_id = run_id
        self._reported.clear()
        try:
            self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        except RuntimeError:
            self._loop = None
        self._started = time.perf_counter()
        if self._to[RunStart]:
            self._send(self._to[RunStart], RunStart(path, run_id, _now()))

    def on_run_end(self, *, path: Path, error: BaseException | None, **_: Any) -> None:
        if error is not None:
            self._report(path, error)
        duration = time.perf_counter() - self._started
        try:
            if self._to[RunEnd]:
                self._send(self._to[RunEnd], RunEnd(path, self.run_id, _now(), duration, error))
        finally:
            self._reported.clear()
            if self._runner is not None:
                self._runner.close()
                self._runner = None

    def on_node_start(self, *, node: BaseNode, path: Path, **_: Any) -> None:
        if self._node_start_to:
            self._send(self._node_start_to, NodeStart(path, self.run_id, _now(), type(node).__name__))

    def on_node_end(
        self,
        *,
        node: BaseNode,
        path: Path,
        action: Any,
        error: BaseException | None,
        duration: float,
        **_: Any,
    ) -> None:
        if error is not None:
            self._report(path, error)
        if self._node_end_to:
            retries = getattr(node, "cur_retry", 0)
            event = NodeEnd(path, self.run_id, _now(), type(node).__name__, action, duration, retries, error)
            self._send(self._node_end_to, event)

    def on_retry(self, *, path: Path, attempt: int, error: BaseException, delay: float, **_: Any) -> None:
        self._send(self._to[Retry], Retry(path, self.run_id, _now(), attempt, error, delay))

    def on_fallback(self, *, path: Path, error: BaseException, **_: Any) -> None:
        self._send(self._to[Fallback], Fallback(path, self.run_id, _now(), error))

    def on_items(self, *, path: Path, total: int, **_: Any) -> None:
        self._send(self._to[Items], Items(path, self.run_id, _now(), total))

    def on_item_start(self, *, path: Path, index: int, **_: Any) -> None:
        self._send(self._to[ItemStart], ItemStart(path, self.run_id, _now(), index))

    def on_item_end(
        self, *, path: Path, index: int, result: Any, error: BaseException | None, **_: Any
    ) -> None:
        if error is not None:
            self._report((*path, f"#{index}"), error)
        if self._to[ItemEnd]:
            self._send(self._to[ItemEnd], ItemEnd(path, self.run_id, _now(), index, result, error))

    def on_emit(self, *, path: Path, kind: str, data: Any, **_: Any) -> None:
        self._send(self._to[Emit], Emit(kind=kind, path=path, run_id=self.run_id, time=_now(), data=data))

    def _report(self, path: Path, error: BaseException) -> None:
        """An ``error`` (or ``pause``) event where an exception is first seen, not again on the way out."""
        if id(error) in self._reported:
            return
        self._reported[id(error)] = error
        if isinstance(error, Interrupt):
            if self._to[Pause]:
                self._send(self._to[Pause], Pause(error.path or path, self.run_id, _now(), error.payload))
        elif isinstance(error, Exception):  # not cancellations or KeyboardInterrupt: those are not failures
            if self._to[Error]:
                self._send(self._to[Error], Error(path, self.run_id, _now(), error))


def _checked(listeners: Iterable[Listener]) -> list[Listener]:
    """``listeners`` as a list, or a clear error before the run starts."""
    if callable(listeners) or isinstance(listeners, str | bytes):
        name = getattr(listeners, "__qualname__", type(listeners).__name__)
        raise TypeError(f"listeners= takes a list of callables, got {name} itself: use listeners=[{name}]")
    try:
        found = list(listeners)
    except TypeError:
        raise TypeError(f"listeners= takes a list of callables, got {type(listeners).__name__}") from None
    for index, listener in enumerate(found):
        if not callable(listener):
            raise TypeError(
                f"listeners[{index}] is not callable ({type(listener).__name__}): a listener is a "
                "function (or async function) taking one event"
            )
    return found


def _unwrap(listener: Listener) -> Listener:
    """The callable to call: a :func:`listen_to` wrapper's own listener (its filter is applied here)."""
    return getattr(listener, "__rillflow_listener__", listener)


async def _wrap(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def listener_hooks(listeners: Iterable[Listener]) -> EventHooks:
    """The hooks behind ``flow.run(shared, listeners=[...])``: events for each listener."""
    return EventHooks(listeners)
