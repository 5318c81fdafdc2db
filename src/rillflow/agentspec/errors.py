"""Errors of rillflow.agentspec: each names the component and where it is in the file."""

from __future__ import annotations


class AgentSpecError(ValueError):
    """An Agent Spec config that rillflow cannot load, or an object it cannot export."""


class UnsupportedComponentError(AgentSpecError):
    """A component type rillflow does not run (the message names the type and its location)."""


class MissingToolError(AgentSpecError):
    """A ServerTool of the config is not in the loader's ``tool_registry``."""


class MissingInputError(KeyError):
    """A node ran without a value for one of its declared inputs (and the input has no default)."""

    def __str__(self) -> str:  # KeyError quotes its argument; this message is a sentence
        return str(self.args[0]) if self.args else ""


class OutputContractError(TypeError):
    """A node did not write one of its declared outputs, or wrote a value of the wrong type."""


class HostNotAllowedError(PermissionError):
    """A RemoteTool tried to call a host outside the loader's ``allowed_hosts``."""
