"""Agent Spec tools as rillflow tools: ServerTools from the registry, ClientTools answered by the caller,
RemoteTools as HTTP calls to allowed hosts only."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from typing import Any

from ..agents.tool import Tool
from ..core.node import BaseNode
from .errors import HostNotAllowedError, MissingToolError, UnsupportedComponentError
from .properties import json_schema
from .templates import render

SUPPORTED_TOOLS = ("ServerTool", "ClientTool", "RemoteTool")


def spec_tool(func: Callable[..., Any], component: dict[str, Any], *, is_async: bool | None = None) -> Tool:
    """A rillflow Tool with the name, description and input schema the config gives."""
    schema = json_schema(list(component.get("inputs") or []))
    return Tool(
        func=func,
        name=str(component["name"]),
        description=str(component.get("description") or ""),
        parameters=schema,
        confirm=bool(component.get("requires_confirmation")),
        is_async=asyncio.iscoroutinefunction(func) if is_async is None else is_async,
        _check_schema=schema,
    )


def server_tool(component: dict[str, Any], registry: Mapping[str, Any], where: str) -> Tool:
    name = str(component.get("name"))
    if name not in registry:
        known = ", ".join(sorted(registry)) or "none"
        raise MissingToolError(
            f"{where}: ServerTool {name!r} is not in the tool registry (registered: {known}); "
            f"pass AgentSpecLoader(tool_registry={{{name!r}: function}})"
        )
    entry = registry[name]
    if isinstance(entry, BaseNode) or (isinstance(entry, type) and issubclass(entry, BaseNode)):
        raise UnsupportedComponentError(
            f"{where}: {name!r} is a rillflow node; use it in a ToolNode, not as a tool"
        )
    if isinstance(entry, Tool):  # a rillflow tool keeps its own schema, converters and timeout
        description = str(component.get("description") or entry.description)
        return replace(
            entry, name=name, description=description, confirm=bool(component.get("requires_confirmation"))
        )
    return spec_tool(entry, component)


_PAUSER = BaseNode()  # interrupt() needs no node state: it asks the run's hooks for an answer or pauses


def client_tool(component: dict[str, Any]) -> Tool:
    """A tool run by the caller: calling it pauses the run (``Interrupt``) with the call as payload."""
    name = str(component.get("name"))

    async def ask_client(**arguments: Any) -> Any:
        return _PAUSER.interrupt({"kind": "client_tool", "tool": name, "inputs": arguments})

    return spec_tool(ask_client, component, is_async=True)


def remote_tool(component: dict[str, Any], allowed_hosts: Collection[str], timeout: float = 30.0) -> Tool:
    """A tool that makes the HTTP request the config describes, only to ``allowed_hosts``."""

    def call(**arguments: Any) -> Any:
        return http_call(component, arguments, allowed_hosts, timeout)

    return spec_tool(call, component, is_async=False)


def _fill(value: Any, arguments: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return render(value, arguments)
    if isinstance(value, dict):
        return {k: _fill(v, arguments) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, arguments) for v in value]
    return value


def check_host(url: str, allowed_hosts: Collection[str], tool_allow_list: Any = None) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise HostNotAllowedError(f"RemoteTool URL {url!r}: only http and https are allowed")
    host, netloc = parts.hostname or "", parts.netloc.rpartition("@")[2]
    if host not in allowed_hosts and netloc not in allowed_hosts:
        raise HostNotAllowedError(
            f"RemoteTool host {netloc!r} is not allowed; add it to AgentSpecLoader(allowed_hosts=[...])"
        )
    if tool_allow_list and not any(url.startswith(str(prefix)) for prefix in tool_allow_list):
        raise HostNotAllowedError(f"RemoteTool URL {url!r} is outside the tool's own url_allow_list")


def http_call(
    component: dict[str, Any], arguments: Mapping[str, Any], allowed_hosts: Collection[str], timeout: float
) -> Any:
    url = _fill(str(component["url"]), {k: urllib.parse.quote(str(v), safe="") for k, v in arguments.items()})
    check_host(url, allowed_hosts, component.get("url_allow_list"))
    query = _fill(component.get("query_params") or {}, arguments)
    method = str(component.get("http_method") or "GET").upper()
    data = _fill(component.get("data"), arguments)
    if isinstance(data, dict) and data and method in ("GET", "HEAD"):
        query, data = {**data, **query}, None  # a GET has no body: its data goes in the query
    if query:
        url = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(query, doseq=True)}"
    headers = {str(k): str(v) for k, v in _fill(component.get("headers") or {}, arguments).items()}
    body = None
    if data and method not in ("GET", "HEAD"):
        body = data.encode() if isinstance(data, str) else json.dumps(data).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    opener = urllib.request.build_opener(_CheckedRedirects(allowed_hosts, component.get("url_allow_list")))
    with opener.open(request, timeout=timeout) as response:
        text = response.read().decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to an allowed host too."""

    def __init__(self, allowed_hosts: Collection[str], tool_allow_list: Any) -> None:
        self.allowed_hosts, self.tool_allow_list = allowed_hosts, tool_allow_list

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        check_host(newurl, self.allowed_hosts, self.tool_allow_list)
        return super().redirect_request(req, fp, code, msg, headers, newurl)
