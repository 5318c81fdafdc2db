"""Graph helpers shared by the loops, the features and the diagrams: how nodes are named, copied and listed.

A leaf of the kernel: nodes are used only through their attributes (``name``, ``successors``,
``start_node``), so this module needs no node class.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .flow import Flow
    from .node import BaseNode


def label(node: BaseNode) -> str:
    """How errors, events and diagrams name a node: its ``name``, else its class name."""
    return node.name or type(node).__name__


def copies_plainly(cls: type) -> bool:
    """True when ``copy.copy`` of an instance is just a new object with the same ``__dict__``."""
    if hasattr(cls, "__copy__") or any("__slots__" in k.__dict__ for k in cls.__mro__):
        return False
    hooks = ("__reduce_ex__", "__reduce__", "__getstate__", "__setstate__")
    return all(getattr(cls, h, None) is getattr(object, h, None) for h in hooks)


def visit_copy(node: BaseNode | None) -> Any:
    """The shallow copy a flow runs for each visit (``copy.copy`` semantics, about 5x cheaper)."""
    if node is None:
        return None
    cls = node.__class__
    if cls._plain_copy:
        new = cls.__new__(cls)
        new.__dict__.update(node.__dict__)
        return new
    return copy.copy(node)


def graph_nodes(flow: Flow) -> dict[str, BaseNode]:
    """Every node reachable from ``flow.start_node`` by key, in a stable breadth-first order.

    A node's key is its label, made unique within its flow by ``#2``, ``#3``... in walk order. Checkpoint
    positions, event paths and diagrams all use these keys, so they name nodes alike.
    """
    start = flow.start_node
    if start is None:
        return {}
    keys: dict[str, BaseNode] = {}
    counts: dict[str, int] = {}  # per label, so many nodes of one class cost O(n), not O(n^2)
    order, seen = [start], {id(start)}
    for node in order:  # grows while it is walked: breadth-first, each node once
        base = node.name or type(node).__name__
        n = counts.get(base, 0) + 1
        key = base if n == 1 else f"{base}#{n}"
        while key in keys:  # only when a node is explicitly named like a numbered one
            n += 1
            key = f"{base}#{n}"
        counts[base] = n
        keys[key] = node
        for successor in node.successors.values():
            if id(successor) not in seen:
                seen.add(id(successor))
                order.append(successor)
    return keys
