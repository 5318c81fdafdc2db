"""MCPToolset over HTTP+SSE and with headers; its connection's own task: closed from any task, closed when
the event loop that opened it ends (then opened again in the next), reopened after the server died."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import pytest
from conftest import SERVER

from rillflow.agents import Agent, Toolbox
from rillflow.llm import Reply, ScriptedModel, ToolCall
from rillflow.mcp import HTTPServer, MCPError, MCPToolset


def stdio(**options: Any) -> MCPToolset:
    return MCPToolset.stdio(sys.executable, [str(SERVER)], **options)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def pid_of(tools: MCPToolset) -> int:
    return int(await tools.call("pid", {}))


async def test_sse_server_with_headers(sse_url: str) -> None:
    async with MCPToolset.sse(sse_url, headers={"X-Team": "blue"}) as tools:
        assert tools.name == sse_url and "add" in {t.name for t in tools}
        model = ScriptedModel(
            [Reply("", "tool_calls", tool_calls=(ToolCall("c1", "add", '{"a": 2, "b": 2}'),)), "4"]
        )
        result = await Agent(model, tools, protocol="native").ask_async("2 + 2?")
        assert result.steps[0]["output"] == "4"
        assert await tools.call("header", {"name": "X-Team"}) == "blue"


async def test_streamable_http_with_headers(http_url: str) -> None:
    async with MCPToolset.http(http_url, headers={"Authorization": "Bearer t0k"}) as tools:
        assert isinstance(tools.server, HTTPServer)
        assert await tools.call("header", {"name": "authorization"}) == "Bearer t0k"


def test_http_server_needs_both_halves_of_a_client_certificate() -> None:
    with pytest.raises(ValueError, match="needs both cert_file and key_file"):
        HTTPServer("https://127.0.0.1/mcp", cert_file="client.pem")
    with pytest.raises(ValueError, match="kind must be"):
        HTTPServer("https://127.0.0.1/mcp", kind="websocket")  # type: ignore[arg-type]


async def test_an_unreachable_sse_server_says_what_failed() -> None:
    with pytest.raises(MCPError, match=r"cannot connect \(ConnectError"):
        await MCPToolset.sse("http://127.0.0.1:9/sse").connect()


async def test_the_connection_may_be_opened_and_closed_by_any_task() -> None:
    tools = stdio()
    await asyncio.gather(*(asyncio.create_task(tools.connect()) for _ in range(3)))  # one connection
    pid = await pid_of(tools)
    assert tools.connected and not gone(pid)
    await asyncio.create_task(tools.close())
    assert not tools.connected and gone(pid)
    await tools.close()  # twice is fine


def test_a_connection_ends_with_its_event_loop_and_opens_again_in_the_next() -> None:
    tools = stdio()

    async def use() -> int:
        await tools.connect()
        return await pid_of(tools)

    first = asyncio.run(use())  # no close: asyncio.run's end closes it
    assert gone(first)
    second = asyncio.run(use())
    assert second != first and gone(second)


async def test_connect_reopens_a_connection_whose_server_died() -> None:
    async with stdio() as tools:
        pid = await pid_of(tools)
        os.kill(pid, signal.SIGKILL)
        result = await Toolbox(tools).run(ToolCall("c1", "add", '{"a": 1, "b": 2}'))
        assert not result.ok
        await tools.connect()
        assert await tools.call("add", {"a": 1, "b": 2}) == "3" and await pid_of(tools) != pid
