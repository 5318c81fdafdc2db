"""rillflow.agentspec: flows and agents as Open Agent Specification configs (JSON or YAML).

``AgentSpecExporter().to_yaml(flow)`` writes a flow or agent as an Agent Spec config that WayFlow and
pyagentspec's adapters read; ``AgentSpecLoader(tool_registry=...).load_yaml(text)`` turns a config into
a runnable rillflow flow, agent or node. Declared node inputs and outputs (``inputs = {"q": str}``) give
exported components real schemas and data-flow edges, and :class:`IOContract` checks them at run time.
Only the standard library is imported (PyYAML when YAML is read or written).
"""

from .contract import IOContract
from .declared import reads, writes
from .errors import (
    AgentSpecError,
    HostNotAllowedError,
    MissingInputError,
    MissingToolError,
    OutputContractError,
    UnsupportedComponentError,
)
from .exporter import AgentSpecExporter
from .loader import AgentSpecLoader
from .nested import SpecFlow
from .nodes import CONVERSATION, SpecNode
from .run import run_config

__all__ = [
    "CONVERSATION",
    "AgentSpecError",
    "AgentSpecExporter",
    "AgentSpecLoader",
    "HostNotAllowedError",
    "IOContract",
    "MissingInputError",
    "MissingToolError",
    "OutputContractError",
    "SpecFlow",
    "SpecNode",
    "UnsupportedComponentError",
    "reads",
    "run_config",
    "writes",
]
