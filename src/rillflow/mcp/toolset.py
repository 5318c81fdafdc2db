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
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from ..agents.tool import Tool
from .transports import HTTPServer, client_target


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
    ``StdioServerParameters``, an in-process ``MCPServer`` (tests), or a transport; or an
    :class:`~rillflow.mcp.HTTPServer` (SSE, headers, mutual TLS). :meth:`stdio`, :meth:`http` and
    :meth:`sse` build the usual ones. ``allowed_tools`` keeps only the named tools (server names); a
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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._owner: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None

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
    def http(cls, url: str, *, headers: Mapping[str, str] | None = None, **options: Any) -> MCPToolset:
        """A server at ``url`` (streamable HTTP, e.g. ``http://127.0.0.1:8000/mcp``), sent ``headers``."""
        options.setdefault("name", url)
        return cls(HTTPServer(url, headers=headers) if headers else url, **options)

    @classmethod
    def sse(cls, url: str, *, headers: Mapping[str, str] | None = None, **options: Any) -> MCPToolset:
        """A server at ``url`` speaking the older HTTP+SSE transport (e.g. ``http://127.0.0.1:8000/sse``)."""
        options.setdefault("name", url)
        return cls(HTTPServer(url, kind="sse", headers=headers), **options)

    # --- connection ---------------------------------------------------------------------------------
    async def connect(self) -> Self:
        """Open the connection and list the server's tools (once: calling it again, or from several
        tasks at once, is one connection; after the server went away, it connects again). A task of its
        own holds the connection, so any task of the event loop may close it; when the loop ends (a
        sync run's ``asyncio.run``), it is closed."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a connection made in an ended event loop ended with it
            self._client, self._owner, self._stop = None, None, None
            self._loop, self._lock = loop, asyncio.Lock()
        assert self._lock is not None
        async with self._lock:
            if self._client is not None and (self._broken is not None or not self.connected):
                await self.close()  # the server went away: connect again
            if self._client is None:
                await self._open(loop)
        return self

    async def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        mcp = _import_mcp()
        ready: asyncio.Future[Any] = loop.create_future()
        stop = asyncio.Event()
        owner = loop.create_task(self._hold(mcp, ready, stop), name=f"mcp connection {self.name}")
        try:
            async with asyncio.timeout(self.connect_timeout):
                client = await asyncio.shield(ready)
        except TimeoutError:
            await _finish(owner, stop, ready)
            raise MCPError(f"MCP server {self.name}: no connection after {self.connect_timeout}s") from None
        except BaseException:
            await _finish(owner, stop, ready)
            raise
        self._client, self._owner, self._stop, self._broken = client, owner, stop, None
        try:
            async with asyncio.timeout(self.connect_timeout):
                listed = await self._list(client)
            self.tools = self._make_tools(listed)
        except TimeoutError:
            await self.close()
            raise MCPError(f"MCP server {self.name}: no tool list after {self.connect_timeout}s") from None
        except BaseException:
            await self.close()
            raise

    async def _hold(self, mcp: Any, ready: asyncio.Future[Any], stop: asyncio.Event) -> None:
        """The connection's own task: open it, hand the client over, keep it until ``stop``."""
        try:
            async with mcp.Client(client_target(self.server), read_timeout_seconds=self.timeout) as client:
                if not ready.done():
                    ready.set_result(client)
                await stop.wait()
        except Exception as exc:
            if not ready.done():
                ready.set_exception(MCPError(f"MCP server {self.name}: cannot connect ({_text(exc)})"))
            else:
                self._broken = _text(exc)
        finally:
            if not ready.done():
                ready.set_exception(MCPError(f"MCP server {self.name}: the connection was cancelled"))

    async def close(self) -> None:
        """Close the connection (a stdio server is stopped). Safe to call twice, from any task."""
        owner, stop = self._owner, self._stop
        self._client, self._owner, self._stop = None, None, None
        if owner is None or stop is None or owner.done():
            return
        if owner.get_loop() is not asyncio.get_running_loop():
            owner.get_loop().call_soon_threadsafe(stop.set)  # its own loop closes it
            return
        await _finish(owner, stop)

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._owner is not None and not self._owner.done()

    # --- tools --------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Tool]:
        if not self.connected:
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
                func=MCPCall(self, server_name),
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

    async def call(self, tool: str, arguments: Mapping[str, Any]) -> str:
        """Call the server's tool ``tool`` (its server name) and return its output as text.

        Raises :class:`MCPToolError` when the tool reports an error and :class:`MCPError` when the server
        cannot answer (gone, timed out); a Toolbox turns both into an error message for the model.
        """
        return result_text(await self.call_result(tool, arguments))

    async def call_result(self, tool: str, arguments: Mapping[str, Any]) -> Any:
        """Like :meth:`call`, but the SDK's ``CallToolResult`` (with ``structured_content``)."""
        client = self._client
        if client is None or self._loop is not asyncio.get_running_loop():
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
        if result.is_error:
            raise MCPToolError(result_text(result) or f"{tool} reported an error")
        return result


@dataclass(frozen=True)
class MCPCall:
    """The function behind an MCP tool: calls ``tool`` (its name on the server) through ``toolset``."""

    toolset: MCPToolset
    tool: str

    async def __call__(self, **arguments: Any) -> str:
        return await self.toolset.call(self.tool, arguments)


async def _finish(
    owner: asyncio.Task[None], stop: asyncio.Event, ready: asyncio.Future[Any] | None = None
) -> None:
    """Stop a connection's task and wait until it has closed the connection (even if we are cancelled)."""
    stop.set()
    if not owner.done():
        await asyncio.shield(owner)
    if ready is not None and ready.done() and not ready.cancelled():
        ready.exception()  # read: a failure we already reported is not logged again as unretrieved


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
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:  # the SDK's task groups wrap the cause
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _describe(server: Any) -> str:
    if isinstance(server, str):
        return server
    if isinstance(server, HTTPServer):
        return server.url
    command = getattr(server, "command", None)
    if command is not None:
        return " ".join([command, *getattr(server, "args", [])])
    return str(getattr(server, "name", None) or type(server).__name__)
