"""``AgentSpecExporter``: rillflow flows and agents as Agent Spec configs (JSON or YAML).

Python nodes become ``ToolNode``s over ``ServerTool``s named like the node (``tool_registry(obj)`` gives
the name -> node mapping a loader needs); a node with several actions is followed by a ``BranchingNode``
on its ``action`` output; nested flows become ``FlowNode``s (batch flows ``MapNode``/``ParallelMapNode``)
ending in one ``EndNode`` per action the parent routes on; agents become ``Agent``/``AgentNode``.
What Agent Spec has no field for (retry policy, ``max_concurrency``, params, ``max_steps``, the agent's
loop options) goes under each component's ``metadata["rillflow"]``, so loading the config back into
rillflow gives the same graph.
"""

from __future__ import annotations

import json
from typing import Any

from ..agents.agent import Agent
from ..core.flow import Flow
from ..core.node import BaseNode
from .declared import reads, writes
from .document import VERSION
from .errors import AgentSpecError
from .export_flow import flow_component
from .export_parts import ExportState, agent_component
from .nested import SpecFlow
from .nodes import SpecNode
from .relink import relink

DEFAULT_VERSION = "25.4.2"  # the oldest with requires_confirmation and ParallelMapNode


class AgentSpecExporter:
    """Export rillflow objects to Agent Spec. ``version`` is the ``agentspec_version`` written."""

    def __init__(self, *, version: str = DEFAULT_VERSION) -> None:
        self.version = version

    def to_dict(self, obj: BaseNode) -> dict[str, Any]:
        """The config as plain data (what ``to_json``/``to_yaml`` write)."""
        version = getattr(obj, "agentspec_version", None) or self.version  # a loaded config keeps its own
        return {**self._export(obj)[0], VERSION: version}

    def to_json(self, obj: BaseNode, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(obj), indent=indent, ensure_ascii=False)

    def to_yaml(self, obj: BaseNode) -> str:
        try:
            import yaml
        except ImportError as exc:
            raise ImportError("writing YAML configs needs PyYAML: pip install 'rillflow[agentspec]'") from exc

        class _NoAliases(yaml.SafeDumper):
            def ignore_aliases(self, data: Any) -> bool:  # a config is read by people: no &id001 anchors
                return True

        text: str = yaml.dump(self.to_dict(obj), Dumper=_NoAliases, sort_keys=False, allow_unicode=True)
        return text

    def tool_registry(self, obj: BaseNode) -> dict[str, Any]:
        """The Python nodes and tools the config names, by name: give it to ``AgentSpecLoader``."""
        return self._export(obj)[1].registry

    def _export(self, obj: BaseNode) -> tuple[dict[str, Any], ExportState]:
        state = ExportState()
        if isinstance(obj, SpecFlow | SpecNode):  # loaded from a config: written back as it was read
            return relink(obj.component), state
        if isinstance(obj, Agent):
            return agent_component(state, obj, "agent"), state
        if isinstance(obj, Flow):
            return flow_component(state, obj, "flow", ()), state
        raise AgentSpecError(
            f"cannot export {type(obj).__name__}: export a Flow or an Agent "
            "(wrap a single node in Flow(node))"
        )


__all__ = ["AgentSpecExporter", "reads", "writes"]
