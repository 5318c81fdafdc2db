"""``run_many`` against plain ``asyncio.gather`` of the same work, in one run.

    make bench            # or: .venv/bin/python bench/run_many.py [--runs 1000] [--repeats 7]

Each run is a flow of three async nodes that each sleep 10 ms; all runs start at once. The baseline is
``asyncio.gather`` of one coroutine per run doing the same three sleeps. Cells are medians of interleaved
repeats, so machine noise hits both columns alike. The target is a ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import rillflow as rf

SLEEP = 0.01


class Step(rf.AsyncNode):
    async def exec_async(self, prep_res: Any) -> None:
        await asyncio.sleep(SLEEP)

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["steps"] = shared.get("steps", 0) + 1


def three_steps() -> rf.AsyncFlow:
    first = Step()
    first >> Step() >> Step()
    return rf.AsyncFlow(first)


async def by_hand(runs: int) -> float:
    async def one(shared: dict[str, Any]) -> None:
        for _ in range(3):
            await asyncio.sleep(SLEEP)
            shared["steps"] = shared.get("steps", 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(one({"i": i}) for i in range(runs)))
    return time.perf_counter() - started


async def with_run_many(runs: int) -> float:
    flow = three_steps()
    started = time.perf_counter()
    results = await rf.run_many(flow, ({"i": i} for i in range(runs)))
    elapsed = time.perf_counter() - started
    assert all(r.ok and r.shared["steps"] == 3 for r in results)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    hand: list[float] = []
    ours: list[float] = []
    for _ in range(args.repeats):
        hand.append(asyncio.run(by_hand(args.runs)))
        ours.append(asyncio.run(with_run_many(args.runs)))
    h, o = statistics.median(hand), statistics.median(ours)
    print(f"{'scenario':<44} {'gather s':>9} {'run_many s':>11} {'ratio':>7}")
    print(f"{f'{args.runs} flows x 3 async nodes x sleep 10 ms':<44} {h:>9.3f} {o:>11.3f} {o / h:>6.2f}×")
    print("\nratio = run_many / asyncio.gather of the same coroutines (target <= 1.2)")


if __name__ == "__main__":
    main()
