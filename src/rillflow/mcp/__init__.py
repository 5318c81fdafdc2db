"""rillflow.mcp: the tools of MCP servers (stdio, streamable HTTP) for toolboxes and agents.

``pip install 'rillflow[mcp]'``; see docs/mcp.md::

    from rillflow.mcp import MCPToolset

    async with MCPToolset.stdio("python", ["server.py"]) as tools:
        agent = Agent(model, tools)
"""

from .toolset import MCPError, MCPToolError, MCPToolset, result_text

__all__ = ["MCPError", "MCPToolError", "MCPToolset", "result_text"]
