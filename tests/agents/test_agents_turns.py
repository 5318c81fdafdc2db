"""A run nothing watches goes through the agent's turns in one loop (``run_turns``): it must end exactly as
the flow walk does (the walk runs whenever hooks are attached, or the agent's graph was changed)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from agents_helpers import tool_calls

from rillflow import AsyncNode, node_path
from rillflow.agents import Agent, tool
from rillflow.errors import MaxStepsExceeded
from rillflow.hooks import RunHooks
from rillflow.llm import LLMError, Reply, ScriptedModel, ToolCall
from rillflow.llm.scripted import ScriptStep


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def boom() -> str:
    """Always fails."""
    raise RuntimeError("no luck")


@tool(confirm=True)
def delete(path: str) -> str:
    """Delete a file (asks first)."""
    return f"deleted {path}"


SCRIPT: list[ScriptStep] = [
    tool_calls(("add", {"a": 1, "b": 2}), ("boom", {})),
    tool_calls(("add", '{"a": "x"}'), ("nope", {}), ("delete", {"path": "/tmp/a"})),
    tool_calls(("add", {"a": 1, "b": 2})),
    "the sum is 3",
]


def make(script: list[ScriptStep], **options: Any) -> Agent:
    decide = options.pop("confirm", lambda request: request.arguments.endswith('a"}'))
    return Agent(ScriptedModel(script), [add, boom, delete], protocol="native", confirm=decide, **options)


async def both_ways(script: list[ScriptStep], **options: Any) -> tuple[Any, Any]:
    """(result, shared) of a plain run and of the same run with a no-op hook (the flow walk)."""
    outcomes = []
    for hooks in ([], [RunHooks()]):
        shared: dict[str, Any] = {"question": "1 + 2?"}
        result = await make(copy.deepcopy(script), **options).run_async(shared, hooks=hooks)
        outcomes.append((result, shared))
    return outcomes[0], outcomes[1]


@pytest.mark.parametrize("repeat_calls", [True, False])
async def test_a_plain_run_ends_as_the_walked_run_does(repeat_calls: bool) -> None:
    plain, walked = await both_ways(SCRIPT, repeat_calls=repeat_calls)
    assert plain == walked
    state = plain[1]["agent"]
    assert state["answer"] == "the sum is 3" and state["outcome"] == "answer"
    outputs = [step["output"] for step in state["steps"]]
    assert outputs[:2] == ["3", "Error: boom failed: RuntimeError: no luck"]
    assert outputs[4] == "deleted /tmp/a"


async def test_a_spent_budget_ends_both_ways_with_the_max_iterations_action() -> None:
    script: list[ScriptStep] = [tool_calls(("add", {"a": 1, "b": 1}))] * 3
    plain, walked = await both_ways(script, max_iterations=2)
    assert plain == walked
    assert plain[0] == "max_iterations" and plain[1]["agent"]["iterations"] == 2


async def test_a_failing_model_names_the_same_place_both_ways() -> None:
    paths = []
    for hooks in ([], [RunHooks()]):
        with pytest.raises(LLMError) as caught:
            await make([tool_calls(("add", {"a": 1, "b": 1}))]).run_async({"question": "?"}, hooks=hooks)
        paths.append(node_path(caught.value))
    assert paths[0] == paths[1] == ["Agent", "Think"]


async def test_a_pause_for_confirmation_is_raised_both_ways() -> None:
    for hooks in ([], [RunHooks()]):
        agent = make([tool_calls(("delete", {"path": "/x"}))], confirm=None)
        with pytest.raises(BaseException, match="confirm_tool_calls"):
            await agent.run_async({"question": "?"}, hooks=hooks)


class Audit(AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        shared["audited"] = shared["agent"]["answer"]
        return "finish"


async def test_a_changed_graph_is_walked_as_changed() -> None:
    agent = make(["done"])
    think = agent.start_node.successors["think"]  # type: ignore[union-attr]
    finish = think.successors["finish"]
    audit = Audit()
    think.successors["finish"] = audit
    audit - "finish" >> finish
    shared: dict[str, Any] = {"question": "?"}
    await agent.run_async(shared)
    assert shared["audited"] == "done"


async def test_a_step_limit_set_on_the_agent_is_kept() -> None:
    limited = make([tool_calls(("add", {"a": 1, "b": 1}))] * 5)
    limited.max_steps = 3
    with pytest.raises(MaxStepsExceeded):
        await limited.run_async({"question": "?"})


async def test_a_retrying_think_node_still_retries() -> None:
    script: list[ScriptStep] = [RuntimeError("flaky"), "fine"]
    agent = make(script)
    agent.start_node.successors["think"].max_retries = 2  # type: ignore[union-attr]
    shared: dict[str, Any] = {"question": "?"}
    await agent.run_async(shared)
    assert shared["agent"]["answer"] == "fine"


async def test_calls_without_ids_get_ids_unique_in_the_conversation() -> None:
    nameless = Reply(
        "", "tool_calls", tool_calls=(ToolCall("", "add", '{"a": 1, "b": 1}'), ToolCall("", "add", "{}"))
    )
    result = await make([nameless, "done"]).ask_async("?")
    assert [step["id"] for step in result.steps] == ["call_1_0", "call_1_1"]
    assert [m["tool_call_id"] for m in result.messages if m["role"] == "tool"] == ["call_1_0", "call_1_1"]
