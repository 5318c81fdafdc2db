"""MCP tools in toolboxes and agents: in-process, stdio and streamable HTTP servers; tool errors, a
server killed during a call, many agents sharing one connection, events and spans for each call."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any

import pytest
from conftest import SERVER
from mcp.server.mcpserver import MCPServer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rillflow.agents import Agent, Toolbox, run_many
from rillflow.llm import Reply, ScriptedModel, ToolCall
from rillflow.llm.calls import ToolRun
from rillflow.mcp import MCPError, MCPToolset
from rillflow.observe import Emit
from rillflow.observe.otel import TracingHooks
from rillflow.usage import UsageMeter


def in_process() -> MCPServer:
    server = MCPServer("inproc")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def secret() -> str:
        """Not for agents."""
        return "hidden"

    return server


def stdio(**options: Any) -> MCPToolset:
    return MCPToolset.stdio(sys.executable, [str(SERVER)], **options)


def call(name: str, **arguments: Any) -> Reply:
    return Reply("", "tool_calls", tool_calls=(ToolCall("c1", name, json.dumps(arguments)),))


def script(*steps: Reply | str) -> ScriptedModel:
    return ScriptedModel(list(steps))


async def test_in_process_server_tools_keep_their_schemas_with_prefix_and_allowed_tools() -> None:
    async with MCPToolset(in_process(), allowed_tools=["add"], prefix="calc_", confirm=True) as tools:
        (add,) = list(tools)
        assert add.name == "calc_add" and add.description == "Add two integers."
        assert add.parameters["properties"]["a"] == {"title": "A", "type": "integer"}  # as the server gave it
        assert add.confirm and add.source == "mcp:inproc"
        box = Toolbox(tools)
        result = await box.run(ToolCall("c1", "calc_add", '{"a": 2, "b": 3}'))
        assert result.ok and result.output == "5"
        bad = await box.run(ToolCall("c2", "calc_add", '{"a": "two"}'))
        assert not bad.ok and "validation error" in bad.output  # the server's own check, fed back


async def test_errors_for_a_toolset_not_connected_and_an_unknown_allowed_tool() -> None:
    tools = MCPToolset(in_process())
    with pytest.raises(RuntimeError, match="not connected"):
        Toolbox(tools)
    with pytest.raises(MCPError, match="no tool named 'nope'"):
        await MCPToolset(in_process(), allowed_tools=["nope"]).connect()


async def test_stdio_agent_lists_and_calls_tools_and_a_tool_error_goes_back_to_the_model() -> None:
    model = script(call("shout", text="hi", times=2), call("fail", reason="no disk"), "done")
    async with stdio() as tools:
        assert {t.name for t in tools} == {"add", "shout", "fail", "slow", "pid", "header"}
        agent = Agent(model, tools, protocol="native")
        result = await agent.ask_async("go")
    assert result.answer == "done"
    assert [(s["tool"], s["ok"]) for s in result.steps] == [("shout", True), ("fail", False)]
    assert result.steps[0]["output"] == "HI HI"
    assert "cannot do it: no disk" in result.steps[1]["output"]
    assert "Error: fail failed: MCPToolError" in model.calls[2].messages[-1]["content"]
    assert not tools.connected


async def test_a_server_killed_during_a_call_is_a_tool_error_not_a_hang() -> None:
    async with stdio(timeout=120) as tools:
        box = Toolbox(tools)
        pid = int((await box.run(ToolCall("c0", "pid", "{}"))).output)
        running = asyncio.create_task(box.run(ToolCall("c1", "slow", '{"seconds": 100}')))
        await asyncio.sleep(0.3)
        os.kill(pid, signal.SIGKILL)
        result = await asyncio.wait_for(running, 60)  # fails when the pipe closes, not at the timeout
        assert not result.ok and "Connection closed" in result.output and "timed out" not in result.output
        again = await box.run(ToolCall("c2", "add", '{"a": 1, "b": 2}'))
        assert not again.ok and "is gone" in again.output


async def test_a_call_longer_than_the_timeout_is_a_tool_error() -> None:
    async with stdio(timeout=0.5) as tools:
        result = await Toolbox(tools).run(ToolCall("c1", "slow", '{"seconds": 30}'))
    assert not result.ok and "0.5" in result.output


async def test_many_agents_share_one_connection_with_events_spans_and_usage() -> None:
    def reply(prompt: str) -> Reply | str:
        if "\n" not in prompt.strip():  # only the question so far
            n = int(prompt.strip().removeprefix("q"))
            return call("add", a=n, b=1000)
        return f"sum {prompt.strip().splitlines()[-1]}"

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter = UsageMeter()
    runs: list[ToolRun] = []

    def listener(event: object) -> None:
        if isinstance(event, Emit) and isinstance(event.data, ToolRun):
            runs.append(event.data)

    async with stdio() as tools:
        agent = Agent(ScriptedModel(reply), tools, protocol="native")
        inputs = [{"question": f"q{i}"} for i in range(20)]
        hooks = [meter, TracingHooks(tracer_provider=provider)]
        results = await run_many(agent, inputs, max_concurrency=10, hooks=hooks, listeners=[listener])
    assert [r.shared["agent"]["answer"] for r in results] == [f"sum {1000 + i}" for i in range(20)]
    assert meter.totals.tool_calls == 20 and meter.totals.tool_errors == 0
    assert len(runs) == 20 and all(r.source == "mcp:mcp_server.py" and r.ok for r in runs)
    tool_spans = [s for s in exporter.get_finished_spans() if s.name == "tool add"]
    assert len(tool_spans) == 20
    assert tool_spans[0].attributes["rillflow.tool.source"] == "mcp:mcp_server.py"


async def test_streamable_http_server_on_localhost(http_url: str) -> None:
    async with MCPToolset.http(http_url, prefix="remote_") as tools:
        assert "remote_add" in {t.name for t in tools}
        agent = Agent(script(call("remote_add", a=40, b=2), "42"), tools, protocol="native")
        result = await agent.ask_async("what is 40 + 2?")
    assert result.steps[0]["output"] == "42" and result.answer == "42"


async def test_confirm_flag_asks_before_calling_the_server() -> None:
    asked: list[str] = []

    def confirm(request: Any) -> bool:
        asked.append(request.tool)
        return request.tool == "calc_add"

    model = script(call("calc_add", a=1, b=2), call("calc_secret"), "done")
    async with MCPToolset(in_process(), prefix="calc_", confirm={"add", "secret"}) as tools:
        result = await Agent(model, tools, protocol="native", confirm=confirm).ask_async("go")
    assert asked == ["calc_add", "calc_secret"]
    assert [(s["tool"], s["ok"], s["output"]) for s in result.steps] == [
        ("calc_add", True, "3"),
        ("calc_secret", False, "Error: the user declined this call of calc_secret"),
    ]
