"""Diagrams of a flow, made offline: Mermaid ``flowchart`` text and a self-contained HTML page with an SVG.

print(to_mermaid(flow))                    # paste into any Mermaid renderer (GitHub renders it in .md)
Path("flow.html").write_text(to_html(flow))  # open in a browser: no script, no network
"""

from .diagram import mermaid_text, to_html, to_mermaid
from .svg import draw

__all__ = ["draw", "mermaid_text", "to_html", "to_mermaid"]
