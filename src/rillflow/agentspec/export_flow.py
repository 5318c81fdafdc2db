"""Exporting a rillflow flow: its nodes, control-flow edges (actions as branches) and data-flow edges
(from the nodes' declared inputs and outputs)."""

from __future__ import annotations

from typing import Any

from ..agents.agent import Agent
from ..core.async_nodes import AsyncParallelBatchFlow, AsyncParallelBatchNode
from ..core.flow import BatchFlow, Flow
from ..core.graph import graph_nodes
from ..core.node import BaseNode, BatchNode
from .declared import reads, writes
from .document import REF, REFS
from .export_parts import ExportState, agent_component, base, policy, properties
from .nodes import NEXT
from .properties import titles

Schema = dict[str, Any]
ACTION = "action"  # the output a Python node's chosen action is exported as


def ref(component_id: str) -> Schema:
    return {REF: component_id}


class _FlowExport:
    def __init__(self, state: ExportState, flow: Flow, path: str, exits: tuple[str, ...]) -> None:
        self.state, self.flow, self.path, self.exits = state, flow, path, exits
        self.keys = graph_nodes(flow)
        self.ids = {id(node): f"{path}/{key}" for key, node in self.keys.items()}
        self.refs: dict[str, Schema] = {}
        self.control: list[Schema] = []
        self.data: list[Schema] = []
        self.inputs = reads(flow)
        self.outputs = writes(flow)

    def edge(self, src: str, dst: str, branch: str | None) -> None:
        name = f"{src.rsplit('/', 1)[-1]}->{dst.rsplit('/', 1)[-1]}" + (f" ({branch})" if branch else "")
        out = base("ControlFlowEdge", f"{src}->{dst}:{branch}", name)
        out.update(from_node=ref(src), from_branch=branch, to_node=ref(dst))
        self.control.append(out)

    def data_edge(self, src: str, out_key: str, dst: str, in_key: str) -> None:
        if out_key not in titles(self.refs[src].get("outputs")) or in_key not in titles(
            self.refs[dst].get("inputs")
        ):
            return  # an agent's question and state are not Agent Spec properties
        name = f"{out_key}: {src.rsplit('/', 1)[-1]}->{dst.rsplit('/', 1)[-1]}"
        edge = base("DataFlowEdge", f"{src}.{out_key}->{dst}.{in_key}", name)
        edge.update(
            source_node=ref(src), source_output=out_key, destination_node=ref(dst), destination_input=in_key
        )
        self.data.append(edge)

    def build(self) -> Schema:
        start_id, end_ids = f"{self.path}/start", {"default": f"{self.path}/end"}
        end_ids.update({x: f"{self.path}/end_{x}" for x in self.exits})
        io = properties(self.inputs)
        self.refs[start_id] = {
            **base("StartNode", start_id, "start", {"kind": "helper"}),
            "inputs": io,
            "outputs": io,
            "branches": [NEXT],
        }
        outs = properties(self.outputs)
        for action, end_id in end_ids.items():
            branch = NEXT if action == "default" else action
            self.refs[end_id] = {
                **base("EndNode", end_id, f"end {branch}" if branch != NEXT else "end", {"kind": "helper"}),
                "inputs": outs,
                "outputs": outs,
                "branches": [],
                "branch_name": branch,
            }
        if self.flow.start_node is not None:
            self.edge(start_id, self.ids[id(self.flow.start_node)], None)
        for key, node in self.keys.items():
            self.node(key, node, end_ids)
        self.wire_data(start_id, list(end_ids.values()))
        meta = {"kind": "flow", **policy(self.flow)}
        out = base("Flow", self.path, self.flow.name or type(self.flow).__name__, meta, _doc(self.flow))
        out.update(
            inputs=io,
            outputs=outs,
            start_node=ref(start_id),
            nodes=[ref(i) for i in self.refs if "Edge" not in self.refs[i]["component_type"]],
            control_flow_connections=self.control,
            data_flow_connections=self.data,
        )
        out[REFS] = self.refs
        return out

    def node(self, key: str, node: BaseNode, end_ids: dict[str, str]) -> None:
        node_id = self.ids[id(node)]
        targets = {action: self.ids[id(nxt)] for action, nxt in node.successors.items()}
        for action, end_id in end_ids.items():
            targets.setdefault(action, end_id)
        if isinstance(node, Flow) and not isinstance(node, Agent | BatchFlow):
            exits = tuple(a for a in node.successors if a != "default")
            self.refs[node_id] = nested_flow_node(self.state, node, node_id, key, exits)
            for action, dst in targets.items():
                if action == "default" or action in exits:
                    self.edge(node_id, dst, None if action == "default" else action)
            return
        if isinstance(node, Agent):
            self.refs[node_id] = agent_node(self.state, node, node_id, key)
        elif isinstance(node, BatchFlow):
            self.refs[node_id] = map_flow_node(self.state, node, node_id, key)
        else:
            self.refs[node_id] = python_node(
                self.state, node, node_id, key, branching=set(targets) != {"default"}
            )
        if set(targets) == {"default"} or isinstance(node, Agent | BatchFlow):
            # An AgentNode or MapNode has the one branch "next": its other actions live in the metadata.
            self.edge(node_id, targets["default"], None)
            others = {a: self.ids[id(n)] for a, n in node.successors.items() if a != "default"}
            if others:
                self.refs[node_id]["metadata"]["rillflow"]["edges"] = others
            return
        branch_id = f"{node_id}/branch"
        mapping = {a: a for a in targets if a != "default"}
        self.refs[branch_id] = {
            **base("BranchingNode", branch_id, f"{key} action", {"kind": "helper"}),
            "inputs": [{"title": ACTION, "type": "string", "default": "default"}],
            "outputs": [],
            "branches": sorted({*mapping.values(), "default"}),
            "mapping": mapping,
        }
        self.edge(node_id, branch_id, None)
        self.data_edge(node_id, ACTION, branch_id, ACTION)
        for action, dst in targets.items():
            self.edge(branch_id, dst, action)

    def wire_data(self, start_id: str, end_ids: list[str]) -> None:
        writers: dict[str, list[str]] = {}
        for node in self.keys.values():
            for k in writes(node):
                writers.setdefault(k, []).append(self.ids[id(node)])
        for node in self.keys.values():
            if isinstance(node, BatchNode | BatchFlow):
                continue
            for k in reads(node):
                if k in self.inputs:
                    self.data_edge(start_id, k, self.ids[id(node)], k)
                for w in writers.get(k, []):
                    if w != self.ids[id(node)]:
                        self.data_edge(w, k, self.ids[id(node)], k)
        for k in self.outputs:
            for end_id in end_ids:
                for w in writers.get(k, []):
                    self.data_edge(w, k, end_id, k)


