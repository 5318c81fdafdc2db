"""PostgreSQL checkpoints: cost per step next to SQLite and LangGraph's PostgresSaver, in one run.

    .venv/bin/python bench/postgres.py [--quick]

Needs the bench extra (pip install -e '.[bench]') for the LangGraph rows, and the machine's PostgreSQL
server binaries: it starts its own throwaway server on 127.0.0.1 (fsync on, as a real one) and removes
it after. The loop and the measure are bench/durable.py's: a self-loop incrementing a counter, the median
gap between consecutive node starts over interleaved repeats; every PostgreSQL contender talks to the
same server over TCP on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import durable as base  # bench/durable.py: the loop, LangGraph's graph and the step timer

from rillflow.durable import PostgresCheckpointer, SQLiteCheckpointer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pg_cluster import Cluster


def rill_pg(url: str, steps: int, mode: str) -> Callable[[Path], None]:
    def run(_db: Path) -> None:
        cp = PostgresCheckpointer(url)
        base.rill_flow().run(
            {"n": 0, "steps": steps}, run_id=uuid.uuid4().hex, checkpointer=cp, durability=mode
        )
        cp.close()

    return run


def lg_pg(url: str, steps: int, mode: str) -> Callable[[Path], None]:
    from langgraph.checkpoint.postgres import PostgresSaver

    def run(_db: Path) -> None:
        config: Any = {"recursion_limit": steps + 10, "configurable": {"thread_id": uuid.uuid4().hex}}
        with PostgresSaver.from_conn_string(url) as saver:
            base.lg_graph(saver).invoke({"n": 0, "steps": steps}, config, durability=mode)

    return run


def commit_times(url: str, count: int) -> list[float]:
    """Seconds per bare commit of a one-row UPDATE: what any synchronous checkpoint pays at least."""
    import psycopg

    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (id INT PRIMARY KEY, n INT)")
        conn.execute("INSERT INTO bench_floor VALUES (1, 0) ON CONFLICT DO NOTHING")
        for _ in range(count):
            start = time.perf_counter()
            conn.execute("UPDATE bench_floor SET n = n + 1 WHERE id = 1")
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    args = parser.parse_args()
    steps, repeats = (200, 2) if args.quick else (500, 5)
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
    except ImportError:
        PostgresSaver = None
        print("(langgraph-checkpoint-postgres not installed: pip install -e '.[bench]' for its rows)\n")
    with Cluster(fsync=True) as server:
        PostgresCheckpointer(server.url).list_runs()  # create the tables outside the timing
        if PostgresSaver is not None:
            with PostgresSaver.from_conn_string(server.url) as saver:
                saver.setup()
        table: dict[str, Callable[[Path], None]] = {
            "rillflow, no checkpointer": lambda db: base.rill_run(steps, None, "sync", False, db),
            "rillflow, SQLite, sync": lambda db: base.rill_run(steps, SQLiteCheckpointer, "sync", False, db),
        }
        for mode in ("sync", "async", "exit"):
            table[f"rillflow, PostgreSQL, {mode}"] = rill_pg(server.url, steps, mode)
        if PostgresSaver is not None:
            for mode in ("sync", "async", "exit"):
                table[f"LangGraph PostgresSaver, {mode}"] = lg_pg(server.url, steps, mode)
        gaps: dict[str, list[float]] = {name: [] for name in table}
        floor: list[float] = []
        for _ in range(repeats):
            for name, run in table.items():
                gaps[name].extend(base.step_times(run))
            floor.extend(commit_times(server.url, steps))
    us = {name: statistics.median(g) * 1e6 for name, g in gaps.items()}
    ref = us.get("LangGraph PostgresSaver, sync")
    floor_us = statistics.median(floor) * 1e6
    print(f"Per step, {steps}-step loop (median µs between node starts, {repeats} interleaved repeats)\n")
    print("| contender | µs/step | LangGraph PostgresSaver sync ÷ this |")
    print("| --- | ---: | ---: |")
    for name, value in us.items():
        print(f"| {name} | {value:.1f} | {f'{ref / value:.1f}×' if ref else 'n/a'} |")
    print(f"\nThe server's floor, a one-row UPDATE committed (a round trip, a WAL flush): {floor_us:.1f} µs")


if __name__ == "__main__":
    main()
