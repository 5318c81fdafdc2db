"""Runs in PostgreSQL (``pip install 'rillflow[postgres]'``, psycopg 3): one store for many machines.

The same tables and guarantees as :mod:`.sqlite`: one row per run plus its current entries, each change
applied in one transaction, a CRC32 beside every stored value so a damaged value is reported, never
resumed from. Leases (``claim``/``release``) are columns of the run's row, taken by one conditional
``UPDATE`` and timed by the database's clock, so machines whose clocks differ still agree on expiry.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

from .checkpointer import (
    Changes,
    Checkpointer,
    Key,
    RunInfo,
    RunProgress,
    RunRecord,
    RunStatus,
    StoredRun,
    exists_message,
    normalize_statuses,
)
from .errors import CorruptCheckpointError, DurableError, RunBusyError, RunExistsError, RunNotFoundError
from .sqlite import SCHEMA_VERSION, _path_text, _path_tuple, _status

_INSTALL = "PostgresCheckpointer needs psycopg 3: pip install 'rillflow[postgres]'"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS rillflow_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rillflow_runs (
    run_id TEXT PRIMARY KEY, status TEXT NOT NULL, flow TEXT NOT NULL, fingerprint TEXT NOT NULL,
    shape TEXT NOT NULL, serializer TEXT NOT NULL, params BYTEA, created DOUBLE PRECISION NOT NULL,
    steps INTEGER NOT NULL, updated DOUBLE PRECISION NOT NULL, error TEXT, pause_path TEXT, payload BYTEA,
    result BYTEA, lease_owner TEXT, lease_expires DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS rillflow_runs_status ON rillflow_runs (status, updated);
CREATE TABLE IF NOT EXISTS rillflow_entries (
    run_id TEXT NOT NULL, ns TEXT NOT NULL, key TEXT NOT NULL, value BYTEA NOT NULL, crc BIGINT NOT NULL,
    PRIMARY KEY (run_id, ns, key)
);
"""
_SCHEMA_LOCK = 0x72696C6C  # an advisory lock id, so that processes starting together create the tables once
_NOW = "extract(epoch from clock_timestamp())"
_UPSERT = (
    "INSERT INTO rillflow_entries (run_id, ns, key, value, crc) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (run_id, ns, key) DO UPDATE SET value = excluded.value, crc = excluded.crc"
)
# A step's save as one statement: the run's progress, then its entries only if the run is still stored.
_WRITE = """
WITH run AS (
    UPDATE rillflow_runs SET status = %s, steps = %s, updated = %s, error = %s, pause_path = %s,
        payload = %s, result = %s
    WHERE run_id = %s RETURNING run_id
), put AS (
    INSERT INTO rillflow_entries (run_id, ns, key, value, crc)
    SELECT run.run_id, v.ns, v.key, v.value, v.crc FROM run,
        unnest(%s::text[], %s::text[], %s::bytea[], %s::bigint[]) AS v (ns, key, value, crc)
    ON CONFLICT (run_id, ns, key) DO UPDATE SET value = excluded.value, crc = excluded.crc
), gone AS (
    DELETE FROM rillflow_entries e USING run, unnest(%s::text[], %s::text[]) AS d (ns, key)
    WHERE e.run_id = run.run_id AND e.ns = d.ns AND e.key = d.key
)
SELECT count(*) FROM run
"""
_INFO_COLUMNS = "run_id, status, flow, steps, created, updated, error, pause_path"