def flow_component(state: ExportState, flow: Flow, path: str, exits: tuple[str, ...]) -> Schema:
    return _FlowExport(state, flow, path, exits).build()


def _doc(obj: Any) -> str | None:
    doc = type(obj).__doc__
    if not doc or type(obj).__module__.startswith("rillflow."):
        return None
    return doc.strip().splitlines()[0]


def python_node(state: ExportState, node: BaseNode, node_id: str, key: str, *, branching: bool) -> Schema:
    name = state.register(key, node)
    meta = {"kind": "node", "registry": name, **policy(node)}
    ins, outs = properties(reads(node)), properties(writes(node))
    if branching:
        outs.append({"title": ACTION, "type": "string", "default": "default"})
    if isinstance(node, BatchNode):
        return map_python_node(node, node_id, key, meta, name)
    tool = base("ServerTool", f"{node_id}/tool", name, desc=_doc(node))
    tool.update(inputs=ins, outputs=outs)
    out = base("ToolNode", node_id, key, meta, _doc(node))
    out.update(inputs=ins, outputs=outs, branches=[NEXT], tool=tool)
    return out


def map_python_node(node: BaseNode, node_id: str, key: str, meta: Schema, name: str) -> Schema:
    """A batch node: a MapNode whose subflow calls the node's per-item ``exec`` (the ServerTool)."""
    item, result = {"title": "item"}, {"title": "result"}
    sub = f"{node_id}/each"
    tool = base("ServerTool", f"{sub}/tool", name, desc=_doc(node))
    tool.update(inputs=[item], outputs=[result])
    refs = {
        f"{sub}/start": {
            **base("StartNode", f"{sub}/start", "start"),
            "inputs": [item],
            "outputs": [item],
            "branches": [NEXT],
        },
        f"{sub}/exec": {
            **base("ToolNode", f"{sub}/exec", f"{key} exec"),
            "inputs": [item],
            "outputs": [result],
            "branches": [NEXT],
            "tool": tool,
        },
        f"{sub}/end": {
            **base("EndNode", f"{sub}/end", "end"),
            "inputs": [result],
            "outputs": [result],
            "branches": [],
            "branch_name": NEXT,
        },
    }
    subflow = base("Flow", sub, f"{key} per item")
    subflow.update(
        inputs=[item],
        outputs=[result],
        start_node=ref(f"{sub}/start"),
        nodes=[ref(i) for i in refs],
        control_flow_connections=[],
        data_flow_connections=[],
    )
    flow_edges = _FlowEdges(sub)
    flow_edges.add(f"{sub}/start", f"{sub}/exec", f"{sub}/end")
    subflow["control_flow_connections"] = flow_edges.control
    subflow["data_flow_connections"] = flow_edges.data
    subflow[REFS] = refs
    kind = "ParallelMapNode" if isinstance(node, AsyncParallelBatchNode) else "MapNode"
    out = base(kind, node_id, key, meta, _doc(node))
    out.update(
        inputs=[{"title": "iterated_item", "anyOf": [{}, {"type": "array", "items": {}}], "default": []}],
        outputs=[{"title": "collected_result", "type": "array", "items": {}}],
        branches=[NEXT],
        subflow=subflow,
    )
    return out


