"""Exactness under real crashes: a run whose steps change ``shared`` in prep and post (with awaits in
between, in a parallel batch; and a nested flow's prep and post in a loop) is killed with SIGKILL at
random moments, 20 times, and resumed each time. Every run must end with the state one clean run has,
and only what was in flight at a kill may run again (counted from an append-only side log of prep
starts)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from rillflow.durable import SQLiteCheckpointer

WORKER = Path(__file__).with_name("exact_worker.py")
sys.path.insert(0, str(WORKER.parent))
from exact_worker import CLEAN, CONCURRENCY, ITEMS, LOOPS  # noqa: E402

KILLS = 20

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

Outcome = tuple[dict[str, Any], Counter[str], int]  # a run's final `shared`, its prep starts, its kills


def kill_and_resume(mode: str, durability: str, tmp_path: Path) -> tuple[list[Outcome], str]:
    """Kill workers KILLS times at random moments; a run that finishes is checked and a new one started."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    db = tmp_path / f"{mode}-{durability}.db"
    runs: list[Outcome] = []
    kills, run_no, killed_here = 0, 0, 0
    while True:
        run_id, marks = f"r{run_no}", tmp_path / f"{mode}-{durability}-{run_no}.marks"
        child = subprocess.Popen(
            [sys.executable, str(WORKER), mode, str(db), run_id, str(marks), durability],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", f"seed {seed}"
        if kills < KILLS:
            time.sleep(rng.uniform(0.0, 0.1))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                child.wait()
                kills, killed_here = kills + 1, killed_here + 1
                continue
        out = child.stdout.read()
        child.wait(timeout=120)
        assert child.returncode == 0 and out.strip() == "done", f"seed {seed}: {out!r}"
        stored = SQLiteCheckpointer(db).load(run_id)
        shared = {k: json.loads(v) for (ns, k), v in stored.entries.items() if ns == "s"}
        starts = Counter(line.split()[1] for line in marks.read_text().splitlines())
        runs.append((shared, starts, killed_here))
        if kills >= KILLS:
            return runs, f"seed {seed}"
        run_no, killed_here = run_no + 1, 0


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_a_parallel_batch_changing_shared_in_prep_and_post_ends_as_one_clean_run(
    durability: str, tmp_path: Path
) -> None:
    runs, seed = kill_and_resume("prepost", durability, tmp_path)
    assert sum(killed for _, _, killed in runs) >= KILLS
    for shared, starts, killed in runs:
        assert {k: shared[k] for k in CLEAN["prepost"]} == CLEAN["prepost"], seed
        assert sorted(shared["done"]) == [i * i for i in range(ITEMS)], seed
        if durability == "sync":
            # Only visits in flight at a kill start their prep again: at most CONCURRENCY per kill.
            again = sum(n - 1 for n in starts.values())
            assert again <= killed * CONCURRENCY, f"{seed}: {again} prep re-runs after {killed} kills"


def test_a_looping_nested_flow_changing_shared_in_prep_and_post_ends_as_one_clean_run(
    tmp_path: Path,
) -> None:
    runs, seed = kill_and_resume("nested", "sync", tmp_path)
    assert sum(killed for _, _, killed in runs) >= KILLS
    for shared, starts, killed in runs:
        assert {k: shared[k] for k in CLEAN["nested"]} == CLEAN["nested"], seed
        assert shared["pairs"] == list(range(1, LOOPS + 1)), seed
        # A prep runs again only when a kill fell inside its visit before the visit's first save.
        assert starts["top"] <= 1 + killed, f"{seed}: the top flow's prep ran {starts['top']} times"
        assert starts["sub"] <= LOOPS + killed, seed
