"""Pieces of an exported config: properties, tools, LLM configs, agents and rillflow metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..agents.agent import Agent
from ..agents.protocol import NativeProtocol, StructuredProtocol
from ..agents.tool import Tool
from ..core.async_nodes import AsyncParallelBatchFlow, AsyncParallelBatchNode
from ..core.flow import Flow
from ..core.node import BaseNode, Node
from .llms import export_model
from .mcp_export import split_tools
from .relink import relink

Schema = dict[str, Any]
RETRY_FIELDS = ("max_retries", "wait", "backoff", "max_wait", "jitter", "timeout")


@dataclass
class ExportState:
    """What one export collects: the registry of Python objects by name."""

    registry: dict[str, Any] = field(default_factory=dict)

    def register(self, name: str, obj: Any) -> str:
        """A unique name for ``obj`` (the same object keeps its name)."""
        base, n = name, 1
        while name in self.registry and self.registry[name] is not obj:
            n += 1
            name = f"{base}#{n}"
        self.registry[name] = obj
        return name


def component_id(path: str) -> str:
    """A stable id from the object's place in the graph, so that exports of one flow diff cleanly."""
    return re.sub(r"[^A-Za-z0-9_.#/-]", "_", path)


def base(
    kind: str, path: str, name: str, meta: dict[str, Any] | None = None, desc: str | None = None
) -> Schema:
    metadata = {"rillflow": meta} if meta else {}
    return {
        "component_type": kind,
        "id": component_id(path),
        "name": name,
        "description": desc,
        "metadata": metadata,
    }


def properties(schemas: dict[str, Schema]) -> list[Schema]:
    return [{**schema, "title": key} for key, schema in schemas.items()]


def policy(node: BaseNode) -> dict[str, Any]:
    """A node's settings Agent Spec has no field for (only the ones that differ from the defaults)."""
    found: dict[str, Any] = {"class": type(node).__name__}
    if node.name is not None:
        found["name"] = node.name
    if isinstance(node, Node):
        defaults = {
            "max_retries": 1,
            "wait": 0,
            "backoff": 1.0,
            "max_wait": None,
            "jitter": 0.0,
            "timeout": None,
        }
        for attr in RETRY_FIELDS:
            value = getattr(node, attr, defaults[attr])
            if value != defaults[attr]:
                found[attr] = value
    if isinstance(node, AsyncParallelBatchNode | AsyncParallelBatchFlow):
        if node.max_concurrency is not None:
            found["max_concurrency"] = node.max_concurrency
        if not node.fail_fast:
            found["fail_fast"] = False
    if isinstance(node, Flow):
        if node.max_steps is not None:
            found["max_steps"] = node.max_steps
        if node.strict:
            found["strict"] = True
    if node.params:
        found["params"] = dict(node.params)
    return found


def llm_config(model: Any, path: str) -> Schema:
    fields = export_model(model)
    meta = fields.pop("metadata")
    out = base(fields.pop("component_type"), f"{path}/llm", model.name)
    out["metadata"] = meta
    out.update(fields)
    return out


def tool_component(state: ExportState, one: Tool, path: str) -> Schema:
    name = state.register(one.name, one)
    out = base("ServerTool", f"{path}/tools/{name}", name, desc=one.description or None)
    params = one.parameters.get("properties", {})
    required = set(one.parameters.get("required", ()))
    inputs = []
    for key, schema in params.items():
        prop = {**schema, "title": key}
        if key not in required and "default" not in prop:
            prop["default"] = None
        inputs.append(prop)
    out["inputs"] = inputs
    out["outputs"] = [{"title": f"{one.name}_output"}]
    if one.confirm:
        out["requires_confirmation"] = True
    return out


def agent_options(agent: Agent) -> dict[str, Any]:
    cfg = agent.config
    protocol = cfg.protocol
    options: dict[str, Any] = {
        "max_iterations": cfg.max_iterations,
        "key": cfg.key,
        "input_key": cfg.input_key,
    }
    if isinstance(protocol, StructuredProtocol):
        options["protocol"], options["fmt"] = "structured", protocol.fmt
    elif isinstance(protocol, NativeProtocol):
        options["protocol"] = "native"
    act = agent.start_node.successors["think"].successors["tools"] if agent.start_node else None
    options["max_parallel_tools"] = getattr(act, "max_concurrency", None)
    if cfg.toolbox.timeout is not None:
        options["tool_timeout"] = cfg.toolbox.timeout
    for attr in ("require_tool", "answer_on_last_turn", "repeat_calls"):
        options[attr] = getattr(cfg, attr)
    if cfg.options:
        options["model_options"] = dict(cfg.options)
    return options


def agent_component(state: ExportState, agent: Agent, path: str) -> Schema:
    cfg = agent.config
    meta = {"kind": "agent", "name": agent.name, **agent_options(agent)}
    out = base("Agent", path, agent.name or "Agent", meta)
    out["inputs"] = []  # Agent Spec agent inputs are system-prompt placeholders; the question is a message
    out["outputs"] = [{"title": "answer", "type": "string", "default": ""}]
    out["llm_config"] = llm_config(cfg.model, path)
    out["system_prompt"] = cfg.instructions
    others, mcp_tools, boxes = split_tools(cfg.toolbox)
    out["tools"] = [tool_component(state, t, path) for t in others] + mcp_tools
    if boxes:
        out["toolboxes"] = boxes
    # MCP components loaded from a config share their transport: written once, referenced elsewhere
    return relink(out) if mcp_tools or boxes else out
