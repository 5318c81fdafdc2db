"""Exactness under real crashes: a run whose steps change ``shared`` in prep and post (with awaits in
between, in a parallel batch; and a nested flow's prep and post in a loop) is killed with SIGKILL at
random moments, 20 times, and resumed each time. Every run must end with the state one clean run has,
and nothing the checkpoint recorded as done runs again: only visits not yet committed at the kill (in
flight, or finished while a sibling was inside an awaiting prep or post) start their prep again, counted
from an append-only side log of prep starts."""

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

from rillflow.durable import RunNotFoundError, SQLiteCheckpointer

WORKER = Path(__file__).with_name("exact_worker.py")
sys.path.insert(0, str(WORKER.parent))
from exact_worker import CLEAN, ITEMS, LOOPS  # noqa: E402

KILLS = 20

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

# A run's final `shared`, its prep starts per process, and what the checkpoint held after each kill.
Outcome = tuple[dict[str, Any], list[Counter[str]], list[set[str]]]


def recorded(db: Path, run_id: str) -> set[str]:
    """The batch items the checkpoint holds as finished, as the side log names them."""
    try:
        entries = SQLiteCheckpointer(db).load(run_id).entries
    except RunNotFoundError:
        return set()
    return {f"work{json.loads(key)[-1]}" for ns, key in entries if ns == "i"}


def kill_and_resume(mode: str, durability: str, tmp_path: Path) -> tuple[list[Outcome], str]:
    """Kill workers KILLS times at random moments; a run that finishes is checked and a new one started."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    db = tmp_path / f"{mode}-{durability}.db"
    runs: list[Outcome] = []
    kills, run_no, saved = 0, 0, []
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
                kills += 1
                saved.append(recorded(db, run_id))
                with marks.open("a") as log:
                    log.write("P --killed--\n")  # the next process's prep starts follow
                continue
        out = child.stdout.read()
        child.wait(timeout=120)
        assert child.returncode == 0 and out.strip() == "done", f"seed {seed}: {out!r}"
        stored = SQLiteCheckpointer(db).load(run_id)
        shared = {k: json.loads(v) for (ns, k), v in stored.entries.items() if ns == "s"}
        per_process: list[Counter[str]] = [Counter()]
        for line in marks.read_text().splitlines():
            if line == "P --killed--":
                per_process.append(Counter())
            else:
                per_process[-1][line.split()[1]] += 1
        runs.append((shared, per_process, saved))
        if kills >= KILLS:
            return runs, f"seed {seed}"
        run_no, saved = run_no + 1, []


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_a_parallel_batch_changing_shared_in_prep_and_post_ends_as_one_clean_run(
    durability: str, tmp_path: Path
) -> None:
    runs, seed = kill_and_resume("prepost", durability, tmp_path)
    assert sum(len(saved) for _, _, saved in runs) >= KILLS
    for shared, processes, saved in runs:
        assert {k: shared[k] for k in CLEAN["prepost"]} == CLEAN["prepost"], seed
        assert sorted(shared["done"]) == [i * i for i in range(ITEMS)], seed
        if durability == "sync":
            for done, after in zip(saved, processes[1:], strict=True):
                again = done & set(after)
                assert not again, f"{seed}: items recorded as done started again: {sorted(again)}"


def test_a_looping_nested_flow_changing_shared_in_prep_and_post_ends_as_one_clean_run(
    tmp_path: Path,
) -> None:
    runs, seed = kill_and_resume("nested", "sync", tmp_path)
    assert sum(len(saved) for _, _, saved in runs) >= KILLS
    for shared, processes, saved in runs:
        starts, killed = sum(processes, Counter()), len(saved)
        assert {k: shared[k] for k in CLEAN["nested"]} == CLEAN["nested"], seed
        assert shared["pairs"] == list(range(1, LOOPS + 1)), seed
        # A prep runs again only when a kill fell inside its visit before the visit's first save.
        assert starts["top"] <= 1 + killed, f"{seed}: the top flow's prep ran {starts['top']} times"
        assert starts["sub"] <= LOOPS + killed, seed
