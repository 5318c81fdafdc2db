"""Agent Spec ``MCPTool`` and ``MCPToolBox`` as rillflow tools, over :class:`MCPToolset` connections.

Nothing connects while loading. An ``MCPTool`` has the name, description and inputs of its config; it
connects on its first call. An agent with ``MCPToolBox``es connects when a run starts
(:class:`MCPStart`) and takes each toolbox's tools from the server's listing then: all of them without a
``tool_filter``, else the ones it names (an ``MCPToolSpec`` may replace the description and ask for
confirmation). Until then, a filtered toolbox's tools carry what the config says of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from ..agents.agent import Agent
from ..agents.tool import Tool
from ..agents.toolbox import Toolbox, ToolResult
from ..llm.types import ToolCall
from ..mcp.toolset import MCPCall, MCPError, MCPToolset
from .mcp_servers import hint, named
from .native import meta
from .nested import _RenderingStart
from .properties import json_schema
from .tools import spec_tool


@dataclass(frozen=True)
class MCPToolCall:
    """The function of a loaded ``MCPTool``: connects (once), checks the server has the tool, calls it."""

    component: dict[str, Any]
    toolset: MCPToolset
    where: str

    async def __call__(self, **arguments: Any) -> Any:
        name = str(self.component.get("name"))
        await connect(self.toolset, self.component, self.where)
        if name not in self.toolset.tools:
            raise MCPError(
                f"{self.where}: {named(self.component)}: the MCP server {self.toolset.name} has no tool "
                f"named {name!r} (it has: {', '.join(self.toolset.tools) or 'none'}); fix the tool's name "
                "or point its transport at the right server with AgentSpecLoader(mcp_servers=...)"
            )
        result = await self.toolset.call_result(name, arguments)
        return tool_value(result, list(self.component.get("outputs") or ()))


@dataclass(frozen=True)
class BoxToolCall:
    """The function of a tool of a loaded ``MCPToolBox``: connects (once), calls ``tool`` on its server
    (a run resumed in a new event loop connects again there)."""

    box: MCPBox
    tool: str

    async def __call__(self, **arguments: Any) -> str:
        await connect(self.box.toolset, self.box.component, self.box.where)
        return await self.box.toolset.call(self.tool, arguments)


async def connect(toolset: MCPToolset, component: dict[str, Any], where: str) -> None:
    """Connect ``toolset`` for ``component``, or raise an error naming the component and what to do."""
    try:
        await toolset.connect()
    except MCPError as exc:
        transport = component.get("client_transport") or {}
        raise MCPError(f"{where}: {named(component)}: {exc}; {hint(transport)}") from exc


def tool_value(result: Any, outputs: list[dict[str, Any]]) -> Any:
    """A tool result as the value its config declares: text for one string output (or none), else the
    structured content (the SDK's ``{"result": ...}`` wrapper removed) or the text read as JSON."""
    text = "\n".join(getattr(b, "text", "") for b in result.content or () if getattr(b, "type", "") == "text")
    if len(outputs) == 1 and outputs[0].get("type") in (None, "string"):
        return text
    if not outputs:
        return text
    structured = result.structured_content
    if isinstance(structured, dict):
        titles = {str(o.get("title")) for o in outputs}
        if set(structured) == {"result"} and "result" not in titles:
            return structured["result"]
        return structured
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def mcp_tool(component: dict[str, Any], toolset: MCPToolset, where: str) -> Tool:
    """A loaded ``MCPTool``: its config's name, description and inputs (the server checks them too)."""
    tool = spec_tool(MCPToolCall(component, toolset, where), component, is_async=True)
    return replace(tool, source=f"mcp:{toolset.name}", timeout=toolset.timeout)


class MCPBox:
    """A loaded ``MCPToolBox``: which server tools it offers, and how (from its ``tool_filter``)."""

    def __init__(self, component: dict[str, Any], toolset: MCPToolset, where: str) -> None:
        self.component, self.toolset, self.where = component, toolset, where
        self.confirm = bool(component.get("requires_confirmation"))
        self.prefix = str(meta(component).get("prefix") or "")  # a toolset's prefix, exported by rillflow
        entries = component.get("tool_filter")
        # name -> its MCPToolSpec ({} for a bare name); None: every tool of the server
        self.filter: dict[str, dict[str, Any]] | None = None
        if entries is not None:
            self.filter = {}
            for entry in entries:
                spec = entry if isinstance(entry, dict) else {}
                self.filter[str(spec.get("name") if spec else entry)] = spec

    def may_ask(self, name: str) -> bool:
        """True when this toolbox asks for confirmation of its tool ``name``, if it offers one."""
        if self.filter is None:
            return self.confirm
        spec = self.filter.get(name.removeprefix(self.prefix))
        return spec is not None and (self.confirm or bool(spec.get("requires_confirmation")))

    def configured_tools(self) -> list[Tool]:
        """The tools the filter names, as the config describes them (before any connection)."""
        tools = []
        for name, spec in (self.filter or {}).items():
            schema = json_schema(list(spec.get("inputs") or ())) if spec.get("inputs") else {"type": "object"}
            tools.append(
                Tool(
                    func=BoxToolCall(self, name),
                    name=self.prefix + name,
                    description=str(spec.get("description") or ""),
                    parameters=schema,
                    timeout=self.toolset.timeout,
                    confirm=self.confirm or bool(spec.get("requires_confirmation")),
                    is_async=True,
                    source=f"mcp:{self.toolset.name}",
                    _check_schema={"type": "object"},  # the server checks the arguments
                )
            )
        return tools

    async def listed_tools(self) -> list[Tool]:
        """The toolbox's tools as the server lists them (connecting if needed)."""
        await connect(self.toolset, self.component, self.where)
        listed = self.toolset.tools
        if self.filter is None:
            return [
                replace(t, func=BoxToolCall(self, n), name=self.prefix + n, confirm=self.confirm)
                for n, t in listed.items()
            ]
        missing = [n for n in self.filter if n not in listed]
        if missing:
            raise MCPError(
                f"{self.where}: {named(self.component)}: the MCP server {self.toolset.name} has no tool "
                f"named {', '.join(map(repr, missing))} (it has: {', '.join(listed) or 'none'}); "
                "fix the tool_filter or point the transport at the right server with "
                "AgentSpecLoader(mcp_servers=...)"
            )
        tools = []
        for name, spec in self.filter.items():
            confirm = self.confirm or bool(spec.get("requires_confirmation"))
            description = str(spec.get("description") or listed[name].description)
            shown, call = self.prefix + name, BoxToolCall(self, name)
            tools.append(
                replace(listed[name], func=call, name=shown, confirm=confirm, description=description)
            )
        return tools


class SpecToolbox(Toolbox):
    """An agent's tools with its ``MCPToolBox``es, whose tools are taken from their servers when a run
    starts (:meth:`connect`), or, in a run resumed where nothing listed them yet (another process), at its
    first tool call."""

    def __init__(self, tools: list[Tool], boxes: list[MCPBox], *, timeout: float | None = None) -> None:
        super().__init__([*tools, *(t for box in boxes for t in box.configured_tools())], timeout=timeout)
        self.boxes = boxes
        # the tools that came from the toolboxes (the others may be added to later, e.g. by a Swarm)
        self.from_boxes = {name for name in self.tools if name not in {t.name for t in tools}}
        self._listed = False  # the toolboxes' tools are the servers' (not only what the config says)

    def needs_confirmation(self, call: ToolCall) -> bool:
        """As for any toolbox; before the listing (a run resumed in another process), also when one of the
        toolboxes could ask for the tool: the answer given before the pause must decide, not be skipped."""
        if super().needs_confirmation(call):
            return True
        return not self._listed and any(box.may_ask(call.name) for box in self.boxes)

    async def run(self, call: ToolCall) -> ToolResult:
        if not self._listed:
            try:
                await self.connect()
            except MCPError as exc:
                return ToolResult.failure(call, str(exc), exception=exc)
        return await super().run(call)

    async def connect(self) -> None:
        """Connect every toolbox's server and put the tools it lists in place of the configured ones."""
        found: dict[str, Tool] = {}
        for box in self.boxes:
            for tool in await box.listed_tools():
                mine = tool.name in self.tools and tool.name not in self.from_boxes
                other = self.tools.get(tool.name) if mine else found.get(tool.name)
                if other is None:
                    found[tool.name] = tool
                elif same_server_tool(other, tool):  # offered twice: once, asking if either asks
                    if tool.confirm and not other.confirm:
                        found[tool.name] = replace(other, confirm=True)
                else:
                    raise MCPError(
                        f"{box.where}: {named(box.component)}: its tool {tool.name!r} has the name of "
                        "another tool of the agent; keep one of them with a tool_filter"
                    )
        for name in self.from_boxes - set(found):
            self.tools.pop(name, None)
        self.tools.update(found)
        self._listed = True
        self.from_boxes = {name for name, tool in found.items() if not isinstance(tool.func, MCPToolCall)}

    def others(self) -> list[Tool]:
        """The agent's tools that do not come from its toolboxes."""
        return [t for t in self if t.name not in self.from_boxes]


def same_server_tool(a: Tool, b: Tool) -> bool:
    """True when both tools call the same tool of the same MCP connection."""

    def target(tool: Tool) -> tuple[int, str] | None:
        if isinstance(tool.func, MCPCall):
            return id(tool.func.toolset), tool.func.tool
        if isinstance(tool.func, BoxToolCall):
            return id(tool.func.box.toolset), tool.func.tool
        if isinstance(tool.func, MCPToolCall):
            return id(tool.func.toolset), str(tool.func.component.get("name"))
        return None

    return target(a) is not None and target(a) == target(b)


class MCPStart(_RenderingStart):
    """The first node of an agent with MCP toolboxes: takes their tools from the servers, then starts
    the turn (and fills the instructions' placeholders, as every loaded agent does)."""

    toolbox: SpecToolbox

    async def prep_async(self, shared: dict[str, Any]) -> Any:
        await self.toolbox.connect()
        return await super().prep_async(shared)


def start_with_toolboxes(agent: Agent, defaults: dict[str, Any]) -> Agent:
    """Make ``agent`` (built on a :class:`SpecToolbox`) take its toolboxes' tools when a run starts."""
    assert isinstance(agent.toolbox, SpecToolbox) and agent.start_node is not None
    start = MCPStart(agent.config, "Start")
    start.defaults, start.toolbox = defaults, agent.toolbox
    start.successors = agent.start_node.successors
    agent.start_node = start
    return agent
