"""Two mistakes the engine names clearly: a flow without a start node, and an action that is not a string."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rillflow import AsyncFlow, Flow, FlowError, Node
from rillflow.durable import MemoryCheckpointer


class ListAction(Node):
    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return ["next"]


@pytest.mark.parametrize("hooked", [False, True])
def test_a_flow_without_a_start_node_is_an_error_naming_it(hooked: bool) -> None:
    def options() -> dict[str, Any]:
        return {"run_id": "r", "checkpointer": MemoryCheckpointer()} if hooked else {}

    with pytest.raises(FlowError, match="flow Orders has no start node"):
        Flow(name="Orders").run({}, **options())
    with pytest.raises(FlowError, match="flow AsyncFlow has no start node"):
        asyncio.run(AsyncFlow().run_async({}, **options()))


@pytest.mark.parametrize("hooked", [False, True])
def test_a_list_as_action_names_the_node_and_says_action(hooked: bool) -> None:
    node = ListAction()
    node >> Node()
    options: dict[str, Any] = {"run_id": "r", "checkpointer": MemoryCheckpointer()} if hooked else {}
    with pytest.raises(
        TypeError, match=r"ListAction returned \['next'\] as its action: an action must be a string"
    ):
        Flow(start=node).run({}, **options)
