"""An agent's MCP tools as Agent Spec ``MCPTool``/``MCPToolBox`` components with their client transport.

Tools loaded from a config are written back as the components they came from (so a round trip is
lossless); the tools of an :class:`MCPToolset` built in Python become one ``MCPToolBox`` per toolset,
whose ``tool_filter`` names exactly the tools the agent holds.
"""

from __future__ import annotations

from typing import Any

from ..agents.tool import Tool
from ..agents.toolbox import Toolbox
from ..mcp.toolset import MCPCall, MCPToolset
from ..mcp.transports import HTTPServer
from .errors import AgentSpecError
from .mcp_tools import MCPToolCall, SpecToolbox

Schema = dict[str, Any]
SECRET_HEADERS = ("authorization", "cookie", "token", "key", "secret")  # never written to a config


def split_tools(toolbox: Toolbox) -> tuple[list[Tool], list[Schema], list[Schema]]:
    """(the agent's other tools, its MCPTool components, its MCPToolBox components)."""
    others: list[Tool] = []
    mcp_tools: list[Schema] = []
    boxes: list[Schema] = []
    groups: dict[int, tuple[MCPToolset, list[Tool]]] = {}
    loaded_box_tools: set[str] = set()
    if isinstance(toolbox, SpecToolbox):
        boxes.extend(box.component for box in toolbox.boxes)
        loaded_box_tools = set(toolbox.from_boxes)
    for tool in toolbox:
        if tool.name in loaded_box_tools:
            continue
        if isinstance(tool.func, MCPToolCall):
            mcp_tools.append(tool.func.component)
        elif isinstance(tool.func, MCPCall):
            groups.setdefault(id(tool.func.toolset), (tool.func.toolset, []))[1].append(tool)
        else:
            others.append(tool)
    for toolset, tools in groups.values():
        boxes.append(toolset_component(toolset, tools))
    return others, mcp_tools, boxes


def toolset_component(toolset: MCPToolset, tools: list[Tool]) -> Schema:
    """An ``MCPToolBox`` offering ``tools`` (of ``toolset``): bare names, or an ``MCPToolSpec`` for a tool
    that needs confirmation."""
    box_id = f"mcp/{toolset.name}"
    entries: list[Any] = []
    for tool in tools:
        assert isinstance(tool.func, MCPCall)
        if tool.confirm:
            entries.append(
                {
                    "component_type": "MCPToolSpec",
                    "id": f"{box_id}/{tool.func.tool}",
                    "name": tool.func.tool,
                    "description": tool.description or None,
                    "metadata": {},
                    "inputs": [],
                    "outputs": [],
                    "requires_confirmation": True,
                }
            )
        else:
            entries.append(tool.func.tool)
    metadata = {"rillflow": {"prefix": toolset.prefix}} if toolset.prefix else {}
    return {
        "component_type": "MCPToolBox",
        "id": box_id,
        "name": toolset.name,
        "description": None,
        "metadata": metadata,
        "client_transport": transport_component(toolset, f"{box_id}/transport"),
        "tool_filter": entries,
    }


def transport_component(toolset: MCPToolset, component_id: str) -> Schema:
    """The Agent Spec client transport for the server ``toolset`` connects to."""
    server = toolset.server
    out: Schema = {
        "id": component_id,
        "name": toolset.name,
        "description": None,
        "metadata": {},
        "session_parameters": {"read_timeout_seconds": toolset.timeout},
    }
    if isinstance(server, str):
        server = HTTPServer(server)
    if isinstance(server, HTTPServer):
        kind = "SSE" if server.kind == "sse" else "StreamableHTTP"
        headers = {
            k: v for k, v in (server.headers or {}).items() if not any(s in k.lower() for s in SECRET_HEADERS)
        }
        out.update(component_type=f"{kind}{'mTLS' if server.tls else ''}Transport", url=server.url)
        out["headers"] = headers or None
        if server.tls:
            out.update(cert_file=server.cert_file, key_file=server.key_file, ca_file=server.ca_file)
        return out
    command = getattr(server, "command", None)
    if isinstance(command, str):  # the SDK's StdioServerParameters
        out.update(
            component_type="StdioTransport",
            command=command,
            args=list(getattr(server, "args", None) or []),
            env=getattr(server, "env", None),
            cwd=None if getattr(server, "cwd", None) is None else str(server.cwd),
        )
        return out
    raise AgentSpecError(
        f"cannot export the MCP server {toolset.name}: Agent Spec describes servers reached over stdio, "
        "SSE or streamable HTTP, not an in-process server or a transport object"
    )
