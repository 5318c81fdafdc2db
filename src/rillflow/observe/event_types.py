"""Which events a listener takes: every event, or the types its parameter's annotation names
(``def on_end(event: NodeEnd)``, ``NodeEnd | Error``), or those :func:`listen_to` gives.

Knowing it before the run lets the engine build only the events someone takes and skip the hook calls
whose events no one takes, so a listener of ``NodeEnd`` events costs about half of one that takes all.
"""

from __future__ import annotations

import types
import typing
import weakref
from collections.abc import Callable
from typing import Any

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

#: Every event type a run delivers.
EVENT_TYPES: tuple[type[Event], ...] = (
    RunStart, RunEnd, NodeStart, NodeEnd, Retry, Fallback, Error, Pause, Items, ItemStart, ItemEnd, Emit,
)  # fmt: skip

EventTypes = tuple[type[Event], ...]
_from_annotation: weakref.WeakKeyDictionary[Any, EventTypes | None] = weakref.WeakKeyDictionary()


class FilteredListener:
    """A listener that takes only ``event_types`` (see :func:`listen_to`); called with another event,
    it ignores it."""

    __slots__ = ("__rillflow_listener__", "__weakref__", "event_types")

    def __init__(self, listener: Callable[[Any], Any], event_types: EventTypes) -> None:
        self.__rillflow_listener__ = listener
        self.event_types = event_types

    def __call__(self, event: Event) -> Any:
        if isinstance(event, self.event_types):
            return self.__rillflow_listener__(event)
        return None

    def __repr__(self) -> str:
        names = ", ".join(t.__name__ for t in self.event_types)
        return f"listen_to({names})({self.__rillflow_listener__!r})"


def listen_to(*event_types: type[Event]) -> Callable[[Callable[[Any], Any]], FilteredListener]:
    """Make a listener take only these event types (and their subclasses)::

        flow.run(shared, listeners=[listen_to(NodeEnd, Error)(seen.append)])

    Also a decorator. For a function you write, annotating its parameter does the same.
    """
    if not event_types:
        raise TypeError("listen_to() needs at least one event type, such as listen_to(NodeEnd)")
    for kind in event_types:
        if not (isinstance(kind, type) and issubclass(kind, Event)):
            raise TypeError(f"listen_to() takes event classes from rillflow.observe, got {kind!r}")

    def wrap(listener: Callable[[Any], Any]) -> FilteredListener:
        if not callable(listener):
            raise TypeError(f"a listener must be callable, got {type(listener).__name__}")
        return FilteredListener(listener, tuple(event_types))

    return wrap


def listener_event_types(listener: Any) -> EventTypes | None:
    """The event types ``listener`` takes, or None for every event."""
    if isinstance(listener, FilteredListener):
        return listener.event_types
    function = getattr(listener, "__func__", listener)  # a bound method: its function
    if not isinstance(function, types.FunctionType):
        # A callable object: its class's __call__ (looked up on the class, as a call does).
        call = next((vars(k)["__call__"] for k in type(listener).__mro__ if "__call__" in vars(k)), None)
        if not isinstance(call, types.FunctionType):
            return None  # a builtin such as print or list.append: no annotations
        function, bound = call, True
    else:
        bound = function is not listener
    if not function.__annotations__:
        return None
    try:
        return _from_annotation[function]
    except KeyError:
        found = _annotated_types(function, bound)
        _from_annotation[function] = found
        return found


def _annotated_types(function: types.FunctionType, bound: bool) -> EventTypes | None:
    code = function.__code__
    index = 1 if bound else 0
    if code.co_argcount <= index:
        return None
    annotation = function.__annotations__.get(code.co_varnames[index])
    if isinstance(annotation, str):  # ``from __future__ import annotations``
        # Resolved as typing.get_type_hints does, in the function's module; the event classes' own names
        # resolve even when they were imported inside a function.
        names: dict[str, Any] = {"Event": Event} | {kind.__name__: kind for kind in EVENT_TYPES}
        namespace = names | function.__globals__
        try:
            annotation = eval(annotation, namespace)
            if isinstance(annotation, str):  # a quoted annotation under the future import: "'NodeEnd'"
                annotation = eval(annotation, namespace)
        except Exception:
            return None  # a name only a type checker sees: take every event
    return _event_types(annotation)


def _event_types(annotation: Any) -> EventTypes | None:
    if isinstance(annotation, type) and issubclass(annotation, Event):
        return None if annotation is Event else (annotation,)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        found: list[type[Event]] = []
        for arg in typing.get_args(annotation):
            if arg is type(None):
                continue
            narrowed = _event_types(arg)
            if narrowed is None:
                return None
            found.extend(narrowed)
        return tuple(found) or None
    return None  # object, Any, no annotation or anything else: every event
