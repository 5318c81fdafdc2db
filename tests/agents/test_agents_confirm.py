"""Tools that need a human's confirmation: a callback, a pause, or a durable pause and resume."""

from __future__ import annotations

from typing import Any

import pytest
from agents_helpers import tool_calls

from rillflow import Interrupt
from rillflow.agents import CONFIRM_KIND, Agent, ConfirmRequest, tool
from rillflow.durable import Done, MemoryCheckpointer, Paused
from rillflow.llm import ScriptedModel

deleted: list[str] = []


@tool(confirm=True)
def delete_file(path: str) -> str:
    """Delete a file (asks first)."""
    deleted.append(path)
    return f"deleted {path}"


@tool
def list_files() -> list[str]:
    """List the files (no confirmation needed)."""
    return ["a.txt", "b.txt"]


@pytest.fixture(autouse=True)
def _clear() -> None:
    deleted.clear()


def two_deletes() -> ScriptedModel:
    return ScriptedModel(
        [
            tool_calls(
                ("delete_file", {"path": "a.txt"}), ("delete_file", {"path": "b.txt"}), ("list_files", {})
            ),
            "ok",
        ]
    )


async def test_a_sync_callback_decides_each_call() -> None:
    asked: list[ConfirmRequest] = []

    def confirm(request: ConfirmRequest) -> bool:
        asked.append(request)
        return request.arguments == '{"path": "a.txt"}'

    model = two_deletes()
    result = await Agent(model, [delete_file, list_files], protocol="native", confirm=confirm).ask_async(
        "Clean up."
    )
    assert asked == [
        ConfirmRequest("c1", "delete_file", '{"path": "a.txt"}'),
        ConfirmRequest("c2", "delete_file", '{"path": "b.txt"}'),
    ]  # list_files needs no confirmation
    assert deleted == ["a.txt"]
    outputs = [m["content"] for m in model.calls[1].messages if m["role"] == "tool"]
    assert outputs == [
        "deleted a.txt",
        "Error: the user declined this call of delete_file",
        '["a.txt", "b.txt"]',
    ]
    assert result.outcome == "answer"


async def test_an_async_callback_is_awaited() -> None:
    async def confirm(request: ConfirmRequest) -> bool:
        return True

    await Agent(two_deletes(), [delete_file, list_files], protocol="native", confirm=confirm).ask_async(
        "Clean up."
    )
    assert deleted == ["a.txt", "b.txt"]


async def test_without_a_callback_or_a_durable_run_the_pause_propagates() -> None:
    agent = Agent(two_deletes(), [delete_file, list_files], protocol="native")
    with pytest.raises(Interrupt) as caught:
        await agent.run_async({"question": "Clean up."})
    assert caught.value.payload["kind"] == CONFIRM_KIND
    assert [c["tool"] for c in caught.value.payload["calls"]] == ["delete_file", "delete_file"]
    assert "run with a checkpointer to pause and resume" in str(caught.value)
    assert deleted == []  # nothing ran before the decision


@pytest.mark.parametrize(
    ("answer", "expected"),
    [(True, ["a.txt", "b.txt"]), (False, []), ({"c2": True}, ["b.txt"])],
)
async def test_a_durable_run_pauses_and_the_resume_answer_decides(answer: Any, expected: list[str]) -> None:
    checkpointer = MemoryCheckpointer()
    model = two_deletes()
    agent = Agent(model, [delete_file, list_files], protocol="native")
    paused = await agent.run_async({"question": "Clean up."}, run_id="r1", checkpointer=checkpointer)
    assert isinstance(paused, Paused)
    assert paused.payload == {
        "kind": CONFIRM_KIND,
        "calls": [
            {"id": "c1", "tool": "delete_file", "arguments": '{"path": "a.txt"}'},
            {"id": "c2", "tool": "delete_file", "arguments": '{"path": "b.txt"}'},
        ],
    }
    assert deleted == []

    done = await agent.resume_async("r1", answer, checkpointer=checkpointer)
    assert isinstance(done, Done)
    assert deleted == expected
    state = done.shared["agent"]
    assert (state["answer"], state["outcome"]) == ("ok", "answer")
    assert [step["ok"] for step in state["steps"]] == [p in expected for p in ("a.txt", "b.txt")] + [True]
    assert len(model.calls) == 2  # the model was not asked again for the paused turn


async def test_a_resume_answer_of_the_wrong_kind_is_refused() -> None:
    checkpointer = MemoryCheckpointer()
    agent = Agent(two_deletes(), [delete_file, list_files], protocol="native")
    await agent.run_async({"question": "Clean up."}, run_id="r2", checkpointer=checkpointer)
    with pytest.raises(TypeError, match=r"must be True/False or a mapping \{call_id: bool\}, got str"):
        await agent.resume_async("r2", "yes please", checkpointer=checkpointer)
    assert deleted == []


class Crash(BaseException):
    """Stands in for the process dying in the middle of a tool call."""


async def test_after_a_crash_a_durable_resume_does_not_rerun_finished_tool_calls() -> None:
    runs: list[int] = []

    @tool
    def step(n: int) -> int:
        """A tool whose second call dies the first time."""
        runs.append(n)
        if runs == [1, 2]:
            raise Crash
        return n

    checkpointer = MemoryCheckpointer()
    model = ScriptedModel([tool_calls(("step", {"n": 1}), ("step", {"n": 2})), "done"])
    agent = Agent(model, [step], protocol="native", max_parallel_tools=1)
    with pytest.raises(Crash):
        await agent.run_async({"question": "Go."}, run_id="r3", checkpointer=checkpointer)
    done = await agent.resume_async("r3", checkpointer=checkpointer)
    assert isinstance(done, Done)
    assert runs == [1, 2, 2]  # call 1 finished before the crash: its checkpointed result is reused
    assert [s["output"] for s in done.shared["agent"]["steps"]] == ["1", "2"]
