"""``MCPToolset``: the tools of an MCP server, for a :class:`~rillflow.agents.Toolbox` or an
:class:`~rillflow.agents.Agent`, over one connection shared by every run that uses them.

The ``mcp`` SDK (``pip install 'rillflow[mcp]'``) is imported when the toolset connects. The server's
tool schemas are used as given (the server validates arguments); a tool that reports an error, a server
that is gone and a call that takes longer than ``timeout`` all reach the model as tool errors.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Self

from ..agents.tool import Tool


class MCPError(RuntimeError):
    """An MCP server could not be reached or failed a call (the message names the server and tool)."""


class MCPToolError(RuntimeError):
    """An MCP tool reported an error (``isError``); the message is the tool's own text."""


def _import_mcp() -> Any:
    try:
        import mcp
    except ImportError as exc:
        raise ImportError("rillflow.mcp needs the 'mcp' package: pip install 'rillflow[mcp]'") from exc
    return mcp


class MCPToolset:
    """The tools of one MCP server. Connect it once, share it with many agents and runs::

        async with MCPToolset.stdio("python", ["server.py"], prefix="fs_") as tools:
            agent = Agent(model, [*tools, my_tool])
            await run_many(agent, inputs)

    ``server`` is what the SDK's ``mcp.Client`` accepts: a URL (streamable HTTP), a
    ``StdioServerParameters``, an in-process ``MCPServer`` (tests), or a transport; :meth:`stdio` and
    :meth:`http` build the first two. ``allowed_tools`` keeps only the named tools (server names); a
    name missing on the server is an error at connect time. ``prefix`` is put before every tool name the
    model sees. ``confirm`` marks tools as needing a human's confirmation: True for all, or a set of
    server names. ``timeout`` (seconds) bounds each call, ``connect_timeout`` the connection and the
    listing.
    """

    def __init__(
        self,
        server: Any,
        *,
        name: str | None = None,
        allowed_tools: Iterable[str] | None = None,
        prefix: str = "",
        confirm: bool | Iterable[str] = False,
        timeout: float = 60.0,
        connect_timeout: float = 30.0,
    ) -> None:
        if timeout <= 0 or connect_timeout <= 0:
            raise ValueError(f"timeouts must be > 0 seconds, got {timeout!r} and {connect_timeout!r}")
        self.server = server
        self.name = name or _describe(server)
        self.allowed_tools = None if allowed_tools is None else list(allowed_tools)
        self.prefix = prefix
        self.confirm: bool | frozenset[str] = confirm if isinstance(confirm, bool) else frozenset(confirm)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.tools: dict[str, Tool] = {}
        self._client: Any = None
        self._broken: str | None = None

    @classmethod
    def stdio(
        cls,
        command: str,
        args: Iterable[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        **options: Any,
    ) -> MCPToolset:
        """A server started as a subprocess, spoken to over its stdin/stdout (stopped on close)."""
        mcp = _import_mcp()
        argv = list(args)
        params = mcp.StdioServerParameters(
            command=command, args=argv, env=dict(env) if env else None, cwd=cwd
        )
        options.setdefault("name", os.path.basename(argv[-1] if argv else command))
        return cls(params, **options)

    @classmethod
    def http(cls, url: str, **options: Any) -> MCPToolset:
        """A server at ``url`` (streamable HTTP, e.g. ``http://127.0.0.1:8000/mcp``)."""
        options.setdefault("name", url)
        return cls(url, **options)

    # --- connection ---------------------------------------------------------------------------------
    async def connect(self) -> Self:
        """Open the connection and list the server's tools. ``close()`` must run in the same task
        (``async with`` does both)."""
        if self._client is not None:
            return self
        mcp = _import_mcp()
        client = mcp.Client(self.server, read_timeout_seconds=self.timeout)
        try:
            async with asyncio.timeout(self.connect_timeout):
                await client.__aenter__()
        except TimeoutError:
            raise MCPError(f"MCP server {self.name}: no connection after {self.connect_timeout}s") from None
        except Exception as exc:
            raise MCPError(f"MCP server {self.name}: cannot connect ({_text(exc)})") from exc
        self._client, self._broken = client, None
        try:
            async with asyncio.timeout(self.connect_timeout):
                listed = await self._list(client)
            self.tools = self._make_tools(listed)
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Close the connection (a stdio server is stopped). Safe to call twice."""
        client, self._client = self._client, None
        if client is not None:
            await client.__aexit__(None, None, None)

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._client is not None

    # --- tools --------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Tool]:
        if self._client is None:
            raise RuntimeError(
                f"MCPToolset {self.name} is not connected: open it (`async with toolset:`) before "
                "building a Toolbox or Agent from it"
            )
        return iter(self.tools.values())

    def __len__(self) -> int:
        return len(self.tools)

    async def _list(self, client: Any) -> list[Any]:
        tools: list[Any] = []
        cursor = None
        while True:
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools

    def _make_tools(self, listed: list[Any]) -> dict[str, Tool]:
        by_name = {t.name: t for t in listed}
        if self.allowed_tools is not None:
            missing = [n for n in self.allowed_tools if n not in by_name]
            if missing:
                raise MCPError(
                    f"MCP server {self.name} has no tool named {', '.join(map(repr, missing))} "
                    f"(it has: {', '.join(by_name) or 'none'}); fix allowed_tools"
                )
            by_name = {n: by_name[n] for n in self.allowed_tools}
        tools: dict[str, Tool] = {}
        for server_name, listed_tool in by_name.items():
            shown = self.prefix + server_name
            confirm = self.confirm if isinstance(self.confirm, bool) else server_name in self.confirm
            tools[shown] = Tool(
                func=self._caller(server_name),
                name=shown,
                description=listed_tool.description or "",
                parameters=dict(listed_tool.input_schema),  # as the server gives it
                timeout=self.timeout,
                confirm=confirm,
                is_async=True,
                source=f"mcp:{self.name}",
                _check_schema={"type": "object"},  # the server checks the arguments against its schema
            )
        return tools

    def _caller(self, server_name: str) -> Any:
        async def call(**arguments: Any) -> str:
            return await self.call(server_name, arguments)

        return call

    async def call(self, tool: str, arguments: Mapping[str, Any]) -> str:
        """Call the server's tool ``tool`` (its server name) and return its output as text.

        Raises :class:`MCPToolError` when the tool reports an error and :class:`MCPError` when the server
        cannot answer (gone, timed out); a Toolbox turns both into an error message for the model.
        """
        client = self._client
        if client is None:
            raise MCPError(f"MCP server {self.name} is not connected (closed, or never opened)")
        if self._broken is not None:
            raise MCPError(f"MCP server {self.name} is gone ({self._broken})")
        try:
            async with asyncio.timeout(self.timeout):
                result = await client.call_tool(tool, dict(arguments))
        except TimeoutError:
            raise MCPError(f"MCP server {self.name}: {tool} got no answer within {self.timeout}s") from None
        except Exception as exc:
            if _connection_lost(exc):
                self._broken = _text(exc)
            raise MCPError(f"MCP server {self.name}: calling {tool} failed ({_text(exc)})") from exc
        text = result_text(result)
        if result.is_error:
            raise MCPToolError(text or f"{tool} reported an error")
        return text


def result_text(result: Any) -> str:
    """The text a model is shown for an MCP tool result: its text blocks, other blocks described, or
    the structured content as JSON when there is no text."""
    parts: list[str] = []
    for block in result.content or ():
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(f"[{kind}: {getattr(block, 'mime_type', '')}]")
        elif kind == "resource_link":
            parts.append(f"[resource: {getattr(block, 'uri', '')}]")
        elif kind == "resource":
            resource = block.resource
            parts.append(getattr(resource, "text", None) or f"[resource: {getattr(resource, 'uri', '')}]")
    if not parts and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False, default=str)
    return "\n".join(parts)


def _connection_lost(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return any(word in text for word in ("closed", "brokenresource", "endofstream", "connection"))


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _describe(server: Any) -> str:
    if isinstance(server, str):
        return server
    command = getattr(server, "command", None)
    if command is not None:
        return " ".join([command, *getattr(server, "args", [])])
    return str(getattr(server, "name", None) or type(server).__name__)
