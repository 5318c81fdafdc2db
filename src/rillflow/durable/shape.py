"""A flow's shape (node keys, classes, successor actions, nested flows) and its fingerprint.

A checkpoint names nodes by key, so it may only be resumed by a flow of the same shape; otherwise the
stored position could point at a different node. The shape is saved with the run, so a mismatch can
say what differs.
"""

from __future__ import annotations

import hashlib
import json

from ..core.flow import Flow
from ..core.graph import label
from ..core.graph_model import Graph, flow_graph
from ..core.node import BaseNode
from .errors import CheckpointMismatchError


def shape_of(node: BaseNode) -> dict[str, str]:
    """``"Top > Sub > Node" -> "module.Class; action->Key, ..."`` for every node, nested flows included.

    Built on the diagram model, so checkpoints and diagrams walk nested flows the same way (a flow that
    contains itself is described once, where it recurs).
    """
    cls = type(node)
    shape = {label(node): f"{cls.__module__}.{cls.__qualname__}"}
    if isinstance(node, Flow):
        _describe(flow_graph(node), label(node), shape)
    return shape


def _describe(graph: Graph, where: str, shape: dict[str, str]) -> None:
    key_of = {box.id: box.key for box in graph.boxes}
    links: dict[str, list[str]] = {box.id: [] for box in graph.boxes}
    for edge in sorted(graph.edges, key=lambda e: e.action or "default"):
        links[edge.src].append(f"{edge.action or 'default'}->{key_of[edge.dst]}")
    for box in graph.boxes:
        here = f"{where} > {box.key}"
        shape[here] = box.cls + (f"; {', '.join(links[box.id])}" if links[box.id] else "")
        if box.inner is not None:
            _describe(box.inner, here, shape)


def fingerprint(shape: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:32]


def check_same_shape(stored_json: str, stored_fingerprint: str, node: BaseNode, run_id: str) -> None:
    """Raise :class:`CheckpointMismatchError` naming the differences if ``node`` has another shape."""
    now = shape_of(node)
    if fingerprint(now) == stored_fingerprint:
        return
    try:
        before: dict[str, str] = json.loads(stored_json)
    except ValueError:
        before = {}
    diffs = [
        f"{where}: was {before.get(where, 'absent')!r}, now {now.get(where, 'absent')!r}"
        for where in sorted(before.keys() | now.keys())
        if before.get(where) != now.get(where)
    ]
    shown = "; ".join(diffs[:5]) + (f"; and {len(diffs) - 5} more" if len(diffs) > 5 else "")
    raise CheckpointMismatchError(
        f"run {run_id!r} was saved by a flow of another shape, so it cannot be resumed by this one: "
        f"{shown or 'fingerprints differ'}"
    )
