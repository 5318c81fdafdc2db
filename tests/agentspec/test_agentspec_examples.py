"""Every Agent Spec config pyagentspec 26.3.1 loads: rillflow loads it, or refuses it naming the component
type and where it is. The deliberately invalid ones are refused with a clear error."""

from __future__ import annotations

from typing import Any

import pytest
from agentspec_helpers import (
    EXAMPLES,
    UNSUPPORTED,
    invalid_configs,
    listed_configs,
    read,
    stub_registry,
    validate_with_pyagentspec,
)

from rillflow import BaseNode
from rillflow.agents import Agent
from rillflow.agentspec import (
    AgentSpecError,
    AgentSpecExporter,
    AgentSpecLoader,
    SpecFlow,
    UnsupportedComponentError,
)
from rillflow.hooks import graph_nodes
from rillflow.llm import ScriptedModel

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="the shared Agent Spec examples are not here")


def test_the_list_is_the_readme_list() -> None:
    names = listed_configs()
    assert len(names) == 46 and set(UNSUPPORTED) <= set(names)


@pytest.mark.parametrize("name", [n for n in listed_configs() if n not in UNSUPPORTED])
def test_loads(name: str) -> None:
    loader = AgentSpecLoader(stub_registry(name), llm=ScriptedModel(["ok"]))
    loaded = loader.load_yaml(read(name))
    assert isinstance(loaded, SpecFlow | Agent | BaseNode) or type(loaded).__name__ == "ScriptedModel"


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_components_are_named_with_their_location(name: str) -> None:
    loader = AgentSpecLoader(stub_registry(name), llm=ScriptedModel(["ok"]))
    with pytest.raises(UnsupportedComponentError) as info:
        loader.load_yaml(read(name))
    message = str(info.value)
    assert f"'{UNSUPPORTED[name]}'" in message and message.startswith("$")
    assert "\n" not in message


def json_twins() -> list[str]:
    if not EXAMPLES.is_dir():
        return []
    return [
        n for n in listed_configs() if n not in UNSUPPORTED and (EXAMPLES / n).with_suffix(".json").exists()
    ]


@pytest.mark.parametrize("name", json_twins())
def test_the_json_twin_loads_the_same(name: str) -> None:
    twin = (EXAMPLES / name).with_suffix(".json")
    loader = AgentSpecLoader(stub_registry(name), llm=ScriptedModel(["ok"]))
    from_yaml, from_json = loader.load_yaml(read(name)), loader.load_json(twin.read_text(encoding="utf-8"))
    assert type(from_yaml) is type(from_json)


@pytest.mark.parametrize("name", invalid_configs())
def test_invalid_configs_are_refused(name: str) -> None:
    with pytest.raises(AgentSpecError) as info:
        AgentSpecLoader({}, llm=ScriptedModel(["ok"])).load_yaml(read(name))
    assert "\n" not in str(info.value)


def test_invalid_reasons_are_specific() -> None:
    loader = AgentSpecLoader({}, llm=ScriptedModel(["ok"]))
    reasons = {
        "example_serialized_llm_node_as_nested_reference_with_incorrect_version.yaml": "20.99.99 is not",
        "example_serialized_llm_node_with_misplaced_agentspec_version.yaml": "only at the top",
        "flow_with_multiple_levels_of_references_with_repeated_key.yaml": "already declared",
        "self_referencing_flow.yaml": "refers to itself",
    }
    for file, reason in reasons.items():
        with pytest.raises(AgentSpecError, match=reason):
            loader.load_yaml(read(f"pyagentspec-tests/invalid/{file}"))


def test_a_missing_server_tool_is_named() -> None:
    with pytest.raises(AgentSpecError, match=r"ServerTool 'get_synonyms' is not in the tool registry"):
        AgentSpecLoader({}, llm=ScriptedModel(["ok"])).load_yaml(read("configs/howto_agents.yaml"))


def test_loading_needs_no_server_and_builds_models_from_configs() -> None:
    name = "configs/howto_agents.yaml"
    agent = AgentSpecLoader(stub_registry(name)).load_yaml(read(name))
    model = agent.config.model
    assert type(model).__name__ == "OpenAICompatibleModel"
    assert model.base_url is not None and model.base_url.endswith("/v1")


def loaded_flows() -> list[str]:
    if not EXAMPLES.is_dir():
        return []
    return [n for n in listed_configs() if n not in UNSUPPORTED and "component_type: Flow\n" in read(n)]


@pytest.mark.parametrize("name", loaded_flows())
def test_a_loaded_flow_exports_back_to_a_config_pyagentspec_reads(name: str) -> None:
    loader = AgentSpecLoader(stub_registry(name), llm=ScriptedModel(["ok"]))
    loaded = loader.load_yaml(read(name))
    if not isinstance(loaded, SpecFlow):
        pytest.skip("not a flow at the top")
    text = AgentSpecExporter().to_yaml(loaded)
    validate_with_pyagentspec(text)
    again = loader.load_yaml(text)
    assert [type(n).__name__ for n in graph_nodes(again).values()] == [
        type(n).__name__ for n in graph_nodes(loaded).values()
    ]


def test_loading_never_runs_code_the_file_names(tmp_path: Any) -> None:
    marker = tmp_path / "ran"
    evil = f"component_type: !!python/object/apply:os.system ['touch {marker}']\nname: x\n"
    with pytest.raises(AgentSpecError, match="not valid YAML"):
        AgentSpecLoader().load_yaml(evil)
    assert not marker.exists()
    tool_named_like_code = read("configs/howto_agents.yaml").replace("get_synonyms", "os.system")
    with pytest.raises(AgentSpecError, match=r"ServerTool 'os\.system' is not in the tool registry"):
        AgentSpecLoader({"pretty_formatting": print}).load_yaml(tool_named_like_code)
