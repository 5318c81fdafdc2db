"""Every listed config that loads is run once with a generic scripted model and stub tools: it ends,
pauses for the caller, or stops with a clear error naming a flow input the config never provides.
(test_agentspec_run.py and test_agentspec_agents.py run them with scripts that check the results;
test_agentspec_mcp.py runs the MCP ones against a local MCP server.)"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from agentspec_helpers import EXAMPLES, MCP_CONFIGS, UNSUPPORTED, listed_configs, read, stub_registry

from rillflow.agents import Agent
from rillflow.agentspec import AgentSpecLoader, MissingInputError
from rillflow.durable import MemoryCheckpointer
from rillflow.llm import Model, ScriptedModel

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="the shared Agent Spec examples are not here")

DUMMY = {
    "string": "text",
    "array": ["a", "b"],
    "object": {"k": "v"},
    "integer": 1,
    "number": 1.5,
    "boolean": True,
}
# Runs that do not end with "done": the outcome, and why.
EXPECTED = {
    # the agents must answer JSON: see the run tests
    "configs/agentspec_oracle_it_assistant.yaml": "missing topic",
    "configs/ext_ops_assistant_tutorial_flow.yaml": "paused input_message",
    "configs/howto_parallelflownode.yaml": "missing output",  # no data edge into the OutputMessageNode
    "pyagentspec-tests/example_serialized_flow.yaml": "paused client_tool",
    "pyagentspec-tests/example_serialized_flow_executing_agent.yaml": "missing x",  # the flow has no inputs
    "pyagentspec-tests/flow_with_all_references_at_root.yaml": "missing x",
    "pyagentspec-tests/flow_with_multiple_levels_of_references.yaml": "missing x",
    "pyagentspec-tests/ocigenaiconfig.yaml": "a model",
}


def generic_model() -> ScriptedModel:
    return ScriptedModel(lambda p: '{"subject": "Hi", "body": "Merry"}' if "json" in p.lower() else "yes")


def outcome(name: str) -> str:
    loaded = AgentSpecLoader(stub_registry(name), llm=generic_model()).load_yaml(read(name))
    if isinstance(loaded, Model):
        return "a model"
    if isinstance(loaded, Agent):
        shared: dict[str, Any] = {"question": "hi"}
    else:
        shared = {
            p["title"]: p.get("default", DUMMY.get(p.get("type"), "text")) for p in loaded.inputs.values()
        }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a flow that ends on a branch with no edge would warn
            result = loaded.run(shared, run_id="smoke", checkpointer=MemoryCheckpointer())
    except MissingInputError as exc:
        return f"missing {str(exc).split(' input ')[1].split()[0].strip(chr(39))}"
    if result.status == "paused":
        return f"paused {result.payload['kind']}"
    return str(result.status)


def runnable() -> list[str]:
    """The listed configs that load, but the MCP ones (test_agentspec_mcp.py runs them on a local server)."""
    if not EXAMPLES.is_dir():
        return []
    return [n for n in listed_configs() if n not in UNSUPPORTED and n not in MCP_CONFIGS]


@pytest.mark.parametrize("name", runnable())
def test_every_loadable_config_runs(name: str) -> None:
    assert outcome(name) == EXPECTED.get(name, "done")
