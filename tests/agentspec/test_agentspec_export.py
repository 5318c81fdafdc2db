"""Exporting rillflow flows and agents: pyagentspec validates every config, and loading it back gives the
same graph and the same run results."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
import yaml
from agentspec_helpers import validate_with_pyagentspec

from rillflow import AsyncFlow, AsyncParallelBatchFlow, AsyncParallelBatchNode, BatchFlow, Flow, Node
from rillflow.agents import Agent, tool
from rillflow.agentspec import AgentSpecError, AgentSpecExporter, AgentSpecLoader
from rillflow.hooks import graph_nodes
from rillflow.llm import OpenAICompatibleModel, Reply, ScriptedModel, ToolCall


class Decide(Node):
    inputs: ClassVar[dict[str, Any]] = {"question": str}
    outputs: ClassVar[dict[str, Any]] = {"route": str}

    def prep(self, shared: dict[str, Any]) -> str:
        return str(shared["question"])

    def post(self, shared: dict[str, Any], prep_res: str, exec_res: Any) -> str:
        shared["route"] = "search" if "?" in prep_res else "answer"
        return str(shared["route"])


class Search(Node):
    inputs: ClassVar[list[str]] = ["question"]
    outputs: ClassVar[dict[str, Any]] = {"context": str}

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["context"] = f"found {shared['question']}"


class Answer(Node):
    """Writes the answer."""

    outputs: ClassVar[dict[str, Any]] = {"answer": str}

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["answer"] = f"answer using {shared.get('context', 'nothing')}"


class Report(Node):
    inputs: ClassVar[dict[str, Any]] = {"answer": str}
    outputs: ClassVar[dict[str, Any]] = {"report": str}

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["report"] = shared["answer"].upper()


class Squares(AsyncParallelBatchNode):
    inputs: ClassVar[dict[str, Any]] = {"numbers": list[int]}
    outputs: ClassVar[dict[str, Any]] = {"squares": list[int]}

    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        return list(shared["numbers"])

    async def exec_async(self, item: int) -> int:
        return item * item

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: list[int]) -> None:
        shared["squares"] = exec_res


class Visit(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared.setdefault("visited", []).append(self.params["city"])


class Cities(BatchFlow):
    def prep(self, shared: dict[str, Any]) -> list[dict[str, str]]:
        return [{"city": c} for c in ("Oslo", "Rome")]


@tool(confirm=True)
def weather(city: str, days: int = 1) -> str:
    """The weather in a city."""
    return f"sunny in {city} for {days} day(s)"


def research_flow() -> Flow:
    decide, search, answer = Decide(max_retries=3, wait=0.5, backoff=2.0), Search(), Answer()
    decide - "search" >> search >> answer
    decide - "answer" >> answer
    inner = Flow(decide, max_steps=10, name="Research")
    inner >> Report()
    outer = Flow(inner, name="Pipeline")
    outer.params = {"lang": "en"}
    return outer


def shape(flow: Any) -> dict[str, Any]:
    """Keys, classes, actions and settings of every node, nested flows included."""
    out: dict[str, Any] = {}
    for key, node in graph_nodes(flow).items():
        entry = {
            "class": type(node).__name__,
            "actions": {
                a: [k for k, n in graph_nodes(flow).items() if n is s] for a, s in node.successors.items()
            },
            "settings": {
                a: getattr(node, a, None)
                for a in ("max_retries", "wait", "backoff", "max_steps", "max_concurrency")
            },
        }
        if isinstance(node, Flow) and not isinstance(node, Agent):
            entry["inner"] = shape(node)
        out[key] = entry
    return out


def round_trip(obj: Any, fmt: str = "yaml", llm: Any = None) -> Any:
    exporter = AgentSpecExporter()
    text = exporter.to_yaml(obj) if fmt == "yaml" else exporter.to_json(obj)
    validate_with_pyagentspec(text, fmt)
    loader = AgentSpecLoader(exporter.tool_registry(obj), llm=llm)
    return loader.load_yaml(text) if fmt == "yaml" else loader.load_json(text)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_flow_round_trip_gives_the_same_graph_and_results(fmt: str) -> None:
    flow = research_flow()
    back = round_trip(flow, fmt)
    assert shape(back) == shape(flow)
    assert back.params == {"lang": "en"} and back.name == "Pipeline"
    for question in ("what is it?", "tell me"):
        first, second = {"question": question}, {"question": question}
        flow.run(first)
        back.run(second)
        assert first == second


def test_exported_components_carry_schemas_and_data_edges() -> None:
    data = AgentSpecExporter().to_dict(research_flow())
    assert data["agentspec_version"] == "25.4.2"
    assert data["inputs"] == [{"type": "string", "title": "question"}]
    inner = data["$referenced_components"]["flow/Research"]
    assert inner["component_type"] == "FlowNode"
    refs = inner["subflow"]["$referenced_components"]
    decide = refs["flow/Research/flow/Decide"]
    assert decide["component_type"] == "ToolNode" and decide["tool"]["component_type"] == "ServerTool"
    assert decide["metadata"]["rillflow"] == {
        "kind": "node", "registry": "Decide", "class": "Decide",
        "max_retries": 3, "wait": 0.5, "backoff": 2.0,
    }  # fmt: skip
    assert {"title": "question", "type": "string"} in decide["inputs"]
    branch = refs["flow/Research/flow/Decide/branch"]
    assert branch["component_type"] == "BranchingNode" and branch["mapping"] == {
        "search": "search",
        "answer": "answer",
    }

    def short(ref: dict[str, str]) -> str:
        return ref["$component_ref"].rsplit("/", 1)[-1]

    edges = {
        (short(e["source_node"]), e["source_output"], short(e["destination_node"]))
        for e in inner["subflow"]["data_flow_connections"]
    }
    assert ("Search", "context", "Answer") not in edges  # Answer declares no inputs
    assert ("start", "question", "Search") in edges and ("Decide", "action", "branch") in edges
    assert inner["subflow"]["metadata"]["rillflow"]["max_steps"] == 10


def test_export_is_deterministic() -> None:
    assert AgentSpecExporter().to_yaml(research_flow()) == AgentSpecExporter().to_yaml(research_flow())
    assert "&id" not in AgentSpecExporter().to_yaml(research_flow())


def test_batches_and_parallel_batches_round_trip_as_map_nodes() -> None:
    squares = Squares(max_concurrency=2, max_retries=2)
    cities = Cities(Visit())
    squares >> cities
    flow = AsyncFlow(squares, name="Batches")
    data = AgentSpecExporter().to_dict(flow)
    kinds = {k.rsplit("/", 1)[-1]: v["component_type"] for k, v in data["$referenced_components"].items()}
    assert kinds["Squares"] == "ParallelMapNode" and kinds["Cities"] == "MapNode"
    back = round_trip(flow)
    assert shape(back) == shape(flow)
    first, second = {"numbers": [1, 2, 3]}, {"numbers": [1, 2, 3]}
    flow.run(first)
    back.run(second)
    assert first == second == {"numbers": [1, 2, 3], "squares": [1, 4, 9], "visited": ["Oslo", "Rome"]}


def test_parallel_batch_flow_keeps_its_bound() -> None:
    class Many(AsyncParallelBatchFlow):
        async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, str]]:
            return [{"city": "Oslo"}]

    flow = AsyncFlow(Many(Visit(), max_concurrency=3))
    back = round_trip(flow)
    (many,) = graph_nodes(back).values()
    assert isinstance(many, Many) and many.max_concurrency == 3


def scripted_agent_model() -> ScriptedModel:
    return ScriptedModel(
        [
            Reply(
                "", finish_reason="tool_calls", tool_calls=(ToolCall("c1", "weather", '{"city": "Oslo"}'),)
            ),
            "It is sunny in Oslo.",
        ]
    )


def test_agent_round_trip() -> None:
    model = OpenAICompatibleModel(
        "llama3", base_url="http://localhost:8000/v1", default_options={"temperature": 0.2}
    )
    agent = Agent(
        model, [weather], instructions="Be brief.", max_iterations=3, max_parallel_tools=2, name="Helper"
    )
    data = AgentSpecExporter().to_dict(agent)
    assert data["component_type"] == "Agent" and data["system_prompt"] == "Be brief."
    assert data["llm_config"]["component_type"] == "OpenAiCompatibleConfig"
    assert data["llm_config"]["url"] == "http://localhost:8000/v1"
    assert data["llm_config"]["default_generation_parameters"] == {"temperature": 0.2}
    (spec_tool,) = data["tools"]
    assert spec_tool["requires_confirmation"] is True and spec_tool["name"] == "weather"
    assert [p["title"] for p in spec_tool["inputs"]] == ["city", "days"]
    back = round_trip(agent)
    assert isinstance(back, Agent) and back.name == "Helper"
    assert back.config.max_iterations == 3 and back.config.instructions == "Be brief."
    assert (
        back.toolbox.tools["weather"].confirm
        and back.toolbox.tools["weather"].parameters == weather.parameters
    )
    assert shape(back) == shape(agent)


def test_agent_inside_a_flow_round_trips_with_its_actions() -> None:
    agent = Agent(scripted_agent_model(), [weather], confirm=lambda request: True, name="Helper")
    done, gave_up = Report(name="Done"), Report(name="GaveUp")
    agent >> done
    agent - "max_iterations" >> gave_up
    flow = AsyncFlow(agent, name="WithAgent")
    back = round_trip(flow, llm=scripted_agent_model())
    assert shape(back) == shape(flow)


def test_models_are_exported_as_the_matching_llm_config() -> None:
    openai = Agent(OpenAICompatibleModel("gpt-4o-mini"), [])
    assert AgentSpecExporter().to_dict(openai)["llm_config"]["component_type"] == "OpenAiConfig"
    text = AgentSpecExporter().to_yaml(openai)
    validate_with_pyagentspec(text)
    assert "api_key" not in text


def test_exporting_a_single_node_says_what_to_do() -> None:
    with pytest.raises(AgentSpecError, match=r"wrap a single node in Flow\(node\)"):
        AgentSpecExporter().to_yaml(Answer())


def test_loaded_configs_do_not_need_the_exporter() -> None:
    """A config written by hand with rillflow metadata loads as the registry's nodes."""
    text = AgentSpecExporter().to_json(research_flow())
    data = json.loads(text)
    assert yaml.safe_load(AgentSpecExporter().to_yaml(research_flow())) == data


