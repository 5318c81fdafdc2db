"""Checkpoint writes that wait on I/O (a server, an fsync) never block an async run's event loop, and
``durability="sync"`` still commits each step before the next one starts."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

import rillflow as rf
from rillflow.durable import MemoryCheckpointer, PostgresCheckpointer, RunProgress, SQLiteCheckpointer
from rillflow.durable.checkpointer import Changes
from rillflow.durable.off_loop import off_loop

STEPS = 4


class GatedCheckpointer(SQLiteCheckpointer):
    """Each step's write waits until a coroutine on the run's event loop lets it through: if the write ran
    on the loop's thread, that coroutine could not run and the write would time out."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes_wait = True  # as a network database's: written from a thread in async runs
        self.gate = threading.Event()
        self.log: list[str] = []
        self.threads: set[str] = set()

    def write(self, run_id: str, changes: Changes, progress: RunProgress) -> None:
        if progress.status == "running" and progress.steps:
            if not self.gate.wait(5):
                raise TimeoutError("the event loop was blocked while a checkpoint was written")
            self.gate.clear()
            self.threads.add(threading.current_thread().name)
        super().write(run_id, changes, progress)
        self.log.append(f"saved {progress.steps}")


class Count(rf.AsyncNode):
    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    async def prep_async(self, shared: dict[str, Any]) -> None:
        self.log.append(f"prep {shared['n']}")

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        shared["n"] += 1
        return "again" if shared["n"] < STEPS else "done"


def counting_flow(log: list[str]) -> rf.AsyncFlow:
    count = Count(log)
    count - "again" >> count
    count - "done" >> rf.AsyncNode(name="End")
    return rf.AsyncFlow(count, name="Counting")


async def run_beside_a_gatekeeper(flow: rf.AsyncFlow, cp: GatedCheckpointer) -> Any:
    async def keep_opening() -> None:
        while True:
            cp.gate.set()
            await asyncio.sleep(0.001)

    gatekeeper = asyncio.create_task(keep_opening())
    try:
        return await flow.run_async({"n": 0}, run_id="r1", checkpointer=cp)
    finally:
        gatekeeper.cancel()


def test_an_async_run_writes_from_a_thread_while_its_loop_goes_on(tmp_path: Path) -> None:
    cp = GatedCheckpointer(tmp_path / "runs.db")
    asyncio.run(run_beside_a_gatekeeper(counting_flow(cp.log), cp))
    assert cp.threads and all(name.startswith("rillflow-checkpoint") for name in cp.threads)
    assert cp.load("r1").record.progress.status == "done"


def test_sync_durability_still_commits_each_step_before_the_next_starts(tmp_path: Path) -> None:
    cp = GatedCheckpointer(tmp_path / "runs.db")
    asyncio.run(run_beside_a_gatekeeper(counting_flow(cp.log), cp))
    visits = [entry for entry in cp.log if entry.startswith("prep")]
    assert visits == [f"prep {n}" for n in range(STEPS)]
    for n in range(1, STEPS):  # the save of step n comes before the visit that starts with n
        assert cp.log.index(f"saved {n}") < cp.log.index(f"prep {n}")


class FailingCheckpointer(SQLiteCheckpointer):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes_wait = True
        self.steps_written: list[int] = []

    def write(self, run_id: str, changes: Changes, progress: RunProgress) -> None:
        if progress.status == "running" and progress.steps == 2:
            raise OSError("disk full")
        super().write(run_id, changes, progress)
        if progress.status == "running":
            self.steps_written.append(progress.steps)


def test_a_failed_write_stops_the_run_and_no_later_step_is_written(tmp_path: Path) -> None:
    cp = FailingCheckpointer(tmp_path / "runs.db")
    with pytest.raises(OSError, match="disk full"):
        asyncio.run(counting_flow([]).run_async({"n": 0}, run_id="r1", checkpointer=cp))
    assert 3 not in cp.steps_written  # nothing after the failed write: its changes would be missing
    progress = cp.load("r1").record.progress
    assert progress.status == "failed" and "disk full" in (progress.error or "")


def test_a_run_resumes_after_a_write_failed_off_the_loop(tmp_path: Path) -> None:
    cp = FailingCheckpointer(tmp_path / "runs.db")
    with pytest.raises(OSError):
        asyncio.run(counting_flow([]).run_async({"n": 0}, run_id="r1", checkpointer=cp))
    healthy = SQLiteCheckpointer(tmp_path / "runs.db")
    done = asyncio.run(counting_flow([]).resume_async("r1", checkpointer=healthy))
    assert done.shared["n"] == STEPS


