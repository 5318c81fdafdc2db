"""rillflow.agents: tools and tool-calling agents built from rillflow nodes.

``@tool`` turns a function into a tool with a JSON schema from its type hints; a :class:`Toolbox` runs
the calls a model makes (sync tools in threads, async tools awaited, time-bounded, errors returned to
the model); :class:`Agent` is an ``AsyncFlow`` that loops model -> tools -> model; :func:`run_many` runs
a flow over many inputs with one concurrency bound. Only the standard library is imported.
"""

from ..core.run_many import RunResult, run_many
from .agent import Agent, AgentResult
from .confirm import CONFIRM_KIND, Confirm, ConfirmRequest
from .protocol import NativeProtocol, Protocol, StructuredProtocol, Turn
from .schema import schema_for, validate
from .tool import Tool, ToolArgumentsError, tool
from .toolbox import Toolbox, ToolResult

__all__ = [
    "CONFIRM_KIND",
    "Agent",
    "AgentResult",
    "Confirm",
    "ConfirmRequest",
    "NativeProtocol",
    "Protocol",
    "RunResult",
    "StructuredProtocol",
    "Tool",
    "ToolArgumentsError",
    "ToolResult",
    "Toolbox",
    "Turn",
    "run_many",
    "schema_for",
    "tool",
    "validate",
]
