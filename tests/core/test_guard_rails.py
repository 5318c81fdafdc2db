"""Guard rails: max_steps, strict flows, error notes naming the node path, argument checks."""

from __future__ import annotations

from typing import Any

import pytest

import rillflow as rf
from rillflow import node_path


# --- guard rails ----------------------------------------------------------------------------------
def test_max_steps_stops_a_runaway_loop_naming_the_node() -> None:
    class Again(rf.Node):
        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["n"] = shared.get("n", 0) + 1
            return "again"

    loop = Again()
    loop - "again" >> loop
    shared: dict[str, Any] = {}
    with pytest.raises(rf.MaxStepsExceeded, match="before running Again: max_steps=5"):
        rf.Flow(loop, max_steps=5).run(shared)
    assert shared["n"] == 5


async def test_max_steps_in_async_flow() -> None:
    loop = rf.AsyncNode()
    loop >> loop
    with pytest.raises(rf.MaxStepsExceeded):
        await rf.AsyncFlow(loop, max_steps=3).run_async({})


def test_strict_mode_turns_missing_successor_into_an_error() -> None:
    class Decide(rf.Node):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            return "unknown"

    decide = Decide()
    decide - "search" >> rf.Node()
    with pytest.raises(rf.MissingSuccessorError, match=r"'unknown'.*\['search'\]"):
        rf.Flow(decide, strict=True).run({})


def test_exception_note_names_node_path_in_nested_flows() -> None:
    class Decide(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            raise KeyError("no decision")

    inner = rf.Flow(rf.Node(), name="Inner")
    inner.start_node >> Decide()
    outer = rf.Flow(inner, name="ResearchFlow")
    with pytest.raises(KeyError) as info:
        outer.run({})
    assert info.value.__notes__ == ["rillflow: raised in ResearchFlow > Inner > Decide"]
    assert node_path(info.value) == ["ResearchFlow", "Inner", "Decide"]


async def test_exception_note_in_async_flow_and_batch_items() -> None:
    class Broken(rf.BatchNode):
        def prep(self, shared: Any) -> Any:
            return ["a", "b"]

        def exec(self, item: str) -> Any:
            if item == "b":
                raise ValueError(item)

    with pytest.raises(ValueError) as info:
        await rf.AsyncFlow(Broken(name="Parse"), name="Top").run_async({})
    assert info.value.__notes__ == ["rillflow: raised in Top > Parse > item 1"]


def test_standalone_node_error_note() -> None:
    class Solo(rf.Node):
        def prep(self, shared: Any) -> Any:
            raise OSError("disk")

    with pytest.raises(OSError) as info:
        Solo().run({})
    assert info.value.__notes__ == ["rillflow: raised in Solo"]


@pytest.mark.parametrize(
    "kwargs",
    [{"wait": -1}, {"backoff": 0.5}, {"jitter": 2}, {"max_wait": -1}, {"timeout": 0}],
)
def test_invalid_retry_policy(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        rf.Node(**kwargs)


def test_flow_argument_validation() -> None:
    with pytest.raises(ValueError, match="max_steps"):
        rf.Flow(max_steps=0)
    with pytest.raises(TypeError, match="start must be a node"):
        rf.Flow("not a node")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="successor must be a node"):
        rf.Node() >> "nope"  # type: ignore[operator]
