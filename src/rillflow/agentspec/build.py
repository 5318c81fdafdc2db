"""Building rillflow objects from a resolved Agent Spec document (used by ``AgentSpecLoader``)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ..agents.agent import Agent
from ..agents.tool import Tool
from ..core.node import BaseNode
from ..llm.base import Model
from . import native
from .document import Document
from .errors import AgentSpecError, UnsupportedComponentError
from .llms import build_model, is_llm_config
from .mcp_servers import require_mcp
from .mcp_tools import MCPBox, SpecToolbox, mcp_tool, start_with_toolboxes
from .multi import manager_workers, specialized_agent, swarm
from .nested import (
    AgentNode,
    CatchExceptionNode,
    FlowNode,
    MapNode,
    ParallelFlowNode,
    ParallelMapNode,
    SpecFlow,
    render_instructions,
)
from .nodes import (
    BranchingNode,
    EndNode,
    InputMessageNode,
    LlmNode,
    OutputMessageNode,
    SpecNode,
    StartNode,
    ToolNode,
    action_for,
)
from .properties import by_title
from .tools import SUPPORTED_TOOLS, client_tool, remote_tool, server_tool

if TYPE_CHECKING:
    from .loader import AgentSpecLoader

SIMPLE_NODES: dict[str, type[SpecNode]] = {
    "StartNode": StartNode,
    "EndNode": EndNode,
    "BranchingNode": BranchingNode,
    "InputMessageNode": InputMessageNode,
    "OutputMessageNode": OutputMessageNode,
}
AGENT_TYPES = ("Agent", "SpecializedAgent", "ManagerWorkers", "Swarm")
SUPPORTED = (
    "Flow, Agent, SpecializedAgent, ManagerWorkers, Swarm, StartNode, EndNode, LlmNode, ToolNode, AgentNode, "
    "FlowNode, BranchingNode, MapNode, "
    "ParallelMapNode, ParallelFlowNode, CatchExceptionNode, InputMessageNode, OutputMessageNode, "
    "ServerTool, ClientTool, RemoteTool, MCPTool, MCPToolBox (StdioTransport, SSETransport, "
    "StreamableHTTPTransport and their mTLS variants), VllmConfig, OllamaConfig, OpenAiCompatibleConfig, "
    "OpenAiConfig"
)


class Builder:
    def __init__(self, document: Document, loader: AgentSpecLoader) -> None:
        self.doc = document
        self.loader = loader
        self.models: dict[int, Model] = {}

    # --- errors ---------------------------------------------------------------------------------
    def unsupported(
        self, component: dict[str, Any], what: str = "component type"
    ) -> UnsupportedComponentError:
        kind, name = component.get("component_type"), component.get("name")
        named = f" (named {name!r})" if name else ""
        return UnsupportedComponentError(
            f"{self.doc.where(component)}: {what} {kind!r}{named} is not supported by rillflow "
            f"(supported: {SUPPORTED})"
        )

    def require(self, component: dict[str, Any], field: str) -> Any:
        value = component.get(field)
        if value is None:
            kind = component.get("component_type")
            raise AgentSpecError(f"{self.doc.where(component)}: {kind} needs a {field!r}")
        return value

    # --- dispatch -------------------------------------------------------------------------------
    def component(self, c: dict[str, Any]) -> Any:
        kind = c.get("component_type")
        if kind == "Flow":
            return self.flow(c)
        if kind in AGENT_TYPES:
            return self.agent(c)
        if kind in (*SUPPORTED_TOOLS, "MCPTool"):
            return self.tool(c)
        if is_llm_config(c):
            return self.model(c)
        return self.node(c)

    def model(self, config: dict[str, Any]) -> Model:
        if self.loader.llm is not None:
            return self.loader.llm
        if id(config) not in self.models:  # one model object per config: they share a limiter
            self.models[id(config)] = build_model(config, self.doc.where(config))
        return self.models[id(config)]

    def tool(self, c: dict[str, Any]) -> Tool:
        kind = c.get("component_type")
        if kind == "ServerTool":
            return server_tool(c, self.loader.tool_registry, self.doc.where(c))
        if kind == "ClientTool":
            return client_tool(c)
        if kind == "RemoteTool":
            return remote_tool(c, self.loader.allowed_hosts, self.loader.remote_timeout)
        if kind == "MCPTool":
            where = self.doc.where(c)
            require_mcp(c, where)
            transport = self.require(c, "client_transport")
            return mcp_tool(c, self.loader.mcp.toolset(transport, self.doc.where(transport)), where)
        raise self.unsupported(c, "tool type")

    def toolbox(self, c: dict[str, Any]) -> MCPBox:
        if c.get("component_type") != "MCPToolBox":
            raise self.unsupported(c, "toolbox type")
        where = self.doc.where(c)
        require_mcp(c, where)
        transport = self.require(c, "client_transport")
        return MCPBox(c, self.loader.mcp.toolset(transport, self.doc.where(transport)), where)

    def agent(self, c: dict[str, Any]) -> Agent:
        kind = c.get("component_type")
        if kind == "SpecializedAgent":
            return specialized_agent(self, c)
        if kind == "ManagerWorkers":
            return manager_workers(self, c)
        if kind == "Swarm":
            return swarm(self, c)
        if kind != "Agent":
            raise self.unsupported(c, "agent type")
        boxes = [self.toolbox(b) for b in c.get("toolboxes") or ()]
        tools = [self.tool(t) for t in c.get("tools") or ()]
        options = native.agent_options(c)
        model = self.model(self.require(c, "llm_config"))
        toolbox: Any = tools
        if boxes:  # their tools come from the servers when a run starts
            toolbox = SpecToolbox(tools, boxes, timeout=options.pop("tool_timeout", None))
        agent = Agent(model, toolbox, instructions=str(c.get("system_prompt") or ""), **options)
        defaults = {t: p["default"] for t, p in by_title(c.get("inputs")).items() if "default" in p}
        if boxes:
            return start_with_toolboxes(agent, defaults)
        return render_instructions(agent, defaults)

    # --- nodes ----------------------------------------------------------------------------------
    def node(self, c: dict[str, Any]) -> BaseNode:
        kind = str(c.get("component_type"))
        if kind in SIMPLE_NODES:
            return SIMPLE_NODES[kind](c)
        if kind == "LlmNode":
            return LlmNode(c, self.model(self.require(c, "llm_config")))
        if kind == "ToolNode":
            tool = self.require(c, "tool")
            if tool.get("component_type") == "ClientTool":
                return ToolNode(c, None)
            return ToolNode(c, self.tool(tool))
        if kind == "AgentNode":
            return AgentNode(c, self.agent(self.require(c, "agent")))
        if kind in ("FlowNode", "CatchExceptionNode"):
            cls = FlowNode if kind == "FlowNode" else CatchExceptionNode
            return cls(c, self.flow(self.require(c, "subflow")))
        if kind in ("MapNode", "ParallelMapNode"):
            map_cls = MapNode if kind == "MapNode" else ParallelMapNode
            node = map_cls(c, self.flow(self.require(c, "subflow")))
            node.max_concurrency = (c.get("metadata") or {}).get("rillflow", {}).get("max_concurrency")
            return node
        if kind == "ParallelFlowNode":
            return ParallelFlowNode(c, [self.flow(f) for f in c.get("subflows") or ()])
        raise self.unsupported(c)

    # --- flows ----------------------------------------------------------------------------------
    def flow(self, c: dict[str, Any]) -> Any:
        if native.is_native(c):
            return native.build_flow(self, c)
        flow = SpecFlow(c)
        nodes = self.flow_nodes(c)
        self.connect(c, nodes)
        bind_data(c, nodes)
        flow.start_node = nodes[id(self.require(c, "start_node"))]
        return flow

    def flow_nodes(self, c: dict[str, Any]) -> dict[int, BaseNode]:
        """A fresh runtime node per component of this flow (a component shared by two flows gets two)."""
        components = list(c.get("nodes") or ())
        start = self.require(c, "start_node")
        if all(n is not start for n in components):
            components.insert(0, start)
        nodes: dict[int, BaseNode] = {}
        names: Counter[str] = Counter()
        for nc in components:
            if id(nc) in nodes:
                continue
            node = native.build_node(self, nc) if native.is_native(nc) else self.node(nc)
            names[node.name or ""] += 1
            if (
                isinstance(node, SpecNode) and names[node.name or ""] > 1
            ):  # unique names keep shared keys and event paths apart
                node.name = f"{node.name}#{names[node.name or '']}"
            nodes[id(nc)] = node
        return nodes

    def connect(self, c: dict[str, Any], nodes: dict[int, BaseNode]) -> None:
        for i, edge in enumerate(c.get("control_flow_connections") or ()):
            where = f"{self.doc.where(c)}.control_flow_connections[{i}]"
            src, dst = edge.get("from_node"), edge.get("to_node")
            if (
                not isinstance(src, dict)
                or id(src) not in nodes
                or not isinstance(dst, dict)
                or id(dst) not in nodes
            ):
                raise AgentSpecError(f"{where}: the edge connects a node that is not in the flow's nodes")
            action = action_for(edge.get("from_branch")) or "default"
            mapping = src.get("mapping") if src.get("component_type") == "BranchingNode" else None
            if mapping and action not in mapping.values() and action in mapping:
                action = str(mapping[action])  # some configs name the mapping key instead of the branch
            nodes[id(src)].successors[action] = nodes[id(dst)]


def bind_data(c: dict[str, Any], nodes: dict[int, BaseNode]) -> None:
    """Point each input at the shared key its data-flow edge names. An output produced by several nodes of
    the flow is also kept under ``"<node name>.<output>"``, so that an edge reads the right node's value."""
    edges = list(c.get("data_flow_connections") or ())
    spec_nodes = {k: n for k, n in nodes.items() if isinstance(n, SpecNode)}
    producers: Counter[str] = Counter()
    for node in spec_nodes.values():
        if not isinstance(node, EndNode):
            producers.update(list(node.outputs))
    fan_in = Counter((id(e.get("destination_node")), str(e.get("destination_input"))) for e in edges)
    for edge in edges:
        src, dst = (
            spec_nodes.get(id(edge.get("source_node"))),
            spec_nodes.get(id(edge.get("destination_node"))),
        )
        out, inp = str(edge.get("source_output")), str(edge.get("destination_input"))
        if src is None or dst is None:
            continue  # a native rillflow node: it reads and writes shared itself
        key = out if producers[out] <= 1 or isinstance(src, EndNode) else f"{src.name}.{out}"
        # Several edges into one input: the value written last wins, which is the plain title.
        dst.sources[inp] = inp if fan_in[(id(dst.component), inp)] > 1 and key != out else key
        targets = src.targets.setdefault(out, [out])
        if key not in targets:
            targets.append(key)