class PostgresCheckpointer(Checkpointer):
    """Stores runs in the PostgreSQL database at ``conninfo`` (``"postgresql://user@host:5432/db"``).

    The tables are created on first use. One connection per checkpointer, shared by this process's
    threads under a lock (it reconnects after :meth:`close`, and after being pickled to another process,
    so a checkpointer can travel to an executor's workers). Works from sync and async flows alike.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        connect_timeout: float = 10.0,
        keep_runs: int | None = None,
        max_age: float | None = None,
    ) -> None:
        super().__init__(keep_runs=keep_runs, max_age=max_age)
        self.conninfo, self.connect_timeout = conninfo, connect_timeout
        self.where = _without_password(conninfo)
        self._lock = threading.RLock()
        self._conn: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_conn"], state["_lock"] = None, None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # --- connection ---------------------------------------------------------------------------------
    @contextmanager
    def _db(self, transaction: bool = True) -> Iterator[Any]:
        """A cursor, under the lock, inside one transaction (without ``transaction``, each statement is
        its own: for a single statement that saves a round trip each for BEGIN and COMMIT). Database
        errors become rillflow errors."""
        try:
            import psycopg
        except ImportError as exc:
            raise ImportError(_INSTALL) from exc
        with self._lock:
            try:
                conn = self._conn if self._conn is not None and not self._conn.closed else self._connect()
                with conn.transaction() if transaction else nullcontext(), conn.cursor() as cur:
                    yield cur
            except psycopg.OperationalError as exc:
                self._drop_connection()
                raise DurableError(f"checkpoint database {self.where}: {exc}") from exc
            except psycopg.Error as exc:
                raise DurableError(f"checkpoint database {self.where}: {exc}") from exc

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=int(self.connect_timeout))
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                conn.execute(_SCHEMA)
                rows = conn.execute("SELECT version FROM rillflow_schema").fetchall()
                if not rows:
                    conn.execute("INSERT INTO rillflow_schema VALUES (%s)", (SCHEMA_VERSION,))
                elif rows[0][0] != SCHEMA_VERSION:
                    raise CorruptCheckpointError(
                        f"{self.where} uses checkpoint schema version {rows[0][0]}; "
                        f"this rillflow reads version {SCHEMA_VERSION}"
                    )
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    # --- the interface ------------------------------------------------------------------------------
    def create(self, record: RunRecord, entries: Mapping[Key, bytes]) -> None:
        p = record.progress
        with self._db() as cur:
            cur.execute(
                "INSERT INTO rillflow_runs (run_id, status, flow, fingerprint, shape, serializer, params, "
                "created, steps, updated, error, pause_path, payload, result) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (run_id) DO NOTHING",
                (
                    record.run_id, p.status, record.flow, record.fingerprint, record.shape,
                    record.serializer, record.params, record.created, p.steps, p.updated, p.error,
                    _path_text(p.pause_path), p.payload, p.result,
                ),
            )  # fmt: skip
            if cur.rowcount == 0:
                cur.execute("SELECT status FROM rillflow_runs WHERE run_id = %s", (record.run_id,))
                row = cur.fetchone()
                raise RunExistsError(exists_message(record.run_id, row[0] if row else "unknown"))
            if entries:
                cur.executemany(
                    _UPSERT, [(record.run_id, ns, key, v, zlib.crc32(v)) for (ns, key), v in entries.items()]
                )

    def write(self, run_id: str, changes: Changes, progress: RunProgress) -> None:
        p = progress
        puts = [(ns, key, v) for (ns, key), v in changes.items() if v is not None]
        drops = [(ns, key) for (ns, key), v in changes.items() if v is None]
        with self._db(transaction=False) as cur:  # one statement: one round trip, its own transaction
            cur.execute(
                _WRITE,
                (
                    p.status, p.steps, p.updated, p.error, _path_text(p.pause_path), p.payload, p.result,
                    run_id,
                    [ns for ns, _, _ in puts], [key for _, key, _ in puts], [v for _, _, v in puts],
                    [zlib.crc32(v) for _, _, v in puts],
                    [ns for ns, _ in drops], [key for _, key in drops],
                ),
            )  # fmt: skip
            row = cur.fetchone()
        if row is None or row[0] == 0:
            raise RunNotFoundError(f"run {run_id!r} is no longer stored in {self.where} (deleted?)")

    def load(self, run_id: str) -> StoredRun:
        with self._db() as cur:
            cur.execute(
                "SELECT run_id, flow, fingerprint, shape, serializer, params, created, status, steps, "
                "updated, error, pause_path, payload, result FROM rillflow_runs WHERE run_id = %s",
                (run_id,),
            )
            row = cur.fetchone()
            if row is None:
                raise RunNotFoundError(f"no stored run with id {run_id!r} in {self.where}")
            cur.execute("SELECT ns, key, value, crc FROM rillflow_entries WHERE run_id = %s", (run_id,))
            rows = cur.fetchall()
        entries: dict[Key, bytes] = {}
        for ns, key, value, crc in rows:
            value = bytes(value)
            if zlib.crc32(value) != crc:
                raise CorruptCheckpointError(
                    f"run {run_id!r} in {self.where}: stored entry {ns}:{key} fails its checksum (damaged)"
                )
            entries[(ns, key)] = value
        progress = RunProgress(
            _status(row[7], self.where), row[8], row[9], row[10], _path_tuple(row[11], self.where),
            _bytes(row[12]), _bytes(row[13]),
        )  # fmt: skip
        record = RunRecord(row[0], row[1], row[2], row[3], row[4], row[6], progress, _bytes(row[5]))
        return StoredRun(record, entries)

    def list_runs(self, status: RunStatus | Iterable[RunStatus] | None = None) -> list[RunInfo]:
        wanted = list(normalize_statuses(status))
        with self._db() as cur:
            cur.execute(
                f"SELECT {_INFO_COLUMNS} FROM rillflow_runs WHERE status = ANY(%s) ORDER BY updated DESC",
                (wanted,),
            )
            rows = cur.fetchall()
        return [_info(row, self.where) for row in rows]

    def get(self, run_id: str) -> RunInfo:
        with self._db() as cur:
            cur.execute(f"SELECT {_INFO_COLUMNS} FROM rillflow_runs WHERE run_id = %s", (run_id,))
            row = cur.fetchone()
        if row is None:
            raise RunNotFoundError(f"no stored run with id {run_id!r} in {self.where}")
        return _info(row, self.where)

    def delete(self, run_id: str) -> bool:
        with self._db() as cur:
            cur.execute("DELETE FROM rillflow_entries WHERE run_id = %s", (run_id,))
            cur.execute("DELETE FROM rillflow_runs WHERE run_id = %s", (run_id,))
            return bool(cur.rowcount > 0)

    def claim(self, run_id: str, owner: str, ttl: float) -> None:
        with self._db() as cur:
            cur.execute(
                f"UPDATE rillflow_runs SET lease_owner = %s, lease_expires = {_NOW} + %s WHERE run_id = %s "
                f"AND (lease_owner IS NULL OR lease_owner = %s OR lease_expires <= {_NOW}) RETURNING run_id",
                (owner, float(ttl), run_id, owner),
            )
            if cur.fetchone() is not None:
                return
            cur.execute("SELECT lease_owner, lease_expires FROM rillflow_runs WHERE run_id = %s", (run_id,))
            row = cur.fetchone()
        if row is None:
            raise RunNotFoundError(f"no stored run with id {run_id!r} in {self.where}")
        raise RunBusyError(run_id, row[0], row[1])

    def release(self, run_id: str, owner: str) -> None:
        with self._db() as cur:
            cur.execute(
                "UPDATE rillflow_runs SET lease_owner = NULL, lease_expires = NULL "
                "WHERE run_id = %s AND lease_owner = %s",
                (run_id, owner),
            )


def _without_password(conninfo: str) -> str:
    """The connection string as errors show it: no password."""
    text = re.sub(r"(://[^:/@]+):[^@]*@", r"\1@", conninfo)
    return re.sub(r"password\s*=\s*\S+", "password=***", text)


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _info(row: Any, where: str) -> RunInfo:
    return RunInfo(
        row[0], _status(row[1], where), row[2], row[3], row[4], row[5], row[6], _path_tuple(row[7], where)
    )
