"""Human in the loop: a node pauses the run with a payload; resume (even in a new process) answers it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rillflow import AsyncFlow, AsyncParallelBatchNode, Flow, Node
from rillflow.durable import Checkpointer, Done, DurableError, MemoryCheckpointer, Paused, SerializationError
from rillflow.errors import Interrupt

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "durable_approval.py"


class Confirm(Node):
    def prep(self, shared: dict[str, Any]) -> Any:
        shared["asked"] += 1
        return shared["tool"]

    def exec(self, tool: str) -> Any:
        return self.interrupt({"question": f"run {tool}?"})

    def post(self, shared: dict[str, Any], prep_res: Any, answer: Any) -> None:
        shared["answers"].append(answer)


def confirm_twice() -> Flow:
    first, second = Confirm(name="First"), Confirm(name="Second")
    first >> second
    inner = Flow(start=first, name="Inner")
    return Flow(start=inner, name="Outer")


def test_pause_and_resume_in_a_nested_flow(checkpointer: Checkpointer) -> None:
    shared = {"tool": "rm", "asked": 0, "answers": []}
    paused = confirm_twice().run(shared, run_id="t", checkpointer=checkpointer)
    assert isinstance(paused, Paused)
    assert (paused.run_id, paused.payload, paused.path) == (
        "t",
        {"question": "run rm?"},
        ("Outer", "Inner", "First"),
    )
    assert checkpointer.get("t").status == "paused"
    again = confirm_twice().resume("t", "yes", checkpointer=checkpointer)
    assert isinstance(again, Paused)
    assert again.path == ("Outer", "Inner", "Second")  # the answer was used once; the next node asks anew
    done = confirm_twice().resume("t", "no", checkpointer=checkpointer)
    assert isinstance(done, Done)
    assert done.shared["answers"] == ["yes", "no"]
    assert done.shared["asked"] == 2  # as in one clean run: a paused node continues after its prep
    assert checkpointer.get("t").status == "done"


def test_an_answer_for_a_run_that_is_not_paused_is_refused() -> None:
    cp = MemoryCheckpointer()
    confirm_twice().run({"tool": "x", "asked": 0, "answers": []}, run_id="t", checkpointer=cp)
    confirm_twice().resume("t", "yes", checkpointer=cp)
    confirm_twice().resume("t", "yes", checkpointer=cp)
    with pytest.raises(DurableError, match="finished"):
        confirm_twice().resume("t", "again", checkpointer=cp)


def test_without_a_checkpointer_interrupt_raises_and_plain_runs_are_unaffected() -> None:
    with pytest.raises(Interrupt, match="run with a checkpointer"):
        confirm_twice().run({"tool": "x", "asked": 0, "answers": []})


def test_an_unsavable_payload_fails_the_run_with_a_clear_error() -> None:
    class Odd(Node):
        def exec(self, prep_res: Any) -> Any:
            return self.interrupt(object())

    cp = MemoryCheckpointer()
    with pytest.raises(SerializationError, match="payload of interrupt"):
        Flow(start=Odd()).run({}, run_id="o", checkpointer=cp)
    assert cp.get("o").status == "failed"


class Tools(AsyncParallelBatchNode):
    async def prep_async(self, shared: dict[str, Any]) -> Any:
        return ["ls", "rm", "cat"]

    async def exec_async(self, tool: str) -> Any:
        RUNS.append(tool)
        if tool == "rm":
            return self.interrupt({"confirm": tool})
        return f"{tool}: ok"

    async def post_async(self, shared: dict[str, Any], prep_res: Any, results: Any) -> None:
        shared["results"] = results


RUNS: list[str] = []


async def test_a_parallel_item_pauses_and_only_unfinished_items_run_on_resume(
    checkpointer: Checkpointer,
) -> None:
    RUNS.clear()
    flow = AsyncFlow(start=Tools(max_concurrency=1))
    paused = await flow.run_async({}, run_id="p", checkpointer=checkpointer)
    assert isinstance(paused, Paused)
    assert paused.path == ("AsyncFlow", "Tools", "#1")
    assert RUNS == ["ls", "rm"]
    done = await AsyncFlow(start=Tools(max_concurrency=1)).resume_async(
        "p", "denied", checkpointer=checkpointer
    )
    assert isinstance(done, Done)
    assert done.shared["results"] == ["ls: ok", "denied", "cat: ok"]
    assert RUNS == ["ls", "rm", "rm", "cat"]  # "ls" had finished: its result came from the checkpoint


def run_example(*args: str, db: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), *args, "--db", str(db)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_pause_in_one_process_and_resume_in_another(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    started = run_example("start", "refund-7", db=db)
    assert started == {"paused": "refund-7", "question": "Refund 30 for order 7?"}
    done = run_example("resume", "refund-7", "yes", db=db)
    assert done == {"done": "refund-7", "outbox": {"7": 30}}
    again = run_example("resume", "refund-7", db=db)  # resuming a finished run sends nothing twice
    assert again == done
