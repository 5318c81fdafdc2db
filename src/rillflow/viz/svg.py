"""A small, dependency-free SVG drawing of a flow, for the offline HTML page of :func:`rillflow.viz.to_html`.

Layout is deliberately simple: within each flow, boxes are placed in rows by their distance from the start
node (breadth-first); forward edges go down, loops and back edges bend around the right side, and nested
flows are boxes that contain their own drawing. It is meant to be read, not to rival Mermaid's layout.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from html import escape

from ..core.graph_model import Box, Graph

CHAR_W = 7.4  # average width of a 13px sans-serif character
NODE_H = 34
TEXT_PAD = 14
GAP_X = 28
GAP_Y = 46
FLOW_PAD = 16
TITLE_H = 24
START_R = 7
LOOP_ROOM = 64  # space on the right of each flow for edges that bend around


@dataclass
class Placed:
    x: float
    y: float
    w: float
    h: float
    rank: int
    box: Box
    inner: Laid | None = None


@dataclass
class Laid:
    """A flow's boxes placed relative to the flow's top-left corner."""

    graph: Graph
    w: float
    h: float
    places: dict[str, Placed] = field(default_factory=dict)


def text_width(text: str) -> float:
    return len(text) * CHAR_W


def ranks(graph: Graph) -> dict[str, int]:
    """Distance of every box from the start box, following action edges (breadth-first)."""
    out: dict[str, int] = {}
    if graph.start is None:
        return out
    nexts: dict[str, list[str]] = {}
    for edge in graph.edges:
        nexts.setdefault(edge.src, []).append(edge.dst)
    out[graph.start] = 0
    queue = deque([graph.start])
    while queue:
        here = queue.popleft()
        for there in nexts.get(here, ()):
            if there not in out:
                out[there] = out[here] + 1
                queue.append(there)
    return out


def lay_out(graph: Graph) -> Laid:
    rank_of = ranks(graph)
    rows: dict[int, list[Placed]] = {}
    for box in graph.boxes:
        inner = lay_out(box.inner) if box.inner is not None else None
        if inner is not None:
            w, h = inner.w, inner.h
        else:
            w, h = max(64.0, text_width(box.key) + 2 * TEXT_PAD), float(NODE_H)
        rank = rank_of.get(box.id, 0)
        rows.setdefault(rank, []).append(Placed(0, 0, w, h, rank, box, inner))
    widths = [sum(p.w for p in row) + GAP_X * (len(row) - 1) for row in rows.values()]
    content_w = max([text_width(graph.key) + 60, *widths])
    y = TITLE_H + 2 * START_R + GAP_Y / 2
    laid = Laid(graph, content_w + 2 * FLOW_PAD + LOOP_ROOM, 0)
    for rank in sorted(rows):
        row = rows[rank]
        row_w = sum(p.w for p in row) + GAP_X * (len(row) - 1)
        x = FLOW_PAD + (content_w - row_w) / 2
        for placed in row:
            placed.x, placed.y = x, y
            laid.places[placed.box.id] = placed
            x += placed.w + GAP_X
        y += max(p.h for p in row) + GAP_Y
    laid.h = y - GAP_Y + FLOW_PAD if rows else y
    return laid


def draw(graph: Graph) -> str:
    """The SVG element (as text) for ``graph``."""
    laid = lay_out(graph)
    parts: list[str] = []
    _draw_flow(laid, 0.0, 0.0, parts, top=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{laid.w + 2:.0f}" height="{laid.h + 2:.0f}" '
        f'viewBox="-1 -1 {laid.w + 2:.0f} {laid.h + 2:.0f}" font-family="sans-serif" font-size="13">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
        + "".join(parts)
        + "</svg>"
    )


def _draw_flow(laid: Laid, ox: float, oy: float, parts: list[str], top: bool = False) -> None:
    graph = laid.graph
    title = graph.key if graph.kind == "flow" else f"{graph.key} ({graph.kind})"
    fill = "#f7f9fc" if top else "#eef3fa"
    parts.append(
        f'<g class="flow" data-id="{graph.id}"><rect x="{ox:.1f}" y="{oy:.1f}" width="{laid.w:.1f}" '
        f'height="{laid.h:.1f}" rx="8" fill="{fill}" stroke="#8aa4c8"/>'
        f'<text x="{ox + 10:.1f}" y="{oy + 17:.1f}" font-weight="bold" fill="#334">{escape(title)}</text>'
    )
    start = laid.places.get(graph.start or "")
    if start is not None:
        cx, cy = ox + start.x + start.w / 2, oy + TITLE_H + START_R
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{START_R}" fill="#334"/>')
        parts.append(_path(f"M{cx:.1f},{cy + START_R:.1f} L{cx:.1f},{oy + start.y:.1f}"))
    for placed in laid.places.values():
        x, y = ox + placed.x, oy + placed.y
        if placed.inner is not None:
            _draw_flow(placed.inner, x, y, parts)
            continue
        parts.append(
            f'<g class="node" data-id="{placed.box.id}"><rect x="{x:.1f}" y="{y:.1f}" width="{placed.w:.1f}" '
            f'height="{placed.h:.1f}" rx="5" fill="#fff" stroke="#4a6fa5"/>'
        )
        if placed.box.kind == "batch":  # a second border marks a batch node, like Mermaid's [[ ]]
            parts.append(
                f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{placed.w - 8:.1f}" height="{placed.h:.1f}" '
                'fill="none" stroke="#4a6fa5"/>'
            )
        parts.append(
            f'<text x="{x + placed.w / 2:.1f}" y="{y + placed.h / 2 + 4.5:.1f}" text-anchor="middle">'
            f"{escape(placed.box.key)}</text></g>"
        )
    _draw_edges(laid, ox, oy, parts)
    parts.append("</g>")


def _draw_edges(laid: Laid, ox: float, oy: float, parts: list[str]) -> None:
    bends = 0
    for edge in laid.graph.edges:
        a, b = laid.places[edge.src], laid.places[edge.dst]
        if b.rank > a.rank:  # forward: bottom of the source to the top of the target
            x1, y1, x2, y2 = ox + a.x + a.w / 2, oy + a.y + a.h, ox + b.x + b.w / 2, oy + b.y
            dy = (y2 - y1) / 2
            d = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + dy:.1f} {x2:.1f},{y2 - dy:.1f} {x2:.1f},{y2:.1f}"
            lx, ly = (x1 + x2) / 2, (y1 + y2) / 2
        else:  # a loop or back edge bends around the right side of both boxes
            bends += 1
            x1, y1 = ox + a.x + a.w, oy + a.y + a.h / 2 + 8
            x2, y2 = ox + b.x + b.w, oy + b.y + b.h / 2 - 8
            bx = max(x1, x2) + 36 + 12 * bends
            d = f"M{x1:.1f},{y1:.1f} C{bx:.1f},{y1 + 18:.1f} {bx:.1f},{y2 - 18:.1f} {x2:.1f},{y2:.1f}"
            # the curve's outermost point is three quarters of the way to its control points
            lx, ly = max(x1, x2) + 0.75 * (bx - max(x1, x2)), (y1 + y2) / 2
        parts.append(_path(d))
        if edge.action:
            w = text_width(edge.action) + 8
            parts.append(
                f'<rect x="{lx - w / 2:.1f}" y="{ly - 9:.1f}" width="{w:.1f}" height="17" rx="3" '
                'fill="#fff" opacity="0.9"/>'
                f'<text class="action" x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="middle" fill="#333">'
                f"{escape(edge.action)}</text>"
            )


def _path(d: str) -> str:
    return f'<path d="{d}" fill="none" stroke="#555" stroke-width="1.3" marker-end="url(#arrow)"/>'