class _FlowEdges:
    def __init__(self, path: str) -> None:
        self.path, self.control, self.data = path, list[Schema](), list[Schema]()

    def add(self, start: str, middle: str, end: str) -> None:
        for src, dst in ((start, middle), (middle, end)):
            edge = base(
                "ControlFlowEdge", f"{src}->{dst}", f"{src.rsplit('/', 1)[-1]}->{dst.rsplit('/', 1)[-1]}"
            )
            edge.update(from_node=ref(src), from_branch=None, to_node=ref(dst))
            self.control.append(edge)
        for src, out, dst, inp in ((start, "item", middle, "item"), (middle, "result", end, "result")):
            edge = base("DataFlowEdge", f"{src}.{out}->{dst}", f"{out}")
            edge.update(
                source_node=ref(src), source_output=out, destination_node=ref(dst), destination_input=inp
            )
            self.data.append(edge)


def nested_flow_node(
    state: ExportState, flow: Flow, node_id: str, key: str, exits: tuple[str, ...]
) -> Schema:
    sub = flow_component(state, flow, f"{node_id}/flow", exits)
    out = base("FlowNode", node_id, key, {"kind": "subflow"})
    out.update(inputs=sub["inputs"], outputs=sub["outputs"], branches=[NEXT, *exits], subflow=sub)
    return out


def map_flow_node(state: ExportState, flow: BatchFlow, node_id: str, key: str) -> Schema:
    sub = flow_component(state, flow, f"{node_id}/flow", ())
    kind = "ParallelMapNode" if isinstance(flow, AsyncParallelBatchFlow) else "MapNode"
    out = base(kind, node_id, key, {"kind": "subflow", "registry": state.register(key, flow)})
    out.update(
        inputs=[
            {
                "title": f"iterated_{p['title']}",
                "anyOf": [dict(p), {"type": "array", "items": dict(p)}],
                "default": [],
            }
            for p in sub["inputs"]
        ],
        outputs=[{"title": f"collected_{p['title']}", "type": "array", "items": {}} for p in sub["outputs"]],
        branches=[NEXT],
        subflow=sub,
    )
    return out


def agent_node(state: ExportState, agent: Agent, node_id: str, key: str) -> Schema:
    inner = agent_component(state, agent, f"{node_id}/agent")
    out = base("AgentNode", node_id, key, {"kind": "subagent"})
    out.update(inputs=inner["inputs"], outputs=inner["outputs"], branches=[NEXT], agent=inner)
    return out
