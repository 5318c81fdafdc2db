"""A worker process killed (SIGKILL) in the middle of a batch: every item ends in the results exactly once,
and the durable per-item records agree with them."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from executor_nodes import Logged, square_flow

from rillflow.durable import Checkpointer, JSONSerializer, SQLiteCheckpointer
from rillflow.durable.checkpointer import Changes, Key, RunInfo, RunProgress, RunRecord, StoredRun
from rillflow.executors import DaskExecutor

ITEMS = 40


class Recording(Checkpointer):
    """Passes everything to ``inner`` and keeps every per-item record written, in order."""

    def __init__(self, inner: Checkpointer) -> None:
        super().__init__()
        self.inner = inner
        self.items: list[tuple[int, Any]] = []

    def create(self, record: RunRecord, entries: Mapping[Key, bytes]) -> None:
        self.inner.create(record, entries)

    def write(self, run_id: str, changes: Changes, progress: RunProgress) -> None:
        for (ns, key), value in changes.items():
            if ns == "i" and value is not None:
                self.items.append((json.loads(key)[-1], JSONSerializer().loads(value)))
        self.inner.write(run_id, changes, progress)

    def load(self, run_id: str) -> StoredRun:
        return self.inner.load(run_id)

    def list_runs(self, status: Any = None) -> list[RunInfo]:
        return self.inner.list_runs(status)

    def delete(self, run_id: str) -> bool:
        return self.inner.delete(run_id)

    def claim(self, run_id: str, owner: str, ttl: float) -> None:
        self.inner.claim(run_id, owner, ttl)

    def release(self, run_id: str, owner: str) -> None:
        self.inner.release(run_id, owner)


def starts(log: Path) -> list[tuple[int, int]]:
    """(item, pid) for every exec that started, in order."""
    if not log.exists():
        return []
    lines = [line.split() for line in log.read_text().splitlines() if line.count(" ") == 2]
    return [(int(item), int(pid)) for _, item, pid in lines]


class Killer(threading.Thread):
    """Once ``after`` items have started, SIGKILLs the worker that started the latest one (mid-exec)."""

    def __init__(self, log: Path, after: int) -> None:
        super().__init__(daemon=True)
        self.log, self.after = log, after
        self.killed: tuple[int, int] | None = None  # (item it was running, pid)

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            started = starts(self.log)
            if len(started) >= self.after:
                self.killed = started[-1]
                os.kill(self.killed[1], signal.SIGKILL)
                return
            time.sleep(0.005)


def check_exactly_once(results: list[Any], recorded: list[tuple[int, Any]]) -> None:
    assert [r[0] for r in results] == [i * i for i in range(ITEMS)]  # every item, once, in order
    assert Counter(i for i, _ in recorded) == Counter(range(ITEMS))  # one record per item
    assert sorted(recorded) == sorted(enumerate(results))  # the same values


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # Dask logs the lost worker
async def test_a_dask_worker_killed_mid_batch_loses_no_item(tmp_path: Path) -> None:
    log, store = tmp_path / "log", Recording(SQLiteCheckpointer(tmp_path / "r.db"))
    node = Logged(executor=None, max_concurrency=4)
    node.log = str(log)
    node.seconds = 0.3
    killer = Killer(log, after=8)
    with DaskExecutor(n_workers=2) as dask:
        node.executor = dask
        killer.start()
        shared = {"items": list(range(ITEMS)), "log": str(log)}
        done = await square_flow(node).run_async(shared, run_id="kill", checkpointer=store)
        killer.join()
    assert killer.killed is not None
    item, pid = killer.killed
    ran = Counter(i for i, _ in starts(log))
    assert ran[item] == 2  # the killed worker's item ran again elsewhere (at least once) ...
    assert pid not in {p for i, p in starts(log) if i > item and ran[i] == 1}  # ... the dead one ran no more
    check_exactly_once(done.shared["results"], store.items)


async def test_a_broken_process_pool_fails_the_run_and_resume_runs_only_the_rest(tmp_path: Path) -> None:
    log, store = tmp_path / "log", Recording(SQLiteCheckpointer(tmp_path / "r.db"))
    node = Logged(max_concurrency=4)
    node.log = str(log)
    node.seconds = 0.3
    shared = {"items": list(range(ITEMS)), "log": str(log)}
    killer = Killer(log, after=8)
    with ProcessPoolExecutor(2) as pool:
        node.executor = pool
        killer.start()
        with pytest.raises(Exception, match="terminated abruptly"):  # BrokenProcessPool
            await square_flow(node).run_async(shared, run_id="broken", checkpointer=store)
        killer.join()
    first = len(store.items)
    assert 0 < first < ITEMS
    with ProcessPoolExecutor(2) as pool:
        node.executor = pool
        done = await square_flow(node).resume_async("broken", checkpointer=store)
    assert done.status == "done"
    check_exactly_once(done.shared["results"], store.items)
