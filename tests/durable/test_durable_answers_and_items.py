"""An answer survives a crash until its node has used it; a resume recognises batch items by content."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from durable_helpers import Crash, Freezable

from rillflow import AsyncFlow, AsyncNode, AsyncParallelBatchFlow, BatchNode, Flow, Node
from rillflow.durable import CheckpointMismatchError, SQLiteCheckpointer

WORKER = Path(__file__).with_name("answer_worker.py")


def worker(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WORKER), str(db), "r", *args], capture_output=True, text=True, timeout=60
    )


def answers(db: Path) -> dict[str, bytes]:
    with SQLiteCheckpointer(db) as cp:
        return {key: value for (ns, key), value in cp.load("r").entries.items() if ns == "a"}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_an_answer_is_kept_when_the_process_dies_before_the_node_used_it(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    assert worker(db, "start").stdout.startswith("paused")
    Path(f"{db}.crash").touch()
    killed = worker(db, "answer", "yes")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with SQLiteCheckpointer(db) as cp:
        assert cp.get("r").status == "running"
    assert answers(db) == {'["Shipping", "Ship"]': b'"yes"'}  # stored before the node ran
    with sqlite3.connect(db) as conn:  # wait for the dead process's lease (lease_ttl=0.2) to expire
        (expires,) = conn.execute("SELECT lease_expires FROM rillflow_runs").fetchone()
    conn.close()
    time.sleep(max(0.0, expires - time.time()) + 0.02)
    done = worker(db, "resume")
    assert done.stdout.strip() == "done {'answer': 'yes'}", done.stderr
    assert answers(db) == {}  # used by the node that finished: dropped


class Ask(Node):
    def exec(self, prep_res: Any) -> Any:
        return self.interrupt("ok?")

    def post(self, shared: dict[str, Any], prep_res: Any, answer: Any) -> None:
        shared["answer"] = answer


def test_an_answer_is_stored_until_its_node_finishes(freezable: Freezable) -> None:
    flow = Flow(start=Ask())
    assert flow.run({}, run_id="t", checkpointer=freezable).payload == "ok?"
    original_post = Ask.post

    def crash(self: Ask, shared: dict[str, Any], prep_res: Any, answer: Any) -> None:
        freezable.crash()

    Ask.post = crash  # type: ignore[method-assign]
    try:
        with pytest.raises(Crash):
            Flow(start=Ask()).resume("t", {"ship": True}, checkpointer=freezable)
    finally:
        Ask.post = original_post  # type: ignore[method-assign]
    assert [k for k in freezable.inner.load("t").entries if k[0] == "a"] == [("a", '["Flow", "Ask"]')]
    done = Flow(start=Ask()).resume("t", checkpointer=freezable.inner)
    assert done.shared == {"answer": {"ship": True}}
    assert not [k for k in freezable.inner.load("t").entries if k[0] == "a"]


# --- batch items changed between the crash and the resume -------------------------------------------
ITEMS: list[str] = []
CRASH_AT: list[Any] = []


class Upper(BatchNode):
    def prep(self, shared: dict[str, Any]) -> list[str]:
        return list(ITEMS)

    def exec(self, item: str) -> str:
        if CRASH_AT and item == CRASH_AT[0]:
            CRASH_AT[1].crash()
        return item.upper()

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["out"] = exec_res


def crash_in_batch(freezable: Freezable, at: str) -> None:
    ITEMS[:] = ["a", "b", "c", "d"]
    CRASH_AT[:] = [at, freezable]
    with pytest.raises(Crash):
        Flow(start=Upper()).run({}, run_id="b", checkpointer=freezable)
    CRASH_AT.clear()


def test_a_finished_item_that_changed_is_refused(freezable: Freezable) -> None:
    crash_in_batch(freezable, "c")  # a and b finished
    ITEMS[:] = ["a", "X", "c", "d"]  # same count, another item where a finished one was
    with pytest.raises(CheckpointMismatchError, match=r"Flow > Upper: item 1 is not the item that finished"):
        Flow(start=Upper()).resume("b", checkpointer=freezable.inner)


def test_an_unfinished_item_may_change(freezable: Freezable) -> None:
    crash_in_batch(freezable, "c")
    ITEMS[:] = ["a", "b", "c", "Z"]
    done = Flow(start=Upper()).resume("b", checkpointer=freezable.inner)
    assert done.shared["out"] == ["A", "B", "C", "Z"]


class Record(AsyncNode):
    async def exec_async(self, prep_res: Any) -> Any:
        if CRASH_AT and self.params["name"] == CRASH_AT[0]:
            CRASH_AT[1].crash()
        return self.params["name"]

    async def post_async(self, shared: dict[str, Any], prep_res: Any, name: Any) -> None:
        shared["seen"].append(name)


class Names(AsyncParallelBatchFlow):
    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, str]]:
        return [{"name": n} for n in ITEMS]


async def test_a_batch_flow_past_its_prep_resumes_with_the_items_it_had(freezable: Freezable) -> None:
    ITEMS[:] = ["a", "b", "c", "d"]
    CRASH_AT[:] = ["d", freezable]
    with pytest.raises(Crash):
        await AsyncFlow(start=Names(start=Record(), max_concurrency=1)).run_async(
            {"seen": []}, run_id="f", checkpointer=freezable
        )
    CRASH_AT.clear()
    ITEMS[:] = ["b", "a", "c", "X"]  # prep would now return other items: it does not run again
    done = await AsyncFlow(start=Names(start=Record())).resume_async("f", checkpointer=freezable.inner)
    assert done.shared["seen"] == ["a", "b", "c", "d"]  # the run's own items, each once, as one clean run
