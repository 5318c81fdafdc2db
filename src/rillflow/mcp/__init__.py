"""rillflow.mcp: the tools of MCP servers (stdio, streamable HTTP, SSE) for toolboxes and agents.

``pip install 'rillflow[mcp]'``; see docs/mcp.md::

    from rillflow.mcp import MCPToolset

    async with MCPToolset.stdio("python", ["server.py"]) as tools:
        agent = Agent(model, tools)
"""

from .toolset import MCPCall, MCPError, MCPToolError, MCPToolset, result_text
from .transports import HTTPServer

__all__ = ["HTTPServer", "MCPCall", "MCPError", "MCPToolError", "MCPToolset", "result_text"]
