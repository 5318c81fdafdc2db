"""PostgreSQL specifics (the shared contract runs on every backend through the ``checkpointer`` fixture):
leases across connections, damaged values, schema versions, connection errors, travelling checkpointers."""

from __future__ import annotations

import pickle
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from rillflow import Flow, Node
from rillflow.durable import (
    Checkpointer,
    CorruptCheckpointError,
    DurableError,
    PostgresCheckpointer,
    RunBusyError,
    RunNotFoundError,
    RunProgress,
    RunRecord,
)


def record(run_id: str) -> RunRecord:
    now = time.time()
    return RunRecord(run_id, "F", "fp", "{}", "json", now, RunProgress("running", 0, now))


@pytest.fixture
def fresh_db(postgres_url: str) -> Iterator[str]:
    """A database of its own, for tests that damage or alter the tables."""
    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_a_lease_is_held_by_one_owner_until_released_or_expired(checkpointer: Checkpointer) -> None:
    checkpointer.create(record("a"), {})
    checkpointer.claim("a", "host-1", ttl=60)
    checkpointer.claim("a", "host-1", ttl=60)  # the holder renews it
    with pytest.raises(RunBusyError) as busy:
        checkpointer.claim("a", "host-2", ttl=60)
    assert (busy.value.run_id, busy.value.owner) == ("a", "host-1")
    assert busy.value.expires > time.time() + 50
    checkpointer.release("a", "host-2")  # not the holder: nothing happens
    with pytest.raises(RunBusyError):
        checkpointer.claim("a", "host-2", ttl=60)
    checkpointer.release("a", "host-1")
    checkpointer.claim("a", "host-2", ttl=0)  # free now; with ttl 0 it expires at once
    checkpointer.claim("a", "host-3", ttl=60)
    with pytest.raises(RunNotFoundError):
        checkpointer.claim("missing", "host-1", ttl=60)


def test_one_of_many_machines_wins_a_race_for_the_lease(postgres_url: str) -> None:
    PostgresCheckpointer(postgres_url).create(record("race"), {})
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def contend(owner: str) -> None:
        cp = PostgresCheckpointer(postgres_url)  # a connection each, as on separate machines
        barrier.wait()
        try:
            cp.claim("race", owner, ttl=60)
            winners.append(owner)
        except RunBusyError:
            pass
        finally:
            cp.close()

    threads = [threading.Thread(target=contend, args=(f"m{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    PostgresCheckpointer(postgres_url).delete("race")


def test_a_damaged_value_fails_its_checksum(fresh_db: str) -> None:
    cp = PostgresCheckpointer(fresh_db)
    cp.create(record("a"), {("s", "x"): b"12345"})
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("UPDATE rillflow_entries SET value = %s", (b"12346",))
    with pytest.raises(CorruptCheckpointError, match="checksum"):
        cp.load("a")


def test_another_schema_version_is_refused(fresh_db: str) -> None:
    PostgresCheckpointer(fresh_db).list_runs()
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("UPDATE rillflow_schema SET version = 99")
    with pytest.raises(CorruptCheckpointError, match="version 99"):
        PostgresCheckpointer(fresh_db).list_runs()


def test_processes_starting_together_create_the_tables_once(fresh_db: str) -> None:
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            PostgresCheckpointer(fresh_db).list_runs()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM rillflow_schema").fetchone() == (1,)


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    cp = PostgresCheckpointer("postgresql://me:secret@127.0.0.1:1/db", connect_timeout=2)
    with pytest.raises(DurableError, match=r"127\.0\.0\.1") as error:
        cp.list_runs()
    assert "secret" not in str(error.value)


class Count(Node):
    def prep(self, shared: dict[str, Any]) -> int:
        return int(shared["n"])

    def post(self, shared: dict[str, Any], n: int, _: Any) -> str:
        shared["n"] = n + 1
        return "again" if n + 1 < 3 else "stop"


@pytest.mark.filterwarnings("ignore:Flow ends")
def test_a_checkpointer_travels_to_another_process_and_reconnects(postgres_url: str) -> None:
    cp = PostgresCheckpointer(postgres_url, keep_runs=1)
    count = Count()
    count - "again" >> count
    flow = Flow(start=count)
    flow.run({"n": 0}, run_id="travel-1", checkpointer=cp)
    copy = pickle.loads(pickle.dumps(cp))
    assert copy.get("travel-1").status == "done"
    flow.run({"n": 0}, run_id="travel-2", checkpointer=copy)
    assert [r.run_id for r in cp.list_runs()] == ["travel-2"]  # keep_runs travelled too
    cp.delete("travel-2")


def test_a_write_to_a_deleted_run_leaves_no_entries_behind(fresh_db: str) -> None:
    cp = PostgresCheckpointer(fresh_db)
    cp.create(record("a"), {})
    cp.delete("a")
    with pytest.raises(RunNotFoundError, match="no longer stored"):
        cp.write("a", {("s", "x"): b"1"}, RunProgress())
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM rillflow_entries").fetchone() == (0,)
    # the connection is still usable after the failed write:
    cp.create(record("b"), {})
    cp.write("b", {("s", "x"): b"1"}, RunProgress("done", 1))
    assert cp.load("b").entries == {("s", "x"): b"1"}
