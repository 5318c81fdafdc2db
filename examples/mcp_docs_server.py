"""A small MCP server over the bundled documents (``examples/data/docs``), for ``mcp_agent.py``.

    python examples/mcp_docs_server.py                        # stdio (what mcp_agent.py starts)
    python examples/mcp_docs_server.py --http 127.0.0.1:8000  # streamable HTTP at /mcp

Needs ``pip install 'rillflow[mcp]'``. It is an ordinary MCP server: any MCP client can use it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

DOCS = Path(__file__).resolve().parent / "data" / "docs"
server = MCPServer("bundled-docs")


@server.tool()
def list_documents() -> list[str]:
    """The names of the documents that can be read."""
    return sorted(path.stem for path in DOCS.glob("*.md"))


@server.tool()
def read_document(name: str, max_chars: int = 600) -> str:
    """The start of one document, by name (see list_documents)."""
    path = DOCS / f"{name}.md"
    if not path.is_file():
        raise ToolError(f"no document named {name!r}; call list_documents for the names")
    return path.read_text(encoding="utf-8")[:max_chars]


@server.tool()
def delete_document(name: str) -> str:
    """Delete a document (not really: this example never deletes anything)."""
    return f"{name} would be deleted"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        host, port = sys.argv[2].rsplit(":", 1)
        server.run("streamable-http", host=host, port=int(port))
    else:
        server.run()