@pytest.mark.parametrize("kind", ["memory", "sqlite", "sqlite-full"])
def test_which_checkpointers_write_from_a_thread(kind: str, tmp_path: Path) -> None:
    cp = {
        "memory": lambda: MemoryCheckpointer(),
        "sqlite": lambda: SQLiteCheckpointer(tmp_path / "a.db"),
        "sqlite-full": lambda: SQLiteCheckpointer(tmp_path / "b.db", synchronous="FULL"),
    }[kind]()
    assert cp.writes_wait == (kind == "sqlite-full")
    assert PostgresCheckpointer.writes_wait  # a server round trip: always from a thread


class Tally(rf.AsyncNode):
    async def exec_async(self, prep_res: Any) -> None:
        await asyncio.sleep(0.001)  # items interleave, and finish while other items' writes are queued

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["count"] += 1  # applied twice if an item ran again over a state that has it already
        shared["seen"].append(self.params["i"])


class Tallies(rf.AsyncParallelBatchFlow):
    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, int]]:
        return [{"i": i} for i in range(12)]


class FailsOnce(SQLiteCheckpointer):
    def __init__(self, path: Path, fail_at: int) -> None:
        super().__init__(path)
        self.writes_wait, self.writes, self.fail_at = True, 0, fail_at

    def write(self, run_id: str, changes: Changes, progress: RunProgress) -> None:
        self.writes += 1
        if self.writes == self.fail_at:
            raise OSError("connection lost")
        super().write(run_id, changes, progress)


@pytest.mark.parametrize("off_loop", [True, False])
@pytest.mark.parametrize("fail_at", range(2, 14))
def test_a_parallel_batch_resumed_after_a_failed_write_applies_each_item_once(
    tmp_path: Path, fail_at: int, off_loop: bool
) -> None:
    flow = Tallies(start=Tally(), max_concurrency=4)
    cp = FailsOnce(tmp_path / "runs.db", fail_at)
    cp.writes_wait = off_loop
    with pytest.raises(OSError, match="connection lost"):
        asyncio.run(flow.run_async({"count": 0, "seen": []}, run_id="r1", checkpointer=cp))
    done = asyncio.run(flow.resume_async("r1", checkpointer=cp))
    assert done.shared["count"] == 12 and sorted(done.shared["seen"]) == list(range(12))


@pytest.mark.parametrize("off_loop", [True, False])
def test_a_failed_write_fails_a_batch_that_collects_failures(tmp_path: Path, off_loop: bool) -> None:
    flow = Tallies(start=Tally(), max_concurrency=4, fail_fast=False)
    cp = FailsOnce(tmp_path / "runs.db", 3)
    cp.writes_wait = off_loop
    with pytest.raises(OSError, match="connection lost"):  # not an item's failure: the run's
        asyncio.run(flow.run_async({"count": 0, "seen": []}, run_id="r1", checkpointer=cp))
    assert cp.load("r1").record.progress.status == "failed"
    done = asyncio.run(flow.resume_async("r1", checkpointer=cp))
    assert done.shared["count"] == 12 and sorted(done.shared["seen"]) == list(range(12))


