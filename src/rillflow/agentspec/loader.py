"""``AgentSpecLoader``: Agent Spec configs (JSON or YAML, versions 25.4 to 26.x) to runnable rillflow objects.

Loading never imports or runs anything the file names: Python code comes only from ``tool_registry``,
HTTP calls go only to ``allowed_hosts``, and LLM configs and MCP servers connect on first use.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Self

from ..agents.agent import Agent
from ..llm.base import Model
from .build import Builder
from .document import newer, parse_text, read_document
from .exporter import DEFAULT_VERSION
from .mcp_servers import MCPServers
from .nested import SpecFlow
from .nodes import SpecNode


class AgentSpecLoader:
    """Load Agent Spec configs into rillflow flows, agents and nodes.

    ``tool_registry`` maps ServerTool names to functions (or rillflow tools), and the names of Python
    nodes exported by :class:`AgentSpecExporter` to those nodes; ``llm`` runs every LLM of the config on
    one model instead of the servers the config names; ``allowed_hosts`` are the hosts (``name`` or
    ``name:port``) RemoteTools may call (none by default). ``mcp_servers`` connects MCP client
    transports elsewhere than the config says: ``{transport id, name or url: server}``, the server being
    a URL (same transport kind, headers kept), an Agent Spec transport dict, or anything
    :class:`rillflow.mcp.MCPToolset` takes. Nothing connects while loading; :meth:`aclose` (or
    ``async with``) closes the connections opened by async runs.
    """

    def __init__(
        self,
        tool_registry: Mapping[str, Any] | None = None,
        *,
        llm: Model | None = None,
        allowed_hosts: Collection[str] = (),
        remote_timeout: float = 30.0,
        mcp_servers: Mapping[str, Any] | None = None,
    ) -> None:
        self.tool_registry = dict(tool_registry or {})
        self.llm = llm
        self.allowed_hosts = frozenset(allowed_hosts)
        self.remote_timeout = remote_timeout
        self.mcp = MCPServers(mcp_servers or {})

    async def aclose(self) -> None:
        """Close the MCP connections of what this loader loaded (stdio servers are stopped). A sync run
        (``flow.run``, ``agent.ask``) needs none: its event loop closes them when it ends."""
        await self.mcp.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

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
        elif isinstance(loaded, Agent) and document.version and newer(document.version, DEFAULT_VERSION):
            # an agent is exported anew, at least at the version its config needs (e.g. for its toolboxes)
            setattr(loaded, "agentspec_version", document.version)  # noqa: B010 (not an Agent attribute)
        return loaded
