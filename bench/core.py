"""Core engine overhead, side by side with plain Python and PocketFlow (from PyPI), all in one run.

    make bench            # or: .venv/bin/python bench/core.py [--quick]

Per-step rows take the median of several interleaved repeats (so machine noise hits every column alike).
Fan-out rows run each contender in a fresh subprocess, so peak RSS is that contender's own.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pocketflow

import rillflow
from rillflow.observe import NodeEnd

SLEEP = 0.05
# The self-loops end on an action with no successor, which warns "Flow ends" by design.
warnings.filterwarnings("ignore", message="Flow ends")


# --- sync chain and self-loop ---------------------------------------------------------------------
def chain_flow(pf: ModuleType, length: int) -> Any:
    class Step(pf.Node):  # type: ignore[misc,name-defined]
        def prep(self, shared: dict[str, int]) -> int:
            return shared["n"]

        def exec(self, prep_res: int) -> int:
            return prep_res + 1

        def post(self, shared: dict[str, int], prep_res: int, exec_res: int) -> None:
            shared["n"] = exec_res

    head = node = Step()
    for _ in range(length - 1):
        node = node >> Step()
    return pf.Flow(head)


def loop_flow(pf: ModuleType, steps: int, use_async: bool) -> Any:
    if use_async:

        class AsyncStep(pf.AsyncNode):  # type: ignore[misc,name-defined]
            async def prep_async(self, shared: dict[str, int]) -> int:
                return shared["n"]

            async def exec_async(self, prep_res: int) -> int:
                return prep_res + 1

            async def post_async(self, shared: dict[str, int], prep_res: int, exec_res: int) -> str:
                shared["n"] = exec_res
                return "again" if exec_res < steps else "done"

        node: Any = AsyncStep()
        node - "again" >> node
        return pf.AsyncFlow(node)

    class Step(pf.Node):  # type: ignore[misc,name-defined]
        def prep(self, shared: dict[str, int]) -> int:
            return shared["n"]

        def exec(self, prep_res: int) -> int:
            return prep_res + 1

        def post(self, shared: dict[str, int], prep_res: int, exec_res: int) -> str:
            shared["n"] = exec_res
            return "again" if exec_res < steps else "done"

    node = Step()
    node - "again" >> node
    return pf.Flow(node)


def plain_steps(steps: int) -> Callable[[], None]:
    """The floor: the same prep/exec/post calls and successor lookup, with no framework."""

    class Step:
        def __init__(self) -> None:
            self.successors: dict[str, Step] = {}

        def prep(self, shared: dict[str, int]) -> int:
            return shared["n"]

        def exec(self, prep_res: int) -> int:
            return prep_res + 1

        def post(self, shared: dict[str, int], prep_res: int, exec_res: int) -> str:
            shared["n"] = exec_res
            return "again" if exec_res < steps else "done"

    step = Step()
    step.successors["again"] = step

    def run() -> None:
        shared, node = {"n": 0}, step
        while node is not None:
            p = node.prep(shared)
            action = node.post(shared, p, node.exec(p))
            node = node.successors.get(action)

    return run


async def plain_async_steps(steps: int) -> None:
    async def prep(shared: dict[str, int]) -> int:
        return shared["n"]

    async def exec_(prep_res: int) -> int:
        return prep_res + 1

    async def post(shared: dict[str, int], exec_res: int) -> str:
        shared["n"] = exec_res
        return "again" if exec_res < steps else "done"

    shared, action = {"n": 0}, "again"
    while action == "again":
        action = await post(shared, await exec_(await prep(shared)))


def per_step_us(make_runs: dict[str, Callable[[], None]], steps: int, repeats: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in make_runs}
    for _ in range(repeats):
        for name, run in make_runs.items():  # interleaved: noise hits every contender alike
            gc.collect()
            started = time.perf_counter()
            run()
            samples[name].append((time.perf_counter() - started) / steps * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def run_flow(flow: Any) -> Callable[[], None]:
    return lambda: flow.run({"n": 0})


def run_flow_async(flow: Any) -> Callable[[], None]:
    return lambda: asyncio.run(flow.run_async({"n": 0}))


def noop_listener(event: object) -> None:
    """Receives every event and does nothing: the cost of building and delivering events."""


def noop_end_listener(event: NodeEnd) -> None:
    """Receives only NodeEnd events (its annotation says so): one event per visit."""


def run_flow_listened(flow: Any, listener: Callable[[Any], None] = noop_listener) -> Callable[[], None]:
    return lambda: flow.run({"n": 0}, listeners=[listener])


def run_flow_async_listened(flow: Any, listener: Callable[[Any], None] = noop_listener) -> Callable[[], None]:
    return lambda: asyncio.run(flow.run_async({"n": 0}, listeners=[listener]))


# --- fan-out (each in its own subprocess) ---------------------------------------------------------
def fanout_child(contender: str, items: int, limit: int | None) -> dict[str, Any]:
    in_flight = peak = 0

    async def work(item: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(SLEEP)
        in_flight -= 1
        return item

    async def gather() -> list[int]:
        if limit is None:
            return await asyncio.gather(*(work(i) for i in range(items)))
        semaphore = asyncio.Semaphore(limit)

        async def bounded(i: int) -> int:
            async with semaphore:
                return await work(i)

        return await asyncio.gather(*(bounded(i) for i in range(items)))

    def node_flow(pf: ModuleType) -> Any:
        class Fan(pf.AsyncParallelBatchNode):  # type: ignore[misc,name-defined]
            async def prep_async(self, shared: dict[str, Any]) -> list[int]:
                return list(range(items))

            async def exec_async(self, item: int) -> int:
                return await work(item)

            async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: list[int]) -> None:
                shared["out"] = exec_res

        if pf is rillflow:
            return pf.AsyncFlow(Fan(max_concurrency=limit))
        return pf.AsyncFlow(Fan())

    async def main() -> float:
        started = time.perf_counter()
        if contender == "gather":
            out = await gather()
        else:
            shared: dict[str, Any] = {}
            await node_flow(rillflow if contender == "rillflow" else pocketflow).run_async(shared)
            out = shared["out"]
        elapsed = time.perf_counter() - started
        assert out == list(range(items))
        return elapsed

    elapsed = asyncio.run(main())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall": elapsed, "rss_mb": rss_mb, "peak_in_flight": peak}


def fanout(contender: str, items: int, limit: int | None, repeats: int) -> dict[str, float]:
    runs = []
    for _ in range(repeats):
        cmd = [sys.executable, __file__, "--child", contender, str(items), str(limit or 0)]
        runs.append(json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


# --- table ----------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        contender, items, limit = args.child
        print(json.dumps(fanout_child(contender, int(items), int(limit) or None)))
        return

    repeats = 3 if args.quick else 9
    rows: list[tuple[str, str, str, str, str]] = []

    chain = per_step_us(
        {
            "plain": plain_steps(100),
            "pocketflow": run_flow(chain_flow(pocketflow, 100)),
            "rillflow": run_flow(chain_flow(rillflow, 100)),
            "listener": run_flow_listened(chain_flow(rillflow, 100)),
            "end listener": run_flow_listened(chain_flow(rillflow, 100), noop_end_listener),
        },
        100,
        repeats * 20,
    )
    rows.append(per_step_row("100-node sync chain, µs/step", chain))
    rows.extend(listener_rows(chain))

    loop = per_step_us(
        {
            "plain": plain_steps(10_000),
            "pocketflow": run_flow(loop_flow(pocketflow, 10_000, use_async=False)),
            "rillflow": run_flow(loop_flow(rillflow, 10_000, use_async=False)),
            "listener": run_flow_listened(loop_flow(rillflow, 10_000, use_async=False)),
            "end listener": run_flow_listened(
                loop_flow(rillflow, 10_000, use_async=False), noop_end_listener
            ),
        },
        10_000,
        repeats,
    )
    rows.append(per_step_row("10k-step self-loop sync, µs/step", loop))
    rows.extend(listener_rows(loop))

    aloop = per_step_us(
        {
            "plain": lambda: asyncio.run(plain_async_steps(10_000)),
            "pocketflow": run_flow_async(loop_flow(pocketflow, 10_000, use_async=True)),
            "rillflow": run_flow_async(loop_flow(rillflow, 10_000, use_async=True)),
            "listener": run_flow_async_listened(loop_flow(rillflow, 10_000, use_async=True)),
            "end listener": run_flow_async_listened(
                loop_flow(rillflow, 10_000, use_async=True), noop_end_listener
            ),
        },
        10_000,
        repeats,
    )
    rows.append(per_step_row("10k-step self-loop async, µs/step", aloop))
    rows.extend(listener_rows(aloop))

    fan_repeats = 3 if args.quick else 5
    fan = {c: fanout(c, 10_000, None, fan_repeats) for c in ("gather", "pocketflow", "rillflow")}
    rows.append(
        (
            "10k parallel items × sleep 50 ms, wall s",
            f"{fan['gather']['wall']:.3f}",
            f"{fan['pocketflow']['wall']:.3f}",
            f"{fan['rillflow']['wall']:.3f}",
            f"{fan['rillflow']['wall'] / fan['gather']['wall']:.2f}× gather (target ≤ 1.10)",
        )
    )
    rows.append(
        (
            "  same, peak RSS MB",
            f"{fan['gather']['rss_mb']:.1f}",
            f"{fan['pocketflow']['rss_mb']:.1f}",
            f"{fan['rillflow']['rss_mb']:.1f}",
            f"{fan['rillflow']['rss_mb'] / fan['gather']['rss_mb']:.2f}× gather",
        )
    )
    bounded = {c: fanout(c, 1_000, 50, fan_repeats) for c in ("gather", "rillflow")}
    rows.append(
        (
            "1k items bounded to 50, wall s (ideal 1.0)",
            f"{bounded['gather']['wall']:.3f}",
            "n/a (no bound)",
            f"{bounded['rillflow']['wall']:.3f}",
            f"{bounded['rillflow']['wall'] / 1.0:.3f}× ideal (target ≤ 1.03)",
        )
    )
    rows.append(
        (
            "  same, max items in flight",
            f"{bounded['gather']['peak_in_flight']:.0f}",
            "",
            f"{bounded['rillflow']['peak_in_flight']:.0f}",
            "bound 50",
        )
    )
    print_table(rows)


def per_step_row(title: str, result: dict[str, float]) -> tuple[str, str, str, str, str]:
    ratio = result["rillflow"] / result["pocketflow"]
    return (
        title,
        f"{result['plain']:.2f}",
        f"{result['pocketflow']:.2f}",
        f"{result['rillflow']:.2f}",
        f"{ratio:.2f}× PocketFlow (target ≤ 0.70)",
    )


def listener_rows(result: dict[str, float]) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            f"  same, one no-op listener {title}",
            "",
            "",
            f"{result[key]:.2f}",
            f"{result[key] / result['rillflow']:.2f}× no listener (target ≤ 1.50)",
        )
        for key, title in (("listener", "of every event"), ("end listener", "of NodeEnd only"))
    ]


def print_table(rows: list[tuple[str, str, str, str, str]]) -> None:
    header = ("scenario", "plain/gather", "PocketFlow 0.0.3", "rillflow", "rillflow vs baseline")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    print(f"python {sys.version.split()[0]}, one run, medians of interleaved repeats")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