class Check(Node):
    inputs: ClassVar[dict[str, Any]] = {"n": int}

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str | None:
        return "too_small" if shared["n"] < 3 else None


class Grow(Node):
    outputs: ClassVar[dict[str, Any]] = {"n": int}

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["n"] += 1


def test_a_nested_flow_ending_with_an_action_the_parent_routes_on() -> None:
    inner = Flow(Check(), name="Inner")
    grow = Grow()
    inner - "too_small" >> grow >> inner  # a loop through the parent
    inner >> Node(name="Stop")
    flow = Flow(inner, name="Outer", max_steps=20)
    data = AgentSpecExporter().to_dict(flow)
    node = data["$referenced_components"]["flow/Inner"]
    assert node["component_type"] == "FlowNode" and node["branches"] == ["next", "too_small"]
    ends = {
        c["branch_name"] for c in node["subflow"]["$referenced_components"].values() if "branch_name" in c
    }
    assert ends == {"next", "too_small"}
    back = round_trip(flow)
    assert shape(back) == shape(flow)
    first, second = {"n": 0}, {"n": 0}
    flow.run(first)
    back.run(second)
    assert first == second == {"n": 3}


def test_an_oci_llm_config_needs_the_llm_option() -> None:
    from agentspec_helpers import EXAMPLES, read

    if not EXAMPLES.is_dir():
        pytest.skip("the shared Agent Spec examples are not here")
    with pytest.raises(
        AgentSpecError, match=r"\$: LLM config OciGenAiConfig is not supported .* AgentSpecLoader\(llm="
    ):
        AgentSpecLoader().load_yaml(read("pyagentspec-tests/ocigenaiconfig.yaml"))
