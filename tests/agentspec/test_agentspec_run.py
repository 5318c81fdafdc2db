"""Running the example flows with a scripted model and stub tools: the branches taken and the outputs."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from agentspec_helpers import EXAMPLES, read, recorder, stub_registry

from rillflow.agentspec import CONVERSATION, AgentSpecLoader, MissingInputError
from rillflow.durable import MemoryCheckpointer
from rillflow.llm import ScriptedModel

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="the shared Agent Spec examples are not here")


def load(name: str, model: ScriptedModel, registry: dict[str, Any] | None = None) -> Any:
    return AgentSpecLoader(stub_registry(name) if registry is None else registry, llm=model).load_yaml(
        read(name)
    )


def test_summary_flow_fills_the_template_and_returns_the_output() -> None:
    model = ScriptedModel(["Ten words about tides."])
    flow = load("configs/howto_summary_flow.yaml", model)
    shared: dict[str, Any] = {"article": "The tides rise and fall twice a day."}
    flow.run(shared)
    assert shared["summary"] == "Ten words about tides."
    assert model.prompts == ["Summarize this article in 10 words:\n The tides rise and fall twice a day."]


def test_map_node_runs_the_subflow_per_item_and_collects() -> None:
    model = ScriptedModel(lambda prompt: "summary of " + prompt.rsplit("\n", 1)[-1].strip())
    flow = load("configs/howto_mapnode.yaml", model)
    shared: dict[str, Any] = {"articles": ["bees", "coffee", "tides"]}
    flow.run(shared)
    assert shared["summaries"] == ["summary of bees", "summary of coffee", "summary of tides"]


def test_map_node_with_tools_and_structured_llm_outputs() -> None:
    name = "configs/ext_christmas_greetings_tutorial.yaml"
    model = ScriptedModel(
        lambda p: '```json\n{"subject": "Merry", "body": "Hello ' + p[-40:].split('"')[0] + '"}\n```'
    )
    registry = {
        "generate_image_tool": recorder("generate_image_tool", "img.png"),
        "send_email_tool": recorder(
            "send_email_tool", lambda **kw: f"sent {kw['subject']} with {kw['image']}"
        ),
    }
    flow = load(name, model, registry)
    people = [{"name": "Ada", "email": "ada@example.com"}, {"name": "Linus", "email": "l@example.com"}]
    shared: dict[str, Any] = {"iterated_email_data": people}
    flow.run(shared)
    assert shared["collected_result"] == ["sent Merry with img.png"] * 2
    sent = registry["send_email_tool"].calls  # type: ignore[attr-defined]
    assert [c["email_data"]["name"] for c in sent] == ["Ada", "Linus"]


def test_parallel_flow_node_runs_all_subflows_and_merges_outputs() -> None:
    name = "configs/howto_parallelflownode.yaml"
    registry = {
        "get_current_time": recorder("get_current_time", "12:00"),
        "get_user_information": recorder("get_user_information", {"name": "Ada"}),
        "get_user_last_purchases": recorder("get_user_last_purchases", [{"item": "tea"}]),
        "get_items_on_sale": recorder("get_items_on_sale", [{"item": "cups"}]),
    }
    model = ScriptedModel(["Welcome back, Ada!"])
    flow = load(name, model, registry)
    shared: dict[str, Any] = {"username": "ada"}
    # The config has no data edge into the OutputMessageNode's `output`: that is a clear error...
    with pytest.raises(MissingInputError, match="output_message_node: no value for input 'output'"):
        flow.run(shared)
    # ... unless the caller gives it (every node's outputs are in shared by their titles).
    model = ScriptedModel(["Welcome back, Ada!"])
    flow = load(name, model, registry)
    shared = {"username": "ada", "output": "Welcome back, Ada!"}
    flow.run(shared)
    assert shared["current_time"] == "12:00" and shared["user_info"] == {"name": "Ada"}
    assert shared["items_on_sale"] == [{"item": "cups"}] and shared["generated_text"] == "Welcome back, Ada!"
    assert registry["get_user_information"].calls == [{"username": "ada"}] * 2  # type: ignore[attr-defined]
    assert "cups" in model.prompts[0] and "12:00" in model.prompts[0]
    assert shared[CONVERSATION] == [{"role": "assistant", "content": "Welcome back, Ada!"}]


@pytest.mark.parametrize(("verdict", "rounds"), [("yes", 1), ("no", 2)])
def test_structured_generation_loop_takes_the_branch_the_model_decides(verdict: str, rounds: int) -> None:
    answers = iter(["def f(): pass", "looks fine", verdict, "def g(): pass", "great", "yes"])
    model = ScriptedModel(lambda prompt: next(answers))
    flow = load("pyagentspec-tests/example_flow_with_structured_generation_no_version.yaml", model)
    shared: dict[str, Any] = {"user_request": "a function"}
    flow.run(shared)
    assert len(model.calls) == 3 * rounds
    assert shared["code"] == ("def f(): pass" if rounds == 1 else "def g(): pass")


@pytest.mark.parametrize(
    ("value", "end"), [("yes", "End Node 1"), ("no", "End Node 3"), ("maybe", "End Node 2")]
)
def test_branching_node_routes_by_mapping(value: str, end: str) -> None:
    flow = load("pyagentspec-tests/example_serialized_flow_with_branching_node.yaml", ScriptedModel([]))
    visited: list[str] = []
    shared: dict[str, Any] = {"Input_1": value, "Input_2": "yes"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow.run(shared, listeners=[lambda e: visited.append(e.path[-1]) if e.kind == "node_start" else None])
    assert visited[-1] == end


def test_nested_flow_node_with_references_at_two_levels() -> None:
    # The same LlmNode runs in the outer flow and inside the FlowNode's subflow. The subflow gets only the
    # FlowNode's inputs (none), so its `x` is missing there: a clear error naming the nested path.
    model = ScriptedModel(["first", "second"])
    flow = load("pyagentspec-tests/flow_with_multiple_levels_of_references.yaml", model)
    with pytest.raises(MissingInputError, match="input 'x'") as info:
        flow.run({"x": "the dishes"})
    assert "Complex Agent flow > Complex Flow node > Complex Flow > prompt node" in str(info.value.__notes__)
    assert model.prompts == ["Do the dishes:"]


def test_flow_executing_an_agent_then_two_llm_nodes() -> None:
    model = ScriptedModel(["agent answer", "plan", "opinion"])
    flow = load("pyagentspec-tests/example_serialized_flow_executing_agent.yaml", model)
    shared: dict[str, Any] = {"x": "a plan"}
    flow.run(shared)
    assert model.prompts[1:] == ["Do a plan:", "What do you think of the answer plan?"]
    assert shared["generated_text"] == "opinion"


def test_client_tool_pauses_the_run_and_resumes_with_the_answer() -> None:
    model = ScriptedModel(["It is hot", "ok"])
    flow = load("pyagentspec-tests/example_serialized_flow.yaml", model)
    store = MemoryCheckpointer()
    paused = flow.run({}, run_id="w1", checkpointer=store)
    assert paused.payload == {"kind": "client_tool", "tool": "get_weather", "inputs": {"city_name": "zurich"}}
    done = flow.resume("w1", "sunny", checkpointer=store)
    assert done.shared["forecast"] == "sunny"


def test_it_assistant_routes_through_agents_until_the_topic_is_unknown() -> None:
    name = "configs/agentspec_oracle_it_assistant.yaml"
    replies = iter(
        [
            json.dumps({"conversation_summary": "wifi broken", "topic": "network"}),
            "reset the router",
            json.dumps({"conversation_summary": "solved", "topic": "none"}),
        ]
    )
    model = ScriptedModel(lambda prompt: next(replies))
    registry = {"Gather user information tool": recorder("info", "Ada, laptop")}
    flow = load(name, model, registry)
    visited: list[str] = []
    shared: dict[str, Any] = {"username": "ada"}
    top = [lambda e: visited.append(e.path[-1]) if e.kind == "node_start" and len(e.path) == 2 else None]
    flow.run(shared, listeners=top)
    assert visited == [
        "Start",
        "Get user info tool Execution",
        "Orchestrator Agent Execution",
        "Branching",
        "Network Agent Execution",
        "Orchestrator Agent Execution",
        "Branching",
        "End",
    ]
    assert shared["topic"] == "none" and shared["conversation_summary"] == "solved"
    assert "Ada, laptop" in model.calls[0].messages[0]["content"]  # the input filled the system prompt


def test_ops_flow_asks_the_user_and_runs_the_tools() -> None:
    name = "configs/ext_ops_assistant_tutorial_flow.yaml"
    registry = stub_registry(name, result=lambda **kw: json.dumps(kw))
    model = ScriptedModel(["The alarm is firing; restart the service."] * 3)
    flow = load(name, model, registry)
    store = MemoryCheckpointer()
    paused = flow.run({}, run_id="ops", checkpointer=store)
    assert paused.payload["kind"] == "input_message"
    result = flow.resume("ops", "exit", checkpointer=store)
    assert result.shared[CONVERSATION][-1] == {"role": "user", "content": "exit"}
