"""How a node's phases are served: worked out once per class, so running a node costs what it does in
PocketFlow. Each phase may be sync or ``async def`` under either spelling (``exec`` or ``exec_async``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# How a phase is served: the framework's no-op default, a user's sync method, or a user's coroutine.
DEFAULT, SYNC, ASYNC = 0, 1, 2
PHASES = ("prep", "exec", "exec_fallback", "post")
PHASE_ATTRS = frozenset(PHASES + tuple(f"{p}_async" for p in PHASES))


class Phase(NamedTuple):
    name: str  # the method that serves it, e.g. "exec_async"
    kind: int  # DEFAULT, SYNC or ASYNC


class Plan(NamedTuple):
    prep: Phase
    exec: Phase
    fallback: Phase
    post: Phase


def default_phase(method: F) -> F:
    """Marks a framework method as a phase's default, so a class that keeps it has not overridden it."""
    method.__rillflow_default__ = True  # type: ignore[attr-defined]
    return method


def _resolve_phase(cls: type, instance_dict: dict[str, Any], phase: str) -> Phase:
    names = (f"{phase}_async", phase)  # the async spelling wins, as in PocketFlow's AsyncNode
    for name in names:
        if name in instance_dict:
            return Phase(name, ASYNC if inspect.iscoroutinefunction(instance_dict[name]) else SYNC)
    for name in names:
        method = getattr(cls, name, None)
        if method is not None and not getattr(method, "__rillflow_default__", False):
            return Phase(name, ASYNC if inspect.iscoroutinefunction(method) else SYNC)
    return Phase(phase, DEFAULT)


def resolve_plan(cls: type, instance_dict: dict[str, Any]) -> Plan:
    """The plan of ``cls`` (with ``instance_dict``'s overrides, for nodes patched per instance)."""
    return Plan(*(_resolve_phase(cls, instance_dict, p) for p in PHASES))
