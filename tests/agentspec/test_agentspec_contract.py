"""Declared inputs and outputs, checked at run time by the IOContract hooks."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from agentspec_helpers import EXAMPLES, read, recorder

from rillflow import AsyncFlow, Flow, Node
from rillflow.agentspec import (
    AgentSpecLoader,
    IOContract,
    MissingInputError,
    OutputContractError,
    reads,
    writes,
)
from rillflow.llm import ScriptedModel


class Double(Node):
    inputs: ClassVar[dict[str, Any]] = {"n": int}
    outputs: ClassVar[dict[str, Any]] = {"doubled": int}

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["doubled"] = shared["n"] * 2


class Wrong(Node):
    inputs: ClassVar[list[str]] = ["n"]
    outputs: ClassVar[dict[str, Any]] = {"text": str}

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["text"] = shared["n"]  # an int, not the declared str


class Forgets(Node):
    outputs: ClassVar[dict[str, Any]] = {"result": str}


class Undeclared(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["free"] = True


def test_declarations_as_dicts_lists_and_schemas() -> None:
    assert reads(Double()) == {"n": {"type": "integer"}} and writes(Double()) == {
        "doubled": {"type": "integer"}
    }
    assert reads(Wrong()) == {"n": {}}
    assert reads(Undeclared()) == {} and writes(Undeclared()) == {}
    flow = Flow(Double())
    flow.start_node >> Wrong()  # type: ignore[operator]
    assert reads(flow) == {"n": {"type": "integer"}}
    assert writes(flow) == {"doubled": {"type": "integer"}, "text": {"type": "string"}}


def test_a_run_that_keeps_the_contract_passes() -> None:
    shared = {"n": 4}
    Flow(Double()).run(shared, hooks=[IOContract()])
    assert shared["doubled"] == 8


def test_a_missing_input_is_named_before_the_node_runs() -> None:
    with pytest.raises(MissingInputError, match="Double declares input 'n' but shared has no such key"):
        Flow(Double()).run({}, hooks=[IOContract()])


def test_an_output_of_the_wrong_type_is_named() -> None:
    with pytest.raises(
        OutputContractError, match="Wrong wrote output 'text' of the wrong type: expected string"
    ):
        Flow(Wrong()).run({"n": 1}, hooks=[IOContract()])


def test_an_output_never_written_is_named() -> None:
    with pytest.raises(OutputContractError, match="Forgets declares output 'result' but did not write it"):
        Flow(Forgets()).run({}, hooks=[IOContract()])


async def test_async_flows_and_undeclared_nodes() -> None:
    shared: dict[str, Any] = {"n": 1}
    await AsyncFlow(Undeclared()).run_async(shared, hooks=[IOContract()])
    assert shared["free"] is True


def test_without_the_hook_nothing_is_checked() -> None:
    shared = {"n": 1}
    Flow(Wrong()).run(shared)
    assert shared["text"] == 1


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="the shared Agent Spec examples are not here")
def test_loaded_flows_are_checked_against_their_properties_nested_flows_included() -> None:
    flow = AgentSpecLoader(llm=ScriptedModel(lambda p: "short")).load_yaml(read("configs/howto_mapnode.yaml"))
    shared: dict[str, Any] = {"articles": ["a", "b"]}
    flow.run(shared, hooks=[IOContract()])
    assert shared["summaries"] == ["short", "short"]
    name = "configs/ext_christmas_greetings_tutorial.yaml"
    registry = {"generate_image_tool": recorder("g", "img"), "send_email_tool": recorder("s", 202)}
    model = ScriptedModel(lambda p: '{"subject": "Hi", "body": "Merry"}')
    flow = AgentSpecLoader(registry, llm=model).load_yaml(read(name))
    with pytest.raises(OutputContractError, match="send_email_node wrote output 'result' of the wrong type"):
        flow.run({"iterated_email_data": [{"name": "Ada"}]}, hooks=[IOContract()])
