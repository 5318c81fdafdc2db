"""Diagrams of a flow, made offline: Mermaid ``flowchart`` text and a self-contained HTML page.

    print(to_mermaid(flow))                    # paste into any Mermaid renderer (GitHub renders it in .md)
    Path("flow.html").write_text(to_html(flow))  # open in a browser: no script, no network

Nodes are named by the same keys as events, traces and checkpoints (``Step``, ``Step#2``...); edges carry
their action (the default action is unlabelled); loops are edges back to an earlier node; a nested flow is
a ``subgraph`` with its own start marker. Batch nodes use Mermaid's subroutine shape ``[[ ]]``.
"""

from __future__ import annotations

from html import escape

from ..core.flow import Flow
from ..core.graph_model import Graph, flow_graph
from .svg import draw

_INDENT = "    "


def mermaid_text(text: str) -> str:
    """``text`` made safe inside a quoted Mermaid label (Mermaid's ``#name;`` entity codes)."""
    text = " ".join(text.split())
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return text


def to_mermaid(flow: Flow, direction: str = "TD") -> str:
    """Mermaid ``flowchart`` source for ``flow``: nodes, action-labelled edges, nested flows as subgraphs."""
    if direction not in {"TD", "TB", "BT", "LR", "RL"}:
        raise ValueError(f"direction must be one of TD, TB, BT, LR, RL; got {direction!r}")
    graph = flow_graph(flow)
    lines = [f"flowchart {direction}", f'{_INDENT}%% rillflow flow "{mermaid_text(graph.key)}"']
    _graph_lines(graph, 1, lines)
    return "\n".join(lines) + "\n"


def _graph_lines(graph: Graph, depth: int, lines: list[str]) -> None:
    pad = _INDENT * depth
    if graph.start is not None:
        lines.append(f'{pad}{graph.id}_start(("start")) --> {graph.start}')
    for box in graph.boxes:
        label = mermaid_text(box.key)
        if box.inner is not None:
            title = label if box.kind == "flow" else f"{label} ({box.kind})"
            lines.append(f'{pad}subgraph {box.id} ["{title}"]')
            _graph_lines(box.inner, depth + 1, lines)
            lines.append(f"{pad}end")
        elif box.kind == "batch":
            lines.append(f'{pad}{box.id}[["{label}"]]')
        else:
            lines.append(f'{pad}{box.id}["{label}"]')
    for edge in graph.edges:
        arrow = f'-->|"{mermaid_text(edge.action)}"|' if edge.action else "-->"
        lines.append(f"{pad}{edge.src} {arrow} {edge.dst}")


def to_html(flow: Flow, title: str | None = None) -> str:
    """A self-contained HTML page: an SVG drawing of ``flow`` plus its Mermaid source.

    The page loads nothing (no script, no CDN, no web font), so it works offline and can be attached to a
    bug report. The drawing is rillflow's own simple layout; for Mermaid's layout, paste the source shown
    on the page into any Mermaid renderer.
    """
    graph = flow_graph(flow)
    heading = escape(title or f"{graph.key} — rillflow flow")
    return _PAGE.format(title=heading, svg=draw(graph), mermaid=escape(to_mermaid(flow)))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
.diagram {{ overflow: auto; }}
pre {{ background: #f4f4f4; padding: 1em; overflow: auto; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div class="diagram">
{svg}
</div>
<details>
<summary>Mermaid source</summary>
<p>Paste this into any Mermaid renderer (for example a <code>```mermaid</code> block in a GitHub markdown
file) for Mermaid's own layout.</p>
<pre class="mermaid-source">{mermaid}</pre>
</details>
</body>
</html>
"""
