"""Run leases: one process at a time runs a run; a lease left by a dead process is taken over after it
expires. Unit tests of claim/release on both checkpointers, and real processes for the rest."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from rillflow import Flow, Node
from rillflow.durable import (
    Checkpointer,
    DurableError,
    MemoryCheckpointer,
    RunBusyError,
    RunNotFoundError,
    SQLiteCheckpointer,
)
from rillflow.durable.checkpointer import RunProgress, RunRecord

WORKER = Path(__file__).with_name("lease_worker.py")


def stored_run(cp: Checkpointer, run_id: str = "r") -> None:
    cp.create(RunRecord(run_id, "F", "fp", "{}", "json", time.time(), RunProgress()), {})


def test_a_lease_is_exclusive_until_released(checkpointer: Checkpointer) -> None:
    stored_run(checkpointer)
    checkpointer.claim("r", "a", 60)
    checkpointer.claim("r", "a", 60)  # renewal by the holder
    with pytest.raises(RunBusyError) as busy:
        checkpointer.claim("r", "b", 60)
    assert (busy.value.run_id, busy.value.owner) == ("r", "a")
    assert busy.value.expires > time.time() + 30
    assert "'r' is being run by a" in str(busy.value) and "\n" not in str(busy.value)
    checkpointer.release("r", "b")  # not the holder: nothing happens
    with pytest.raises(RunBusyError):
        checkpointer.claim("r", "b", 60)
    checkpointer.release("r", "a")
    checkpointer.claim("r", "b", 60)


def test_an_expired_lease_is_taken_over(checkpointer: Checkpointer) -> None:
    stored_run(checkpointer)
    checkpointer.claim("r", "dead", 0)  # expires at once, as if its process died long ago
    checkpointer.claim("r", "next", 60)
    with pytest.raises(RunBusyError):
        checkpointer.claim("r", "dead", 60)


def test_claiming_an_unknown_run_is_not_found(checkpointer: Checkpointer) -> None:
    with pytest.raises(RunNotFoundError):
        checkpointer.claim("nope", "a", 60)
    checkpointer.release("nope", "a")  # nothing to do


class Peek(Node):
    """Checks, from inside the run, that another owner cannot take the run's lease."""

    checkpointer: Checkpointer
    seen: ClassVar[list[str]] = []

    def exec(self, prep_res: Any) -> None:
        time.sleep(2.5 * self.checkpointer.lease_ttl)  # longer than the lease: it must have been renewed
        try:
            self.checkpointer.claim("held", "intruder", 60)
        except RunBusyError as exc:
            Peek.seen.append(exc.owner)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_run_renews_its_lease_while_it_runs_and_drops_it_at_the_end(kind: str, tmp_path: Path) -> None:
    cp: Checkpointer = (
        MemoryCheckpointer(lease_ttl=1.0)
        if kind == "memory"
        else SQLiteCheckpointer(tmp_path / "r.db", lease_ttl=1.0)
    )
    Peek.checkpointer, Peek.seen = cp, []
    assert Flow(start=Peek()).run({}, run_id="held", checkpointer=cp).status == "done"
    assert len(Peek.seen) == 1 and Peek.seen[0].count(":") == 2  # host:pid:random
    cp.claim("held", "after", 60)  # released when the run ended


class Fails(Node):
    def exec(self, prep_res: Any) -> None:
        raise ValueError("boom")


class Asks(Node):
    def exec(self, prep_res: Any) -> Any:
        return self.interrupt("ok?")


def test_a_failed_or_paused_run_releases_its_lease(checkpointer: Checkpointer) -> None:
    with pytest.raises(ValueError):
        Flow(start=Fails()).run({}, run_id="f", checkpointer=checkpointer)
    checkpointer.claim("f", "other", 60)
    assert Flow(start=Asks()).run({}, run_id="p", checkpointer=checkpointer).status == "paused"
    checkpointer.claim("p", "other", 60)
    with pytest.raises(RunBusyError):  # the resume meets the lease held by "other"
        Flow(start=Asks()).resume("p", "yes", checkpointer=checkpointer)
    assert checkpointer.get("p").status == "paused"  # and changed nothing


