"""The MCP servers a config names: Agent Spec client transports as :class:`MCPToolset` connections.

One connection per transport component (tools and toolboxes that reference one transport share it),
opened on first use, never while loading. ``AgentSpecLoader(mcp_servers={key: server})`` points a
transport somewhere else: ``key`` is the transport's ``id``, ``name`` or ``url``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..mcp.toolset import MCPToolset
from ..mcp.transports import HTTPKind, HTTPServer
from .errors import AgentSpecError, UnsupportedComponentError

TRANSPORTS: dict[str, HTTPKind | None] = {
    "StdioTransport": None,
    "SSETransport": "sse",
    "SSEmTLSTransport": "sse",
    "StreamableHTTPTransport": "streamable-http",
    "StreamableHTTPmTLSTransport": "streamable-http",
}
MCP_COMPONENTS = ("MCPTool", "MCPToolBox", *TRANSPORTS)


def named(component: dict[str, Any]) -> str:
    """How errors name a component: its type, name and id."""
    return f"{component.get('component_type')} {component.get('name')!r} (id {component.get('id')!r})"


def require_mcp(component: dict[str, Any], where: str) -> None:
    """Loading an MCP component needs the MCP SDK (to connect later): say so now, naming it."""
    try:
        import mcp  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{where}: {named(component)} needs the MCP SDK: pip install 'rillflow[mcp]'"
        ) from exc


def server_for(transport: dict[str, Any], where: str) -> Any:
    """What :class:`MCPToolset` connects to for an Agent Spec client transport."""
    kind = transport.get("component_type")
    if kind not in TRANSPORTS:
        raise UnsupportedComponentError(
            f"{where}: client transport {kind!r} (named {transport.get('name')!r}) is not supported by "
            f"rillflow (supported: {', '.join(TRANSPORTS)})"
        )
    if kind == "StdioTransport":
        command = transport.get("command")
        if not command:
            raise AgentSpecError(f"{where}: StdioTransport needs a 'command'")
        import mcp

        env = transport.get("env")
        return mcp.StdioServerParameters(
            command=str(command),
            args=[str(a) for a in transport.get("args") or ()],
            env={str(k): str(v) for k, v in env.items()} if env else None,
            cwd=transport.get("cwd"),
        )
    if transport.get("auth") is not None:
        raise UnsupportedComponentError(
            f"{where}: {named(transport)}: 'auth' (OAuth) is not supported by rillflow; send the token in "
            "'headers' or 'sensitive_headers', or connect it with AgentSpecLoader(mcp_servers=...)"
        )
    url = transport.get("url")
    if not url:
        raise AgentSpecError(f"{where}: {kind} needs a 'url'")
    headers = {**(transport.get("headers") or {}), **(transport.get("sensitive_headers") or {})}
    tls: dict[str, Any] = {}
    if kind.endswith("mTLSTransport"):
        tls = {f: transport.get(f) for f in ("cert_file", "key_file", "ca_file")}
        missing = [f for f in ("cert_file", "key_file") if not tls[f]]
        if missing:
            raise AgentSpecError(f"{where}: {kind} needs {' and '.join(map(repr, missing))} for mutual TLS")
    http_kind = TRANSPORTS[kind]
    assert http_kind is not None
    return HTTPServer(
        str(url), kind=http_kind, headers={str(k): str(v) for k, v in headers.items()} or None, **tls
    )


class MCPServers:
    """The MCP connections of everything one loader loaded (see ``AgentSpecLoader.aclose``)."""

    def __init__(self, overrides: Mapping[str, Any]) -> None:
        self.overrides = dict(overrides)
        self.toolsets: dict[int, tuple[dict[str, Any], MCPToolset]] = {}  # keeps the component alive

    def toolset(self, transport: dict[str, Any], where: str) -> MCPToolset:
        """The connection for ``transport`` (one per component, created on first request)."""
        found = self.toolsets.get(id(transport))
        if found is None:
            server = self.server(transport, where)
            timeout = float((transport.get("session_parameters") or {}).get("read_timeout_seconds") or 60.0)
            found = (transport, MCPToolset(server, timeout=timeout))
            self.toolsets[id(transport)] = found
        return found[1]

    def server(self, transport: dict[str, Any], where: str) -> Any:
        keys = [transport.get(field) for field in ("id", "name", "url")]
        key = next((str(k) for k in keys if k is not None and str(k) in self.overrides), None)
        if key is None:
            return server_for(transport, where)
        value = self.overrides[key]
        if isinstance(value, Mapping) and "component_type" in value:  # another Agent Spec transport
            return server_for(dict(value), f"mcp_servers[{key!r}]")
        if isinstance(value, str):  # another URL for the same kind of transport, headers and TLS kept
            configured = server_for(transport, where) if transport.get("url") else None
            if isinstance(configured, HTTPServer):
                return dataclasses.replace(configured, url=value)
            return HTTPServer(value)
        return value  # anything MCPToolset takes: StdioServerParameters, HTTPServer, an in-process server

    async def aclose(self) -> None:
        """Close every connection that is open (stdio servers are stopped)."""
        for _, toolset in list(self.toolsets.values()):
            await toolset.close()


def hint(transport: dict[str, Any]) -> str:
    """What to do when a transport's server cannot be reached."""
    key = transport.get("url") or transport.get("name") or transport.get("id")
    return f"start the server, or connect the config to it with AgentSpecLoader(mcp_servers={{{key!r}: ...}})"
