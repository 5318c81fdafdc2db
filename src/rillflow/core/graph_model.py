"""The shape of a flow as plain data: what diagrams draw and what checkpoints compare.

Node keys come from :func:`~rillflow.core.graph.graph_nodes`, so a diagram names nodes exactly as events,
traces and checkpoints do. Every box gets a diagram id (``n1``, ``n2``...) in walk order, unique across
nested flows, so two nodes of the same class never collide.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .flow import BatchFlow, Flow
from .graph import graph_nodes, label
from .node import BaseNode, BatchNode


@dataclass
class Box:
    """One node of a flow; ``inner`` is set when the node is itself a flow (drawn as a subgraph)."""

    id: str
    key: str
    kind: str  # "node", "batch", "flow" or "batch flow"
    cls: str  # the node's class, "module.QualName"
    inner: Graph | None = None


@dataclass
class Edge:
    src: str
    dst: str
    action: str  # "" for the default action


@dataclass
class Graph:
    """The boxes of one flow, in :func:`graph_nodes` order, its start box and its action edges."""

    id: str
    key: str
    kind: str
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    start: str | None = None


def kind_of(node: BaseNode) -> str:
    if isinstance(node, BatchFlow):
        return "batch flow"
    if isinstance(node, Flow):
        return "flow"
    return "batch" if isinstance(node, BatchNode) else "node"


def flow_graph(flow: Flow) -> Graph:
    """The graph model of ``flow`` and, recursively, of every flow nested in it."""
    if not isinstance(flow, Flow):
        raise TypeError(f"expected a Flow, got {type(flow).__name__}")
    return _describe(flow, label(flow), "n0", iter(range(1, 1 << 62)), frozenset())


def _describe(flow: Flow, key: str, graph_id: str, ids: Iterator[int], outer: frozenset[int]) -> Graph:
    """``ids`` numbers boxes across the whole diagram; ``outer`` holds the flows being described."""
    active = outer | {id(flow)}
    graph = Graph(graph_id, key, kind_of(flow))
    nodes = graph_nodes(flow)
    box_ids = {id(node): f"n{next(ids)}" for node in nodes.values()}
    for node_key, node in nodes.items():
        cls = type(node)
        box = Box(box_ids[id(node)], node_key, kind_of(node), f"{cls.__module__}.{cls.__qualname__}")
        # A flow that contains itself is drawn once, as a plain box where it recurs.
        if isinstance(node, Flow) and id(node) not in active:
            box.inner = _describe(node, node_key, box.id, ids, active)
        graph.boxes.append(box)
        for action, successor in node.successors.items():
            dst = box_ids.get(id(successor))
            if dst is not None:
                graph.edges.append(Edge(box.id, dst, "" if action == "default" else action))
    if flow.start_node is not None:
        graph.start = box_ids[id(flow.start_node)]
    return graph
