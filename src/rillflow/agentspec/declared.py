"""Declared inputs and outputs: which ``shared`` keys a node reads and writes, optionally typed.

A node class (or instance) declares them with attributes, read with ``getattr`` so the core needs nothing::

    class Answer(Node):
        inputs = {"question": str, "context": list[str]}   # or a list of names: ["question"]
        outputs = {"answer": str}

A value may be a Python type (``str``, ``list[str]``, ``Literal[...]``, a pydantic model ...), a JSON schema
dict, or ``None`` / ``Any`` for "any value". Nodes that declare nothing are not checked and export with no
inputs or outputs. Flows and agents derive theirs from their nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..agents.agent import Agent
from ..agents.schema import schema_for
from ..core.flow import Flow
from ..core.graph import graph_nodes
from ..core.node import BaseNode
from .nodes import SpecNode

Schema = dict[str, Any]


def to_schema(hint: Any) -> Schema:
    """The JSON schema of a declared type (``{}`` for "any value")."""
    if hint is None or hint is Any:
        return {}
    if isinstance(hint, Mapping):
        return dict(hint)
    try:
        schema, _ = schema_for(hint)
    except TypeError as exc:
        raise TypeError(f"cannot describe the declared type {hint!r} as a JSON schema: {exc}") from None
    return schema


def _declared(obj: Any, attr: str) -> dict[str, Schema]:
    value = getattr(obj, attr, None)
    if value is None or (callable(value) and not isinstance(value, Mapping)):
        return {}
    if isinstance(value, str):
        return {value: {}}
    if isinstance(value, Mapping):
        return {str(k): to_schema(v) for k, v in value.items()}
    try:
        return {str(k): {} for k in value}
    except TypeError:
        raise TypeError(
            f"{type(obj).__name__}.{attr} must be a dict of name -> type or a list of names"
        ) from None


def reads(node: BaseNode) -> dict[str, Schema]:
    """The ``shared`` keys ``node`` reads, with their schemas (flows and agents: derived)."""
    if isinstance(node, SpecNode):
        return {node.sources.get(t, t): p for t, p in node.inputs.items()}
    if isinstance(node, Agent):
        return {node.config.input_key: {"type": "string"}}
    if isinstance(node, Flow) and not _declares(node):
        written: set[str] = set()
        found: dict[str, Schema] = {}
        for inner in graph_nodes(node).values():
            for key, schema in reads(inner).items():
                if key not in written:
                    found.setdefault(key, schema)
            written.update(writes(inner))
        return found
    return _declared(node, "inputs")


def writes(node: BaseNode) -> dict[str, Schema]:
    """The ``shared`` keys ``node`` writes, with their schemas (flows and agents: derived)."""
    if isinstance(node, SpecNode):
        return {key: p for t, p in node.outputs.items() for key in node.targets.get(t, [t])}
    if isinstance(node, Agent):
        return {node.config.key: {"type": "object"}}
    if isinstance(node, Flow) and not _declares(node):
        found: dict[str, Schema] = {}
        for inner in graph_nodes(node).values():
            for key, schema in writes(inner).items():
                found.setdefault(key, schema)
        return found
    return _declared(node, "outputs")


def _declares(node: BaseNode) -> bool:
    return getattr(node, "inputs", None) is not None or getattr(node, "outputs", None) is not None
