"""Checkpointer contract (memory and SQLite alike), listing and retention, and damaged databases."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from rillflow import Flow, Node
from rillflow.durable import (
    Checkpointer,
    CorruptCheckpointError,
    MemoryCheckpointer,
    RunExistsError,
    RunNotFoundError,
    RunProgress,
    RunRecord,
    SQLiteCheckpointer,
)


def record(run_id: str, status: Any = "running", updated: float | None = None) -> RunRecord:
    now = time.time() if updated is None else updated
    return RunRecord(run_id, "F", "fp", "{}", "json", now, RunProgress(status, 0, now))


def test_create_write_load_round_trip(checkpointer: Checkpointer) -> None:
    checkpointer.create(record("a"), {("s", "x"): b"1", ("s", "y"): b"2"})
    checkpointer.write(
        "a", {("s", "x"): b"10", ("s", "y"): None, ("p", "[]"): b"p"}, RunProgress("paused", 3)
    )
    stored = checkpointer.load("a")
    assert stored.entries == {("s", "x"): b"10", ("p", "[]"): b"p"}
    assert stored.record.progress.status == "paused"
    assert stored.record.progress.steps == 3
    assert checkpointer.get("a").status == "paused"


def test_ids_are_unique_and_missing_runs_are_named(checkpointer: Checkpointer) -> None:
    checkpointer.create(record("a"), {})
    with pytest.raises(RunExistsError, match="resume"):
        checkpointer.create(record("a"), {})
    with pytest.raises(RunNotFoundError, match="nope"):
        checkpointer.load("nope")
    with pytest.raises(RunNotFoundError):
        checkpointer.write("nope", {}, RunProgress())


def test_list_by_status_newest_first_and_delete(checkpointer: Checkpointer) -> None:
    for i, status in enumerate(["running", "paused", "done", "failed", "done"]):
        checkpointer.create(record(f"r{i}", status, updated=1000.0 + i), {("s", "k"): b"1"})
    assert [r.run_id for r in checkpointer.list_runs()] == ["r4", "r3", "r2", "r1", "r0"]
    assert [r.run_id for r in checkpointer.list_runs("done")] == ["r4", "r2"]
    assert {r.status for r in checkpointer.list_runs(["paused", "running"])} == {"paused", "running"}
    with pytest.raises(ValueError, match="unknown run status"):
        checkpointer.list_runs("finished")  # type: ignore[arg-type]
    assert checkpointer.delete("r0") is True
    assert checkpointer.delete("r0") is False
    with pytest.raises(RunNotFoundError):
        checkpointer.load("r0")


def test_prune_keeps_the_newest_finished_runs_and_never_paused_ones(checkpointer: Checkpointer) -> None:
    now = time.time()
    for i in range(5):
        checkpointer.create(record(f"d{i}", "done", updated=now - 100 + i), {})
    checkpointer.create(record("old-paused", "paused", updated=now - 10_000), {})
    checkpointer.create(record("old-failed", "failed", updated=now - 10_000), {})
    assert checkpointer.prune(keep=2) == 4
    assert sorted(r.run_id for r in checkpointer.list_runs()) == ["d3", "d4", "old-paused"]
    assert checkpointer.prune(older_than=50) == 2
    assert [r.run_id for r in checkpointer.list_runs()] == ["old-paused"]


class Noop(Node):
    pass


@pytest.mark.parametrize("make", [MemoryCheckpointer, lambda: SQLiteCheckpointer(":memory:")])
def test_retention_limits_apply_when_runs_finish(make: Any) -> None:
    cp = make()
    cp.keep_runs = 3
    flow = Flow(start=Noop())
    for i in range(6):
        flow.run({"i": i}, run_id=f"r{i}", checkpointer=cp)
    assert sorted(r.run_id for r in cp.list_runs()) == ["r3", "r4", "r5"]


def test_sqlite_is_shared_between_connections_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SQLiteCheckpointer(path) as first:
        first.create(record("a"), {("s", "k"): b'"v"'})
    second = SQLiteCheckpointer(path)
    assert second.load("a").entries == {("s", "k"): b'"v"'}
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CorruptCheckpointError, match=r"junk\.db"):
        SQLiteCheckpointer(path).list_runs()


def test_a_damaged_header_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    cp = SQLiteCheckpointer(path)
    cp.create(record("a"), {("s", "k"): b"1"})
    cp.close()
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = bytearray(path.read_bytes())
    data[0:16] = b"garbage garbage!"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptCheckpointError):
        SQLiteCheckpointer(path).load("a")


def test_a_damaged_value_fails_its_checksum_instead_of_resuming(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    cp = SQLiteCheckpointer(path)
    cp.create(record("a"), {("s", "counter"): b"41"})
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE rillflow_entries SET value = ? WHERE key = 'counter'", (b"42",))
    with pytest.raises(CorruptCheckpointError, match=r"counter.*checksum"):
        cp.load("a")


def test_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    SQLiteCheckpointer(path).list_runs()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE rillflow_schema SET version = 99")
    with pytest.raises(CorruptCheckpointError, match="version 99"):
        SQLiteCheckpointer(path).list_runs()


def test_an_unrelated_database_gets_its_own_tables_and_keeps_its_own(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE users (name TEXT)")
    cp = SQLiteCheckpointer(path)
    cp.create(record("a"), {})
    assert [r.run_id for r in cp.list_runs()] == ["a"]
    cp.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_vacuum_gives_back_the_space_of_deleted_runs(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    cp = SQLiteCheckpointer(path)
    for i in range(20):
        cp.create(record(f"r{i}", "done"), {("s", "big"): bytes(50_000)})
    for i in range(20):
        cp.delete(f"r{i}")
    cp.vacuum()
    cp.close()
    assert path.stat().st_size < 100_000