class GatedEverywhere(SQLiteCheckpointer):
    """Every database call waits for the gatekeeper on the run's loop (see GatedCheckpointer)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes_wait = True
        self.gate = threading.Event()
        self.calls: list[tuple[str, str]] = []
        self.waiting = threading.Event()

    def _through_gate(self, what: str) -> None:
        self.waiting.set()
        if not self.gate.wait(5):
            raise TimeoutError(f"the event loop was blocked during {what}")
        self.calls.append((what, threading.current_thread().name))

    def create(self, *args: Any) -> None:
        self._through_gate("create")
        super().create(*args)

    def write(self, *args: Any) -> None:
        self._through_gate("write")
        super().write(*args)

    def claim(self, *args: Any) -> None:
        self._through_gate("claim")
        super().claim(*args)

    def release(self, *args: Any) -> None:
        self._through_gate("release")
        super().release(*args)

    def load(self, *args: Any) -> Any:
        self._through_gate("load")
        return super().load(*args)


class AskOnce(rf.AsyncNode):
    async def exec_async(self, prep_res: Any) -> Any:
        return self.interrupt("ok?")

    async def post_async(self, shared: dict[str, Any], prep_res: Any, answer: Any) -> None:
        shared["answer"] = answer


async def beside_a_gatekeeper(cp: GatedEverywhere, work: Any) -> Any:
    async def keep_opening() -> None:
        while True:
            cp.gate.set()
            await asyncio.sleep(0.001)

    gatekeeper = asyncio.create_task(keep_opening())
    try:
        return await work
    finally:
        gatekeeper.cancel()


def test_a_run_start_pause_resume_and_end_never_touch_the_database_on_the_loop(tmp_path: Path) -> None:
    cp = GatedEverywhere(tmp_path / "runs.db")
    first = counting_flow([])
    first.start_node.successors["done"] = AskOnce(name="End")  # type: ignore[union-attr]
    paused = asyncio.run(beside_a_gatekeeper(cp, first.run_async({"n": 0}, run_id="r1", checkpointer=cp)))
    assert paused.status == "paused"
    done = asyncio.run(beside_a_gatekeeper(cp, first.resume_async("r1", "yes", checkpointer=cp)))
    assert done.shared == {"n": STEPS, "answer": "yes"}
    kinds = {what for what, _ in cp.calls}
    assert {"create", "write", "claim", "release", "load"} <= kinds
    on_loop = [what for what, thread in cp.calls if thread == threading.main_thread().name]
    assert on_loop == []


def test_a_run_cancelled_while_its_end_is_written_waits_for_the_write(tmp_path: Path) -> None:
    cp = GatedEverywhere(tmp_path / "runs.db")

    async def cancel_at_the_end() -> None:
        flow = counting_flow([])
        run = asyncio.create_task(flow.run_async({"n": 0}, run_id="r1", checkpointer=cp))
        while not any(what == "release" for what, _ in cp.calls) and not run.done():
            await asyncio.sleep(0)
            if sum(what == "write" for what, _ in cp.calls) >= STEPS:
                run.cancel()  # the last writes are in their threads: they end before the run does
                break
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(beside_a_gatekeeper(cp, cancel_at_the_end()))
    assert cp.calls[-1][0] == "release"  # nothing of the run was left running


class Waits:
    writes_wait = True


@pytest.mark.parametrize("fails", [False, True])
def test_off_loop_work_ends_before_a_cancellation_is_raised(fails: bool) -> None:
    started, finished = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        finished.wait(5)
        if fails:
            raise OSError("lost")
        return "written"

    async def main() -> None:
        task = asyncio.create_task(off_loop(Waits(), slow))
        assert await asyncio.to_thread(started.wait, 5)
        task.cancel()
        await asyncio.sleep(0.01)
        assert not task.done()  # still waiting for its thread
        finished.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_off_loop_returns_and_raises_what_the_call_does() -> None:
    def fails() -> None:
        raise OSError("lost")

    def thread() -> str:
        return threading.current_thread().name

    assert asyncio.run(off_loop(Waits(), thread)) != "MainThread"
    assert asyncio.run(off_loop(MemoryCheckpointer(), thread)) == "MainThread"
    with pytest.raises(OSError, match="lost"):
        asyncio.run(off_loop(Waits(), fails))


def test_a_run_cancelled_while_it_is_being_opened_leaves_no_lease_and_is_saved_failed(tmp_path: Path) -> None:
    cp = GatedEverywhere(tmp_path / "runs.db")

    async def main() -> None:
        run = asyncio.create_task(counting_flow([]).run_async({"n": 0}, run_id="r1", checkpointer=cp))
        assert await asyncio.to_thread(cp.waiting.wait, 5)  # creating the run, in its thread
        run.cancel()
        await asyncio.sleep(0.01)
        assert not run.done()  # it waits for the thread it started
        with pytest.raises(asyncio.CancelledError):
            await beside_a_gatekeeper(cp, run)

    asyncio.run(main())
    plain = SQLiteCheckpointer(tmp_path / "runs.db")
    assert plain.load("r1").record.progress.status == "failed"
    plain.claim("r1", "another process", 30.0)  # the lease was given up: no RunBusyError
    plain.release("r1", "another process")
    done = asyncio.run(
        counting_flow([]).resume_async("r1", checkpointer=SQLiteCheckpointer(tmp_path / "runs.db"))
    )
    assert done.shared["n"] == STEPS
