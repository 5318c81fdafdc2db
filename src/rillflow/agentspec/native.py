"""Loading configs exported from rillflow back into the same rillflow graph.

The exporter marks its components in ``metadata["rillflow"]``: Python nodes (``kind: node``) come back as
the registry's node, nested flows and agents as themselves, and the helper Start/End/Branching nodes it
added are folded away, so the loaded flow has the same nodes, keys and actions as the exported one.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..core.async_nodes import AsyncBatchFlow, AsyncFlow, AsyncParallelBatchFlow
from ..core.flow import BatchFlow, Flow
from ..core.node import BaseNode
from .errors import AgentSpecError, MissingToolError
from .nodes import BranchingNode

if TYPE_CHECKING:
    from .build import Builder

FLOW_CLASSES: dict[str, type[Flow]] = {
    cls.__name__: cls for cls in (Flow, AsyncFlow, BatchFlow, AsyncBatchFlow, AsyncParallelBatchFlow)
}
_NOT_SETTINGS = frozenset({"kind", "class", "registry", "edges", "actions"})
AGENT_OPTIONS = (
    "max_iterations", "key", "input_key", "protocol", "fmt", "max_parallel_tools", "tool_timeout",
    "require_tool", "answer_on_last_turn", "repeat_calls", "model_options", "name",
)  # fmt: skip


def meta(component: dict[str, Any]) -> dict[str, Any]:
    found = (component.get("metadata") or {}).get("rillflow")
    return found if isinstance(found, dict) else {}


def is_native(component: dict[str, Any]) -> bool:
    kind = meta(component).get("kind")
    if component.get("component_type") == "Flow":
        return kind == "flow"
    return kind in ("node", "subflow", "subagent", "helper")


def agent_options(component: dict[str, Any]) -> dict[str, Any]:
    found = meta(component)
    options = {k: found[k] for k in AGENT_OPTIONS if k in found}
    options.setdefault("name", str(component.get("name") or "Agent"))
    return options


def apply_settings(node: BaseNode, settings: dict[str, Any]) -> None:
    for attr, value in settings.items():
        if attr not in _NOT_SETTINGS:
            setattr(node, attr, value)


def from_registry(builder: Builder, component: dict[str, Any]) -> BaseNode:
    name = str(meta(component).get("registry") or component.get("name"))
    registry = builder.loader.tool_registry
    entry = registry.get(name)
    if entry is None:
        known = ", ".join(sorted(registry)) or "none"
        raise MissingToolError(
            f"{builder.doc.where(component)}: the rillflow node {name!r} is not in the tool registry "
            f"(registered: {known}); pass AgentSpecExporter().tool_registry(flow) as tool_registry"
        )
    if isinstance(entry, type) and issubclass(entry, BaseNode):
        entry = entry()
    if not isinstance(entry, BaseNode):
        raise AgentSpecError(
            f"{builder.doc.where(component)}: registry entry {name!r} is not a rillflow node"
        )
    node = copy.copy(entry)
    node.successors = {}
    node.params = {}
    return node


def build_node(builder: Builder, component: dict[str, Any]) -> BaseNode:
    found = meta(component)
    kind = found.get("kind")
    if kind == "node":
        node = from_registry(builder, component)
        apply_settings(node, found)
        return node
    if kind == "subflow" and component.get("component_type") == "FlowNode":
        flow: BaseNode = builder.flow(component["subflow"])
        return flow
    if kind == "subflow":  # a batch flow exported as a (Parallel)MapNode
        batch = from_registry(builder, component)
        inner = builder.flow(component["subflow"])
        assert isinstance(batch, Flow)
        batch.start_node = inner.start_node
        apply_settings(batch, meta(component["subflow"]))
        return batch
    if kind == "subagent":
        return builder.agent(component["agent"])
    return builder.node(component)


def build_flow(builder: Builder, component: dict[str, Any]) -> Flow:
    found = meta(component)
    cls = FLOW_CLASSES.get(str(found.get("class")), AsyncFlow)
    flow = cls()
    apply_settings(flow, found)
    nodes = builder.flow_nodes(component)
    builder.connect(component, nodes)
    by_id = {str(c.get("id")): nodes[id(c)] for c in _components(component) if id(c) in nodes}
    for c in _components(component):
        for action, target in (meta(c).get("edges") or {}).items():
            nodes[id(c)].successors[action] = by_id[target]
    helpers = {id(nodes[id(c)]) for c in _components(component) if meta(c).get("kind") == "helper"}
    for node in nodes.values():
        if id(node) not in helpers:
            node.successors = _fold(node.successors, helpers)
    start = nodes[id(component["start_node"])]
    flow.start_node = start.successors.get("default") if id(start) in helpers else start
    return flow


def _components(component: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in component.get("nodes") or () if isinstance(c, dict)]


def _fold(successors: dict[str, BaseNode], helpers: set[int]) -> dict[str, BaseNode]:
    """Drop edges to helper EndNodes; a helper BranchingNode's branches become the node's actions."""
    folded: dict[str, BaseNode] = {}
    for action, nxt in successors.items():
        if id(nxt) not in helpers:
            folded[action] = nxt
        elif isinstance(nxt, BranchingNode):
            folded.update({a: n for a, n in nxt.successors.items() if id(n) not in helpers})
    return folded