def test_a_version_1_file_without_lease_columns_gets_them(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        """
        CREATE TABLE rillflow_schema (version INTEGER NOT NULL);
        INSERT INTO rillflow_schema VALUES (1);
        CREATE TABLE rillflow_runs (
            run_id TEXT PRIMARY KEY, status TEXT NOT NULL, flow TEXT NOT NULL, fingerprint TEXT NOT NULL,
            shape TEXT NOT NULL, serializer TEXT NOT NULL, params BLOB, created REAL NOT NULL,
            steps INTEGER NOT NULL, updated REAL NOT NULL, error TEXT, pause_path TEXT, payload BLOB,
            result BLOB
        );
        CREATE TABLE rillflow_entries (
            run_id TEXT NOT NULL, ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
            crc INTEGER NOT NULL, PRIMARY KEY (run_id, ns, key)
        );
        """
    )
    conn.close()
    with SQLiteCheckpointer(db) as cp:
        outcome = Flow(start=Node()).run({"a": 1}, run_id="r", checkpointer=cp)
        assert outcome.status == "done"
        stored_run(cp, "r2")
        cp.claim("r2", "a", 60)
        with pytest.raises(RunBusyError):
            cp.claim("r2", "b", 60)


def test_a_read_only_checkpointer_cannot_claim(tmp_path: Path) -> None:
    with SQLiteCheckpointer(tmp_path / "r.db") as cp:
        stored_run(cp)
    with SQLiteCheckpointer(tmp_path / "r.db", readonly=True) as ro:
        assert [r.run_id for r in ro.list_runs()] == ["r"]
        with pytest.raises(DurableError, match="readonly"):
            ro.claim("r", "a", 60)


# --- two real processes -----------------------------------------------------------------------------
def worker(db: Path, mode: str, gate: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(db), "run-1", mode, str(gate)], stdout=subprocess.PIPE, text=True
    )


def finish(child: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = child.communicate(timeout=60)
    return child.returncode, out.strip()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_second_process_cannot_resume_a_running_run_until_the_first_dies_and_its_lease_expires(
    tmp_path: Path,
) -> None:
    db, gate = tmp_path / "runs.db", tmp_path / "gate"
    first = worker(db, "start", gate)
    assert first.stdout is not None and first.stdout.readline().strip() == "working"

    code, out = finish(worker(db, "resume", gate))
    assert code == 3 and out.startswith("busy "), out  # the first process holds the run
    owner = out.split()[1]
    assert owner.split(":")[1] == str(first.pid)

    first.send_signal(signal.SIGKILL)
    first.wait()
    assert SQLiteCheckpointer(db).get("run-1").status == "running"  # the dead process left its lease
    gate.touch()
    while True:  # what a supervisor does: retry once the dead process's lease has expired
        code, out = finish(worker(db, "resume", gate))
        if code != 3:
            break
        assert out.split()[1] == owner  # only the dead process's lease can be in the way
        time.sleep(max(0.0, float(out.split()[2]) - time.time()) + 0.02)
    assert (code, out) == (0, "working\ndone 1")  # the node that was running ran again, once


def test_two_threads_racing_for_one_lease_get_it_once(tmp_path: Path) -> None:
    cp = SQLiteCheckpointer(tmp_path / "r.db")
    stored_run(cp)
    others = [SQLiteCheckpointer(tmp_path / "r.db") for _ in range(4)]
    won: list[str] = []
    start = threading.Barrier(len(others))

    def grab(i: int, store: SQLiteCheckpointer) -> None:
        start.wait()
        try:
            store.claim("r", f"owner-{i}", 60)
            won.append(f"owner-{i}")
        except RunBusyError:
            pass

    threads = [threading.Thread(target=grab, args=(i, s)) for i, s in enumerate(others)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    for store in [cp, *others]:
        store.close()


class Stall(Node):
    """Another process takes the lease while this node runs (as if this one had been suspended)."""

    checkpointer: MemoryCheckpointer

    def exec(self, prep_res: Any) -> None:
        self.checkpointer._leases["stolen"] = ("thief", time.time() + 60)
        time.sleep(10 * self.checkpointer.lease_ttl)  # the renewal thread finds the lease taken

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["stalled"] = True


def test_a_run_that_lost_its_lease_saves_nothing_more() -> None:
    cp = MemoryCheckpointer(lease_ttl=0.1)
    Stall.checkpointer = cp
    stall = Stall()
    stall >> Node()
    with pytest.raises(RunBusyError, match="being run by thief"):
        Flow(start=stall).run({"n": 1}, run_id="stolen", checkpointer=cp)
    stored = cp.load("stolen")
    assert stored.record.progress.status == "running" and stored.record.progress.steps == 0
    assert ("s", "stalled") not in stored.entries  # the new owner's state is not overwritten
    assert cp._leases["stolen"][0] == "thief"
