"""Helpers for the Agent Spec tests: the example configs (read in place), stub tools, pyagentspec checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / ".." / "shared" / "agentspec-examples"  # the shared data, never copied into the repo


# What rillflow does not run yet: file -> the component type named in the error.
UNSUPPORTED = {
    "configs/howto_ociagent.yaml": "OciAgent",
    "pyagentspec-tests/a2aagent.yaml": "A2AAgent",
    "pyagentspec-tests/example_serialized_agent_with_tools_and_builtin_tools.yaml": "BuiltinTool",
    "pyagentspec-tests/example_tools_with_confirmation_25_4_2.yaml": "BuiltinTool",  # its MCPTool loads
    "pyagentspec-tests/ociagent.yaml": "OciAgent",
}
# The configs with MCP components: run against a real MCP server in test_agentspec_mcp.py (their own
# server URLs are placeholders, or on the internet: no other test may run them).
MCP_CONFIGS = [
    "configs/ext_code_assistant_tutorial.yaml",
    "configs/ext_tutorial_cybersecurity_flow.yaml",
    "configs/howto_mcp_agent.yaml",
    "configs/howto_mcp_flow.yaml",
    "pyagentspec-tests/example_serialized_agent_with_tools_and_toolboxes_25_4_2.yaml",
    "pyagentspec-tests/example_serialized_agent_with_tools_and_toolboxes_26_1_2.yaml",
]


def listed_configs() -> list[str]:
    """The config files pyagentspec 26.3.1 loads, as listed in the examples' README."""
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    block = readme.split("```")[1]
    return [line.strip() for line in block.splitlines() if line.strip()]


def invalid_configs() -> list[str]:
    return sorted(
        f"pyagentspec-tests/invalid/{p.name}" for p in (EXAMPLES / "pyagentspec-tests" / "invalid").iterdir()
    )


def read(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


def server_tool_names(data: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(data, dict):
        if data.get("component_type") == "ServerTool":
            found.add(str(data["name"]))
        for value in data.values():
            found |= server_tool_names(value)
    elif isinstance(data, list):
        for value in data:
            found |= server_tool_names(value)
    return found


def stub_registry(name: str, result: Any = "stub") -> dict[str, Callable[..., Any]]:
    """A stub function for every ServerTool the config names; each records its calls in ``.calls``."""
    registry: dict[str, Callable[..., Any]] = {}
    for tool_name in server_tool_names(yaml.safe_load(read(name))):
        registry[tool_name] = recorder(tool_name, result)
    return registry


def recorder(tool_name: str, result: Any) -> Callable[..., Any]:
    calls: list[dict[str, Any]] = []

    def stub(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return result(**kwargs) if callable(result) else result

    stub.calls = calls  # type: ignore[attr-defined]
    stub.__name__ = tool_name
    return stub


def validate_with_pyagentspec(text: str, fmt: str = "yaml") -> Any:
    """Load an exported config with pyagentspec itself (raises when it does not validate)."""
    from pyagentspec.serialization import AgentSpecDeserializer

    loader = AgentSpecDeserializer()
    return loader.from_yaml(text) if fmt == "yaml" else loader.from_json(text)


def as_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)
