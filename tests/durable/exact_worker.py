"""A durable run whose steps change ``shared`` in prep and post, for the exactness crash tests: killed
with SIGKILL at any moment and started again, it must end with the state one clean run has.

    python exact_worker.py prepost|nested DB RUN_ID MARKERS [DURABILITY]

Every prep start appends "P <where>" to MARKERS (an unbuffered write that survives the kill).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

from crash_worker import LEASE_TTL, stored_run

from rillflow import AsyncNode, AsyncParallelBatchFlow, Flow, Node
from rillflow.durable import SQLiteCheckpointer

ITEMS, CONCURRENCY, LOOPS = 60, 8, 40
_marks = -1


def mark(where: str) -> None:
    os.write(_marks, f"P {where}\n".encode())


class Work(AsyncNode):
    async def prep_async(self, shared: dict[str, Any]) -> int:
        i = int(self.params["i"])
        mark(f"work{i}")
        shared["started"] += 1
        await asyncio.sleep(0.001 * (i % 3))  # changes `shared`, then awaits
        return i

    async def exec_async(self, i: int) -> int:
        await asyncio.sleep(0.004 + 0.002 * (i % 5))
        return i * i

    async def post_async(self, shared: dict[str, Any], i: int, square: int) -> None:
        shared["posted"] += 1
        await asyncio.sleep(0.001)  # changes `shared`, then awaits
        shared["done"].append(square)


class Tally(AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["tallied"] += 1


class Items(AsyncParallelBatchFlow):
    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, int]]:
        shared["batches"] += 1
        return [{"i": i} for i in range(ITEMS)]


def prepost() -> Any:
    work = Work()
    work >> Tally()
    return Items(start=work, max_concurrency=CONCURRENCY)


class Count(Node):
    def exec(self, prep_res: Any) -> None:
        mark("count")
        time.sleep(0.002)

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["steps"] += 1


class Sub(Flow):
    def prep(self, shared: dict[str, Any]) -> int:
        mark("sub")
        shared["entered"] += 1
        return int(shared["entered"])

    def post(self, shared: dict[str, Any], entered: int, action: Any) -> str:
        shared["left"] += 1
        shared["pairs"].append(entered)
        return "again" if shared["left"] < LOOPS else "stop"


class Top(Flow):
    def prep(self, shared: dict[str, Any]) -> None:
        mark("top")
        shared["top"] += 1


def nested() -> Any:
    a, b = Count(name="A"), Count(name="B")
    a >> b
    sub = Sub(start=a, name="Sub")
    sub - "again" >> sub
    return Top(start=sub, name="Top")


CLEAN = {
    "prepost": {"started": ITEMS, "posted": ITEMS, "tallied": ITEMS, "batches": 1},
    "nested": {"entered": LOOPS, "left": LOOPS, "steps": 2 * LOOPS, "top": 1},
}


def start(mode: str) -> dict[str, Any]:
    if mode == "prepost":
        return {"started": 0, "posted": 0, "tallied": 0, "batches": 0, "done": []}
    return {"entered": 0, "left": 0, "steps": 0, "top": 0, "pairs": []}


def main() -> None:
    global _marks
    mode, db, run_id, markers = sys.argv[1:5]
    durability: Any = sys.argv[5] if len(sys.argv) > 5 else "sync"
    _marks = os.open(markers, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    cp = SQLiteCheckpointer(db, lease_ttl=LEASE_TTL)
    flow = prepost() if mode == "prepost" else nested()
    resuming = stored_run(cp, db, run_id)
    print("ready", flush=True)
    options: dict[str, Any] = {"checkpointer": cp, "durability": durability}
    if resuming:
        outcome = asyncio.run(flow.resume_async(run_id, **options))
    else:
        outcome = asyncio.run(flow.run_async(start(mode), run_id=run_id, **options))
    print(outcome.status, flush=True)


if __name__ == "__main__":
    main()
