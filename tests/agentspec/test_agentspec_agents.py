"""Agents loaded from the example configs, run with a scripted model: tools, pauses and prompts."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from agentspec_helpers import EXAMPLES, read, recorder, stub_registry

from rillflow.agents import Agent
from rillflow.agentspec import AgentSpecLoader, UnsupportedComponentError
from rillflow.durable import MemoryCheckpointer
from rillflow.llm import Reply, ScriptedModel, ToolCall

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="the shared Agent Spec examples are not here")


def calls(*pairs: tuple[str, str]) -> Reply:
    return Reply(
        "",
        finish_reason="tool_calls",
        tool_calls=tuple(ToolCall(f"c{i}", n, a) for i, (n, a) in enumerate(pairs)),
    )


def test_agent_calls_its_server_tools_and_answers() -> None:
    name = "configs/howto_agents.yaml"
    registry = {
        "get_synonyms": recorder("get_synonyms", ["glad", "joyful"]),
        "pretty_formatting": recorder("pretty_formatting", "GLAD, JOYFUL"),
    }
    model = ScriptedModel([calls(("get_synonyms", '{"word": "happy"}')), "glad, joyful"])
    agent = AgentSpecLoader(registry, llm=model).load_yaml(read(name))
    assert isinstance(agent, Agent)
    shared: dict[str, Any] = {"question": "Synonyms of happy?"}
    agent.run(shared)
    assert shared["agent"]["answer"] == "glad, joyful"
    assert registry["get_synonyms"].calls == [{"word": "happy"}]  # type: ignore[attr-defined]
    assert model.calls[0].options["tools"][0]["function"]["name"] == "get_synonyms"


def test_system_prompt_placeholders_come_from_shared_or_input_defaults() -> None:
    name = "configs/howto_agent_with_remote_tools.yaml"
    model = ScriptedModel(["hello", "hello"])
    agent = AgentSpecLoader(llm=model).load_yaml(read(name))
    agent.run({"question": "hi", "workflow_title": "Onboarding"})
    system = model.calls[0].messages[0]["content"]
    assert "Your official title is: Benefits Assistant Agent." in system  # the input's default
    assert "within the company" in system and "{{workflow_title}}" not in system
    assert "the workflow Onboarding" in system


def test_client_tool_pauses_the_agent_and_the_answer_is_the_tool_result() -> None:
    name = "pyagentspec-tests/example_serialized_agent_with_tools.yaml"
    model = ScriptedModel([calls(("get_weather", '{"city_name": "Bern"}')), "A joke about Bern's weather."])
    agent = AgentSpecLoader(stub_registry(name), llm=model).load_yaml(read(name))
    store = MemoryCheckpointer()
    paused = agent.run({"question": "Weather?"}, run_id="c", checkpointer=store)
    assert paused.payload == {"kind": "client_tool", "tool": "get_weather", "inputs": {"city_name": "Bern"}}
    done = agent.resume("c", "rainy", checkpointer=store)
    (step,) = done.shared["agent"]["steps"]
    assert step["tool"] == "get_weather" and step["output"] == "rainy" and step["ok"]
    assert done.shared["agent"]["answer"] == "A joke about Bern's weather."


def test_remote_tool_to_a_host_not_allowed_is_an_error_the_model_sees() -> None:
    name = "pyagentspec-tests/example_serialized_agent_with_tools.yaml"
    model = ScriptedModel([calls(("subscribe_to_city_newsletter", '{"city_name": "Bern"}')), "ok"])
    agent = AgentSpecLoader(stub_registry(name), llm=model).load_yaml(read(name))
    shared: dict[str, Any] = {"question": "Subscribe me"}
    agent.run(shared)
    (step,) = shared["agent"]["steps"]
    assert not step["ok"] and "is not allowed" in step["output"]


def test_manager_gives_tasks_to_its_workers_as_tools() -> None:
    name = "configs/howto_managerworkers.yaml"
    model = ScriptedModel(
        [
            calls(("RefundSpecialist", '{"task": "Refund order 7 for customer 42"}')),
            "Refund of order 7 approved.",  # the worker's answer
            "Your refund for order 7 is approved.",
        ]
    )
    manager = AgentSpecLoader(stub_registry(name), llm=model).load_yaml(read(name))
    assert isinstance(manager, Agent) and {"RefundSpecialist", "SatisfactionSurveyor"} <= set(
        manager.toolbox.tools
    )
    shared: dict[str, Any] = {"question": "I want a refund for order 7", "customer_id": "42"}
    manager.run(shared)
    (step,) = shared["agent"]["steps"]
    assert step["tool"] == "RefundSpecialist" and step["output"] == "Refund of order 7 approved."
    assert shared["agent"]["answer"] == "Your refund for order 7 is approved."
    assert model.calls[1].messages[-1] == {"role": "user", "content": "Refund order 7 for customer 42"}
    assert "Customer ID: 42" in model.calls[0].messages[0]["content"]  # the input filled the prompt


def test_specialized_agent_adds_instructions_and_tools() -> None:
    name = "pyagentspec-tests/example_serialized_specialized_agent.yaml"
    agent = AgentSpecLoader(stub_registry(name), llm=ScriptedModel(["meow"])).load_yaml(read(name))
    assert agent.name == "Funny cat agent"
    assert agent.config.instructions.endswith("Only ever tell jokes about cats. You are all about cats")
    assert set(agent.toolbox.tools) == {"get_weather", "get_city_history_info", "subscribe_to_cat_newsletter"}


def test_a_client_tool_of_an_agent_node_pauses_the_flow_and_the_resume_continues_the_agent() -> None:
    data = yaml.safe_load(read("pyagentspec-tests/example_serialized_flow_executing_agent.yaml"))
    agent_node = next(
        c for c in data["$referenced_components"].values() if c["component_type"] == "AgentNode"
    )
    agent_node["agent"]["tools"] = [
        {
            "component_type": "ClientTool",
            "id": "ask",
            "name": "ask_user",
            "inputs": [{"title": "question", "type": "string"}],
            "outputs": [{"title": "reply", "type": "string"}],
        }
    ]
    model = ScriptedModel(
        [calls(("ask_user", '{"question": "Which plan?"}')), "Plan B it is.", "plan", "opinion"]
    )
    flow = AgentSpecLoader(llm=model).load_dict(data)
    store = MemoryCheckpointer()
    paused = flow.run({"x": "a plan"}, run_id="p", checkpointer=store)
    assert paused.payload == {
        "kind": "client_tool",
        "tool": "ask_user",
        "inputs": {"question": "Which plan?"},
    }
    done = flow.resume("p", "B", checkpointer=store)
    assert done.shared["generated_text"] == "opinion"
    assert not any(k.startswith("__running__") for k in done.shared)  # the agent's store is gone
    assert len(model.calls) == 4  # the model was not asked again for the paused turn
    assert model.calls[1].messages[-1]["content"] == "B"  # the tool result the agent saw


def test_swarm_agents_send_messages_along_their_relationships() -> None:
    name = "pyagentspec-tests/example_serialized_swarm.yaml"
    model = ScriptedModel(
        [
            calls(("Dermatologist", '{"task": "Look at this rash"}')),  # the general practitioner asks
            calls(("Pharmacist", '{"task": "Which cream?"}')),  # the dermatologist asks in turn
            "Hydrocortisone 1%.",
            "Use hydrocortisone.",
            "See the dermatologist's advice: hydrocortisone.",
        ]
    )
    first = AgentSpecLoader(llm=model).load_yaml(read(name))
    assert first.name == "GeneralPractitioner"
    assert {"Pharmacist", "Dermatologist"} <= set(first.toolbox.tools)
    shared: dict[str, Any] = {"question": "I have a rash"}
    first.run(shared)
    assert shared["agent"]["steps"][0]["output"] == "Use hydrocortisone."
    assert shared["agent"]["answer"] == "See the dermatologist's advice: hydrocortisone."


def test_swarm_that_must_hand_over_the_conversation_is_refused() -> None:
    text = read("pyagentspec-tests/example_serialized_swarm.yaml").replace(
        'handoff: "optional"', "handoff: always"
    )
    with pytest.raises(UnsupportedComponentError, match="handoff 'always'"):
        AgentSpecLoader(llm=ScriptedModel([])).load_yaml(text)
