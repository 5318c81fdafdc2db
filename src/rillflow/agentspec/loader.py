"""``AgentSpecLoader``: Agent Spec configs (JSON or YAML, versions 25.4 to 26.x) to runnable rillflow objects.

Loading never imports or runs anything the file names: Python code comes only from ``tool_registry``,
HTTP calls go only to ``allowed_hosts``, and LLM configs become models that connect on first use.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..llm.base import Model
from .build import Builder
from .document import parse_text, read_document
from .nested import SpecFlow
from .nodes import SpecNode


class AgentSpecLoader:
    """Load Agent Spec configs into rillflow flows, agents and nodes.

    ``tool_registry`` maps ServerTool names to functions (or rillflow tools), and the names of Python
    nodes exported by :class:`AgentSpecExporter` to those nodes; ``llm`` runs every LLM of the config on
    one model instead of the servers the config names; ``allowed_hosts`` are the hosts (``name`` or
    ``name:port``) RemoteTools may call (none by default).
    """

    def __init__(
        self,
        tool_registry: Mapping[str, Any] | None = None,
        *,
        llm: Model | None = None,
        allowed_hosts: Collection[str] = (),
        remote_timeout: float = 30.0,
    ) -> None:
        self.tool_registry = dict(tool_registry or {})
        self.llm = llm
        self.allowed_hosts = frozenset(allowed_hosts)
        self.remote_timeout = remote_timeout

    def load_yaml(self, text: str) -> Any:
        """The flow, agent or node that the YAML config describes."""
        return self.load_dict(parse_text(text, "yaml"))

    def load_json(self, text: str) -> Any:
        """The flow, agent or node that the JSON config describes."""
        return self.load_dict(parse_text(text, "json"))

    def load_dict(self, data: Any) -> Any:
        """The flow, agent or node that the parsed config describes."""
        document = read_document(data)
        loaded = Builder(document, self).component(document.root)
        if isinstance(loaded, SpecFlow | SpecNode) and document.version:
            loaded.agentspec_version = document.version  # written back by AgentSpecExporter
        return loaded
