"""A flow's shape (node keys, classes, successor actions, nested flows) and its fingerprint.

A checkpoint names nodes by key, so it may only be resumed by a flow of the same shape; otherwise the
stored position could point at a different node. The shape is saved with the run, so a mismatch can
say what differs. Classes are named without their module: the same file is ``__main__`` when run as
``python app.py`` and ``app`` when the ``rillflow`` command loads ``app.py:flow``, and a run started one
way must resume the other.
"""

from __future__ import annotations

import hashlib
import json
import sys

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
    shape = {label(node): type(node).__qualname__}
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
        shape[here] = _without_module(box.cls) + (f"; {', '.join(links[box.id])}" if links[box.id] else "")
        if box.inner is not None:
            _describe(box.inner, here, shape)


def _without_module(dotted: str) -> str:
    """``"pkg.app.Outer.Inner"`` -> ``"Outer.Inner"``: the module is the longest imported prefix (it is
    imported: its class exists)."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        if ".".join(parts[:cut]) in sys.modules:
            return ".".join(parts[cut:])
    return dotted


def _same_node(before: str | None, now: str | None) -> bool:
    """Equal, or equal but for the module a run saved by an earlier rillflow names (``app.X; ...``)."""
    return before == now or (before is not None and now is not None and before.endswith("." + now))


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
        if not _same_node(before.get(where), now.get(where))
    ]
    if before and not diffs:
        return
    shown = "; ".join(diffs[:5]) + (f"; and {len(diffs) - 5} more" if len(diffs) > 5 else "")
    raise CheckpointMismatchError(
        f"run {run_id!r} was saved by a flow of another shape, so it cannot be resumed by this one: "
        f"{shown or 'fingerprints differ'}"
    )
