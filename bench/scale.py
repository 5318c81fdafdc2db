"""Parallel batches beyond one process: the same 2,000 CPU-bound items inline, on a ProcessPoolExecutor
and on a Dask LocalCluster of 1 and 2 worker processes, side by side in one run.

    .venv/bin/python bench/scale.py [--items 2000] [--ms 20]

Each item is pure-Python work (a loop calibrated at start-up to about ``--ms`` ms here). ``wall`` excludes
starting the pool or cluster (shown apart). ``overhead/item`` is the executor's cost per item: the wall
time per item of a second, short pass of no-op items (a round trip: pickling, queues or scheduler, the
result's way back, the engine's bookkeeping). ``CPU cores got`` is the CPU time the whole process tree
used over the wall time (it includes the idle background of the other executors, alive all along): two
workers can only beat one if the machine gives this run two cores, and the kernel shares CPU per session
group, so other sessions' load caps it. The items run in interleaved rounds (each contender runs a
quarter, then the next...), so drifting load hits every row alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any

from rillflow import AsyncFlow, AsyncParallelBatchNode
from rillflow.executors import DaskExecutor

LOOPS = 0  # iterations of burn() for one item; set by calibrate()


def burn(loops: int) -> int:
    total = 0
    for i in range(loops):
        total = (total + i * i) % 1_000_003
    return total


def timed_burn(loops: int) -> float:
    start = time.perf_counter()
    burn(loops)
    return time.perf_counter() - start


def calibrate(ms: float) -> int:
    loops = 20_000
    while True:
        start = time.perf_counter()
        burn(loops)
        took = time.perf_counter() - start
        if took > 0.05:
            return int(loops * ms / 1000 / took)
        loops *= 2


class Burn(AsyncParallelBatchNode):
    loops = 0
    exec_in_thread = False  # inline means inline: on the calling thread, one item after another

    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        return list(range(shared["items"]))

    def exec(self, item: int) -> int:
        return burn(self.loops) + item

    async def post_async(self, shared: dict[str, Any], items: Any, results: list[int]) -> None:
        shared["results"] = results


def cpu_seconds() -> float:
    """CPU time of this process and all its descendants (pool workers, Dask nannies and workers)."""
    import psutil  # comes with distributed (the dask extra)

    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def run_batch(items: int, loops: int, executor: Executor | None, per_task: int = 1) -> tuple[float, float]:
    """(wall seconds, CPU seconds used by this process tree) for one batch."""
    node = Burn(executor=executor, items_per_task=per_task)
    node.loops = loops
    shared: dict[str, Any] = {"items": items}
    cpu, start = cpu_seconds(), time.perf_counter()
    asyncio.run(AsyncFlow(start=node).run_async(shared))
    wall = time.perf_counter() - start
    assert len(shared["results"]) == items
    return wall, cpu_seconds() - cpu


@contextmanager
def inline() -> Iterator[None]:
    yield None


def contenders(per_task: int) -> list[tuple[str, int, Callable[[], Any], int]]:
    """(name, workers, make the executor, items per task)."""
    rows: list[tuple[str, int, Callable[[], Any], int]] = [
        ("inline (no executor)", 1, inline, 1),
        ("ProcessPoolExecutor, 2 processes", 2, lambda: ProcessPoolExecutor(2), 1),
        ("Dask LocalCluster, 1 worker process", 1, lambda: DaskExecutor(n_workers=1), 1),
        ("Dask LocalCluster, 2 worker processes", 2, lambda: DaskExecutor(n_workers=2), 1),
    ]
    if per_task > 1:
        rows += [
            (f"Dask, 1 worker, items_per_task={per_task}", 1, lambda: DaskExecutor(n_workers=1), per_task),
            (f"Dask, 2 workers, items_per_task={per_task}", 2, lambda: DaskExecutor(n_workers=2), per_task),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--ms", type=float, default=20.0, help="work per item, in ms")
    parser.add_argument("--noop-items", type=int, default=500)
    parser.add_argument(
        "--items-per-task", type=int, default=8, help="adds two Dask rows sending this many items per task"
    )
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds the items are split into")
    args = parser.parse_args()
    loops = calibrate(args.ms)
    work = min(timed_burn(loops) for _ in range(5))  # the least preempted of five
    print(f"{args.items} items of {work * 1000:.1f} ms pure-Python work each; {os.cpu_count()} CPUs;")
    print(f"load average at start {os.getloadavg()[0]:.2f} (other sessions share this machine)\n")
    made = []
    with ExitStack() as stack:
        for name, workers, make, per_task in contenders(args.items_per_task):
            started = time.perf_counter()
            executor = stack.enter_context(make())
            made.append((name, workers, executor, per_task, time.perf_counter() - started))
            run_batch(
                min(20, args.items), loops, executor, per_task
            )  # warm the workers (imports, first pickles)
        walls, cpus = [0.0] * len(made), [0.0] * len(made)
        # Interleaved rounds: the machine's other load, which drifts, hits every contender alike.
        per_round = [args.items // args.rounds + (r < args.items % args.rounds) for r in range(args.rounds)]
        for r, items in enumerate(per_round):
            for i, (_, _, executor, per_task, _) in enumerate(made):
                wall, cpu = run_batch(items, loops, executor, per_task)
                walls[i] += wall
                cpus[i] += cpu
            print(f"  round {r + 1}/{args.rounds} done, load average {os.getloadavg()[0]:.2f}", flush=True)
        noops = [run_batch(args.noop_items, 0, executor, per_task)[0] for _, _, executor, per_task, _ in made]
    rows = []
    for (name, workers, _, _, startup), wall, cpu, noop in zip(made, walls, cpus, noops, strict=True):
        rows.append((name, workers, startup, wall, cpu / wall, noop / args.noop_items))
    base = rows[0][3]
    print(
        "\n| executor | workers | start-up s | wall s | × inline | CPU cores got "
        "| overhead/item µs (no-op round trip) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, workers, startup, wall, cores, noop in rows:
        print(
            f"| {name} | {workers} | {startup:.1f} | {wall:.1f} | {base / wall:.2f}× | {cores:.2f} "
            f"| {noop * 1e6:.0f} |"
        )
    print()
    for one, two in ((2, 3), (4, 5))[: len(rows) // 2 - 1]:
        speedup = rows[one][3] / rows[two][3]
        verdict = "OK" if speedup >= 1.7 else "MISSED"
        print(f"Target: {rows[two][0]} >= 1.7x faster than 1 worker: {verdict} ({speedup:.2f}x)", end="")
        print(f", with {rows[two][4]:.2f} CPU cores given to the run")
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
