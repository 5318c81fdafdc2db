"""Fork: a new run from a past step, with edits, continuing at the node that came next there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rillflow import Flow, Node
from rillflow.durable import (
    CheckpointMismatchError,
    DurableError,
    SQLiteCheckpointer,
    fork,
    fork_async,
    history,
    state_at,
)

pytestmark = pytest.mark.filterwarnings("ignore:Flow ends")


class Count(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        shared["seen"] = [*shared["seen"], shared["n"]]
        shared["n"] += shared.get("by", 1)
        return "again" if shared["n"] < 5 else "stop"


class Ask(Node):
    def exec(self, prep_res: Any) -> Any:
        return self.interrupt("ok?")

    def post(self, shared: dict[str, Any], prep_res: Any, answer: Any) -> None:
        shared["answer"] = answer


def counting(ask: bool = False) -> Flow:
    count = Count()
    count - "again" >> count
    if ask:
        count - "stop" >> Ask()
    return Flow(start=count, name="Loop")


def test_fork_continues_from_the_step_with_the_edits(tmp_path: Path) -> None:
    cp = SQLiteCheckpointer(tmp_path / "f.db")
    original = counting().run({"n": 0, "seen": []}, run_id="a", checkpointer=cp)
    assert original.shared == {"n": 5, "seen": [0, 1, 2, 3, 4]}
    forked = fork(counting(), "a", 2, updates={"by": 2}, checkpointer=cp, new_run_id="b")
    assert forked.run_id == "b"
    assert forked.shared == {"n": 6, "seen": [0, 1, 2, 4], "by": 2}  # steps 1-2 kept, then by 2
    assert state_at(cp, "a", 5) == original.shared  # the original run is untouched
    steps = history(cp, "b")
    assert steps[0].kind == "fork" and steps[0].step == 2
    assert steps[0].note == {"forked_from": "a", "step": 2, "updates": ["by"]}
    assert state_at(cp, "b", 2) == {"n": 2, "seen": [0, 1], "by": 2}
    assert cp.get("b").status == "done"


def test_fork_from_the_start_and_from_a_pause(tmp_path: Path) -> None:
    cp = SQLiteCheckpointer(tmp_path / "f.db")
    paused = counting(ask=True).run({"n": 0, "seen": []}, run_id="a", checkpointer=cp)
    assert paused.status == "paused"
    again = fork(counting(ask=True), "a", 0, updates={"n": 3}, checkpointer=cp)
    assert again.status == "paused" and again.shared["seen"] == [3, 4]
    pause_step = history(cp, "a")[-1]
    assert pause_step.kind == "paused"
    asked = fork(counting(ask=True), "a", pause_step.step, checkpointer=cp, new_run_id="c")
    assert asked.status == "paused"  # the node that paused runs again, and asks again
    done = counting(ask=True).resume("c", "yes", checkpointer=cp)
    assert done.shared["answer"] == "yes"


def test_fork_refuses_the_end_another_flow_and_unknown_runs(tmp_path: Path) -> None:
    cp = SQLiteCheckpointer(tmp_path / "f.db")
    counting().run({"n": 0, "seen": []}, run_id="a", checkpointer=cp)
    with pytest.raises(DurableError, match="ended"):
        fork(counting(), "a", 5, checkpointer=cp)
    with pytest.raises(CheckpointMismatchError):
        fork(Flow(start=Ask(), name="Loop"), "a", 1, checkpointer=cp)
    with pytest.raises(DurableError, match="no stored run"):
        fork(counting(), "zzz", 1, checkpointer=cp)
    with pytest.raises(DurableError, match="already exists"):
        fork(counting(), "a", 1, checkpointer=cp, new_run_id="a")
    with pytest.raises(ValueError, match="checkpointer"):
        fork(counting(), "a", 1)


async def test_fork_async(tmp_path: Path) -> None:
    cp = SQLiteCheckpointer(tmp_path / "f.db")
    counting().run({"n": 0, "seen": []}, run_id="a", checkpointer=cp)
    out = await fork_async(counting(), "a", 3, updates={"n": 0}, checkpointer=cp)
    assert out.shared["seen"] == [0, 1, 2, 0, 1, 2, 3, 4]
