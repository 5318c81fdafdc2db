"""The run page's diagram: the flow's offline SVG (:mod:`rillflow.viz.svg`) with one node marked.

With the flow at hand (``rillflow ui MODULE:FLOW``) the diagram is drawn from it; otherwise from the
shape the run stored (node keys, classes and successor actions; a flow's first node is its start, as the
shape lists nodes in walk order).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from ..core.flow import Flow
from ..core.graph_model import Box, Edge, Graph, flow_graph
from ..viz.svg import draw

MARKS = ("current", "paused", "failed", "last")


def graph_from_shape(shape_text: str) -> Graph | None:
    """The diagram model rebuilt from a run's stored shape; None if the shape cannot be read."""
    try:
        shape: dict[str, str] = json.loads(shape_text)
        top = next(iter(shape))
    except (ValueError, StopIteration, TypeError):
        return None
    ids = itertools.count(1)
    return _graph(shape, top, top, "n0", ids)


def _graph(shape: dict[str, str], where: str, key: str, graph_id: str, ids: itertools.count[int]) -> Graph:
    prefix = where + " > "
    children = [p for p in shape if p.startswith(prefix) and " > " not in p[len(prefix) :]]
    graph = Graph(graph_id, key, "flow")
    by_key: dict[str, Box] = {}
    links: dict[str, str] = {}
    for child in children:
        child_key = child[len(prefix) :]
        cls, _, rest = shape[child].partition("; ")
        box = Box(f"n{next(ids)}", child_key, "node", cls)
        if any(p.startswith(child + " > ") for p in shape):
            box.kind = "flow"
            box.inner = _graph(shape, child, child_key, box.id, ids)
        by_key[child_key] = box
        links[child_key] = rest
        graph.boxes.append(box)
    for child_key, rest in links.items():
        for link in filter(None, rest.split(", ")):
            action, _, dst = link.partition("->")
            if dst in by_key:
                label = "" if action == "default" else action
                graph.edges.append(Edge(by_key[child_key].id, by_key[dst].id, label))
    graph.start = graph.boxes[0].id if graph.boxes else None
    return graph


def box_id(graph: Graph, path: tuple[str, ...] | list[str]) -> str | None:
    """The diagram id of the node at ``path`` (``("Top", "Sub", "Node")``; item segments ``#3`` skipped)."""
    keys = [p for p in path[1:] if not (p.startswith("#") and p[1:].isdigit())]
    found: str | None = None
    here: Graph | None = graph
    for key in keys:
        box = next((b for b in here.boxes if b.key == key), None) if here is not None else None
        if box is None:
            break
        found, here = box.id, box.inner
    return found


def diagram_svg(flow: Any, shape_text: str, marks: dict[str, list[str]]) -> str:
    """The SVG text with each node named in ``marks`` (mark -> node path) given that CSS class."""
    graph = flow_graph(flow) if isinstance(flow, Flow) else graph_from_shape(shape_text)
    if graph is None:
        return ""
    svg = draw(graph)
    for mark, path in marks.items():
        found = box_id(graph, path) if mark in MARKS else None
        if found is not None:
            svg = svg.replace(
                f'<g class="node" data-id="{found}">', f'<g class="node {mark}" data-id="{found}">'
            )
            svg = svg.replace(
                f'<g class="flow" data-id="{found}">', f'<g class="flow {mark}" data-id="{found}">'
            )
    return svg
