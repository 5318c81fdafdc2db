"""Durable runs: cost per step and database size, side by side with LangGraph's SqliteSaver, in one run.

    make bench            # or: .venv/bin/python bench/durable.py [--quick]

Needs the bench extra for the LangGraph columns: pip install -e '.[bench]'.

Per step: a 1,000-step self-loop that increments a counter. Each node records perf_counter() when it
starts; the median of the gaps between consecutive nodes is the step time (engine + checkpoint), taken
over interleaved repeats so machine noise hits every contender alike.
Size: the same loop over a ``shared`` of about 100 KB (100 strings of 1 KB) plus the counter, the only
key that changes; database bytes (file + WAL) after 100 and after 1,000 steps.
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any, TypedDict

from rillflow import Flow, Node
from rillflow.durable import MemoryCheckpointer, SQLiteCheckpointer

warnings.filterwarnings("ignore", message="Flow ends")
STAMPS: list[float] = []
DOCS = [f"{i:04d}" + "x" * 996 for i in range(100)]  # about 100 KB of state that never changes


# --- rillflow -------------------------------------------------------------------------------------
class Inc(Node):
    def prep(self, shared: dict[str, Any]) -> int:
        STAMPS.append(time.perf_counter())
        return int(shared["n"])

    def post(self, shared: dict[str, Any], n: int, exec_res: Any) -> str | None:
        shared["n"] = n + 1
        return "again" if n + 1 < shared["steps"] else None


def rill_flow() -> Flow:
    inc = Inc()
    inc - "again" >> inc
    return Flow(start=inc, name="Loop")


def rill_run(steps: int, make_cp: Callable[[Path], Any] | None, durability: str, big: bool, db: Path) -> None:
    shared: dict[str, Any] = {"n": 0, "steps": steps}
    if big:
        shared["docs"] = list(DOCS)
    flow = rill_flow()
    if make_cp is None:
        flow.run(shared)
        return
    cp = make_cp(db)
    flow.run(shared, run_id="bench", checkpointer=cp, durability=durability)
    cp.close()


# --- LangGraph ------------------------------------------------------------------------------------
class State(TypedDict, total=False):
    n: int
    steps: int
    docs: list[str]


def lg_graph(checkpointer: Any) -> Any:
    from langgraph.graph import END, StateGraph

    def inc(state: State) -> dict[str, int]:
        STAMPS.append(time.perf_counter())
        return {"n": state["n"] + 1}

    def route(state: State) -> str:
        return "inc" if state["n"] < state["steps"] else END

    graph = StateGraph(State)
    graph.add_node("inc", inc)
    graph.set_entry_point("inc")
    graph.add_conditional_edges("inc", route)
    return graph.compile(checkpointer=checkpointer)


def lg_run(steps: int, saver: bool, durability: str, big: bool, db: Path) -> None:
    state: State = {"n": 0, "steps": steps}
    if big:
        state["docs"] = list(DOCS)
    config: Any = {"recursion_limit": steps + 10, "configurable": {"thread_id": "bench"}}
    if not saver:
        lg_graph(None).invoke(state, config)
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(db, check_same_thread=False)
    lg_graph(SqliteSaver(conn)).invoke(state, config, durability=durability)
    conn.close()


# --- measuring ------------------------------------------------------------------------------------
def step_times(run: Callable[[Path], None]) -> list[float]:
    """Seconds between consecutive node starts in one run (each gap = one step and its checkpoint)."""
    with tempfile.TemporaryDirectory() as tmp:
        STAMPS.clear()
        gc.collect()
        run(Path(tmp) / "bench.db")
        return [b - a for a, b in pairwise(STAMPS)]


def db_bytes(run: Callable[[Path], None]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        run(db)
        return sum(p.stat().st_size for p in Path(tmp).iterdir() if p.name.startswith("bench.db"))


def contenders(steps: int, big: bool, have_langgraph: bool) -> dict[str, Callable[[Path], None]]:
    def rill(cp: Any, mode: str) -> Callable[[Path], None]:
        return lambda db: rill_run(steps, cp, mode, big, db)

    def lg(saver: bool, mode: str) -> Callable[[Path], None]:
        return lambda db: lg_run(steps, saver, mode, big, db)

    table = {"rillflow, no checkpointer": rill(None, "sync")}
    for mode in ("sync", "async", "exit"):
        table[f"rillflow, memory, {mode}"] = rill(lambda _db: MemoryCheckpointer(), mode)
    for mode in ("sync", "async", "exit"):
        table[f"rillflow, SQLite, {mode}"] = rill(SQLiteCheckpointer, mode)
    # the step history's cost: the same run without it, measured alongside
    table["rillflow, SQLite, sync, no history"] = rill(
        lambda db: SQLiteCheckpointer(db, history=False), "sync"
    )
    if have_langgraph:
        table["LangGraph, no checkpointer"] = lg(False, "sync")
        for mode in ("sync", "async", "exit"):
            table[f"LangGraph SqliteSaver, {mode}"] = lg(True, mode)
    return table


def per_step_table(steps: int, repeats: int, big: bool, have_langgraph: bool) -> dict[str, float]:
    table = contenders(steps, big, have_langgraph)
    gaps: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(repeats):  # interleaved: each repeat runs every contender once
        for name, run in table.items():
            gaps[name].extend(step_times(run))
    return {name: statistics.median(g) * 1e6 for name, g in gaps.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    try:
        import langgraph.checkpoint.sqlite  # noqa: F401

        have_langgraph = True
    except ImportError:
        have_langgraph = False
        print("(LangGraph not installed: pip install -e '.[bench]' for its columns)\n")
    steps, repeats = 1000, 3 if args.quick else 7

    small = per_step_table(steps, repeats, big=False, have_langgraph=have_langgraph)
    large = per_step_table(steps, max(2, repeats // 2), big=True, have_langgraph=have_langgraph)
    ref = small.get("LangGraph SqliteSaver, sync")
    print(f"Per step, {steps}-step loop (median µs between node starts, {repeats} interleaved repeats)\n")
    print("| contender | µs/step, small state | µs/step, 100 KB state | LangGraph SqliteSaver sync ÷ this |")
    print("| --- | ---: | ---: | ---: |")
    for name, us in small.items():
        ratio = f"{ref / us:.1f}×" if ref else "n/a"
        print(f"| {name} | {us:.1f} | {large[name]:.1f} | {ratio} |")

    print("\nDatabase bytes (file + WAL) over a 100 KB state, one small key changing per step\n")
    print("| contender | after 100 steps | after 1,000 steps | growth per step |")
    print("| --- | ---: | ---: | ---: |")
    sized = [
        (f"rillflow, SQLite, {m}", lambda n, db, m=m: rill_run(n, SQLiteCheckpointer, m, True, db))
        for m in ("sync",)
    ]
    if have_langgraph:
        sized.append(("LangGraph SqliteSaver, sync", lambda n, db: lg_run(n, True, "sync", True, db)))
    sizes: dict[str, tuple[int, int]] = {}
    for name, run in sized:
        few = db_bytes(lambda db, run=run: run(100, db))
        many = db_bytes(lambda db, run=run: run(steps, db))
        sizes[name] = (few, many)
        print(f"| {name} | {few:,} | {many:,} | {(many - few) / (steps - 100):,.0f} |")

    sync_us = small["rillflow, SQLite, sync"]
    print(
        "\nTargets: SQLite sync <= 100 µs/step median",
        "OK" if sync_us <= 100 else "MISSED",
        f"({sync_us:.1f})",
    )
    if ref:
        verdict = "OK" if ref / sync_us >= 20 else "MISSED"
        print(f"         >= 20x cheaper than LangGraph SqliteSaver sync: {verdict} ({ref / sync_us:.1f}x)")
    bare = small["rillflow, SQLite, sync, no history"]
    verdict = "OK" if sync_us <= 1.3 * bare else "MISSED"
    print(f"         step history costs <= 1.3x (sync, same run): {verdict} ({sync_us / bare:.2f}x)")
    few, many = sizes["rillflow, SQLite, sync"]
    print(
        f"         database growth 100 -> 1,000 steps: {many - few:,} bytes (state is about 100 KB; "
        "the step history adds one small record per step)"
    )


if __name__ == "__main__":
    main()
