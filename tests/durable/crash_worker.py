"""A durable run for the crash tests, meant to be killed with SIGKILL at any moment and started again.

    python crash_worker.py batch|loop DB RUN_ID MARKERS [DURABILITY]

Starts the run, or resumes it if the database has it. Each item (or loop step) appends "S <n>" to the
MARKERS file when its body starts ("F <n>" when a batch item finishes), with an unbuffered write that
survives the kill.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from typing import Any

from rillflow import AsyncNode, AsyncParallelBatchFlow, Flow, Node
from rillflow.durable import RunNotFoundError, SQLiteCheckpointer

ITEMS, STEPS, CONCURRENCY = 1000, 150, 16
LEASE_TTL = 0.3  # short, so a killed worker's lease is soon free for the next one
_marks = -1


def mark(n: int) -> None:
    os.write(_marks, f"S {n}\n".encode())


class Work(AsyncNode):
    async def prep_async(self, shared: dict[str, Any]) -> int:
        return int(self.params["i"])

    async def exec_async(self, i: int) -> int:
        mark(i)
        await asyncio.sleep(0.002)
        return i * i

    async def post_async(self, shared: dict[str, Any], i: int, square: int) -> None:
        shared["results"][str(i)] = square  # items write to one result map in `shared`
        os.write(_marks, f"F {i}\n".encode())  # finished: the item's save comes right after


class Items(AsyncParallelBatchFlow):
    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, int]]:
        return [{"i": i} for i in range(ITEMS)]


class Step(Node):
    def prep(self, shared: dict[str, Any]) -> int:
        return int(shared["n"])

    def exec(self, n: int) -> int:
        mark(n)
        time.sleep(0.003)
        return n

    def post(self, shared: dict[str, Any], prep_res: int, n: int) -> str:
        shared["history"].append(n)
        shared["n"] = n + 1
        return "again" if n + 1 < STEPS else "stop"


class End(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        shared["finished"] = True
        return "end"


def build(mode: str) -> Any:
    if mode == "batch":
        return Items(start=Work(), max_concurrency=CONCURRENCY)
    step = Step()
    step - "again" >> step
    step - "stop" >> End()
    return Flow(start=step, name="Loop")


def wait_for_lease(db: str, run_id: str) -> None:
    """Sleep until the lease left by the killed worker has expired (so the kill lands in the run)."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT lease_expires FROM rillflow_runs WHERE run_id = ?", (run_id,)).fetchone()
    conn.close()
    if row is not None and row[0] is not None:
        time.sleep(max(0.0, row[0] - time.time() + 0.01))


def stored_run(cp: SQLiteCheckpointer, db: str, run_id: str) -> bool:
    """Whether ``run_id`` is stored (then the worker resumes it, once the killed worker's lease expired)."""
    try:
        cp.get(run_id)
    except RunNotFoundError:
        return False
    wait_for_lease(db, run_id)
    return True


def main() -> None:
    global _marks
    mode, db, run_id, markers = sys.argv[1:5]
    durability: Any = sys.argv[5] if len(sys.argv) > 5 else "sync"
    _marks = os.open(markers, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    cp = SQLiteCheckpointer(db, lease_ttl=LEASE_TTL)
    flow = build(mode)
    resuming = stored_run(cp, db, run_id)
    print("ready", flush=True)
    shared: dict[str, Any] = {"results": {}} if mode == "batch" else {"n": 0, "history": []}
    options: dict[str, Any] = {"checkpointer": cp, "durability": durability}
    if mode == "batch":
        go = (
            flow.resume_async(run_id, **options)
            if resuming
            else flow.run_async(shared, run_id=run_id, **options)
        )
        outcome = asyncio.run(go)
    else:
        outcome = flow.resume(run_id, **options) if resuming else flow.run(shared, run_id=run_id, **options)
    print(outcome.status, flush=True)


if __name__ == "__main__":
    main()
