"""The embedded default: runs in one SQLite file, with the standard library's ``sqlite3``.

WAL journal: readers (listing runs, another process) never block the writer. ``synchronous="NORMAL"``
(the default) commits without an fsync per step: a killed process loses nothing committed, a power cut
or OS crash can lose the last commits (the database itself stays consistent). ``synchronous="FULL"``
fsyncs every commit, so even a power cut loses nothing committed, at the cost of a disk flush per step.
Every stored value carries a CRC32, so a damaged value is reported, never resumed from.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from .checkpointer import (
    LEASE_TTL,
    STATUSES,
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
from .history import SCHEMA as HISTORY_SCHEMA
from .history import split, sqlite_insert, sqlite_load, sqlite_trim

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS rillflow_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rillflow_runs (
    run_id TEXT PRIMARY KEY, status TEXT NOT NULL, flow TEXT NOT NULL, fingerprint TEXT NOT NULL,
    shape TEXT NOT NULL, serializer TEXT NOT NULL, params BLOB, created REAL NOT NULL,
    steps INTEGER NOT NULL, updated REAL NOT NULL, error TEXT, pause_path TEXT, payload BLOB, result BLOB,
    lease_owner TEXT, lease_expires REAL
);
CREATE INDEX IF NOT EXISTS rillflow_runs_status ON rillflow_runs (status, updated);
CREATE TABLE IF NOT EXISTS rillflow_entries (
    run_id TEXT NOT NULL, ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, crc INTEGER NOT NULL,
    PRIMARY KEY (run_id, ns, key)
);
"""
_UPSERT = (
    "INSERT INTO rillflow_entries (run_id, ns, key, value, crc) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (run_id, ns, key) DO UPDATE SET value = excluded.value, crc = excluded.crc"
)
_DELETE = "DELETE FROM rillflow_entries WHERE run_id = ? AND ns = ? AND key = ?"
_PROGRESS = (
    "UPDATE rillflow_runs SET status = ?, steps = ?, updated = ?, error = ?, pause_path = ?, payload = ?, "
    "result = ? WHERE run_id = ?"
)
_INFO_COLUMNS = "run_id, status, flow, steps, created, updated, error, pause_path"
_LEASE_COLUMNS = {"lease_owner": "TEXT", "lease_expires": "REAL"}  # added to version-1 files made before
_CLAIM = (
    "UPDATE rillflow_runs SET lease_owner = ?, lease_expires = ? WHERE run_id = ? "
    "AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires IS NULL OR lease_expires <= ?)"
)


class SQLiteCheckpointer(Checkpointer):
    """Stores runs in the SQLite file at ``path`` (``":memory:"`` works too).

    The file is created if missing, unless ``create=False`` (then a missing file is an error, so a typo
    in a path does not start an empty store). ``readonly=True`` opens it for reading only, for listing
    runs in a file you may not write (a file this process may not write is opened so anyway). One
    connection, shared by the threads of this process under a lock; other processes may open the same
    file (WAL mode; a writer waits up to ``timeout`` seconds).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        timeout: float = 5.0,
        keep_runs: int | None = None,
        max_age: float | None = None,
        lease_ttl: float = LEASE_TTL,
        create: bool = True,
        readonly: bool = False,
        history: bool = True,
        keep_steps: int | None = None,
    ) -> None:
        super().__init__(keep_runs=keep_runs, max_age=max_age, keep_steps=keep_steps, lease_ttl=lease_ttl)
        self.keeps_history = history
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f'synchronous must be "NORMAL" or "FULL", got {synchronous!r}')
        self.path = str(path)
        self.synchronous, self.timeout = synchronous, timeout
        # A WAL commit without fsync takes tens of µs, less than handing it to a thread (about 130 µs a
        # step, measured); with FULL each commit waits for the disk, so async runs write from a thread.
        self.writes_wait = synchronous == "FULL"
        self.create_file, self.readonly = create and not readonly, readonly
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    # --- connection ---------------------------------------------------------------------------------
    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; with ``write`` inside one transaction. SQLite errors are
        reported as rillflow errors naming the file."""
        with self._lock:
            try:
                conn = self._conn or self._connect()
                if not write:
                    yield conn
                    return
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                raise DurableError(f"checkpoint database {self.path}: {exc}") from exc
            except sqlite3.DatabaseError as exc:
                raise CorruptCheckpointError(
                    f"{self.path} is not a readable checkpoint database ({exc})"
                ) from exc

    def _connect(self) -> sqlite3.Connection:
        conn = self._open()
        try:
            if not self.readonly:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={self.synchronous}")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "rillflow_schema" not in tables:
                if self.readonly:
                    raise CorruptCheckpointError(
                        f"{self.path} is an SQLite database but holds no rillflow runs "
                        "(no rillflow_schema table): give the path of a checkpoint file"
                    )
                conn.executescript(
                    f"BEGIN; {_SCHEMA} INSERT INTO rillflow_schema VALUES ({SCHEMA_VERSION}); COMMIT;"
                )
            else:
                _check_schema(conn, self.path, tables)
                if not self.readonly:
                    _add_lease_columns(conn)
            if not self.readonly:
                conn.execute(HISTORY_SCHEMA)  # added without a version bump: older files simply gain it
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
        memory = self.path == ":memory:" or self.path.startswith("file:")
        if not memory:
            if os.path.isfile(self.path) and os.path.getsize(self.path) == 0:
                raise CorruptCheckpointError(
                    f"{self.path} is an empty file (0 bytes), not a checkpoint database: delete it to "
                    "start a new store there, or give the path of the right file"
                )
            if not self.create_file and not os.path.exists(self.path):
                raise DurableError(
                    f"no checkpoint database {self.path} (check the path; it is created only when a run "
                    "is started)"
                )
        if (
            not self.readonly
            and not memory
            and os.path.isfile(self.path)
            and not os.access(self.path, os.W_OK)
        ):
            self.readonly = True  # a file we may only read: list and load its runs; writes are refused
        if not self.readonly or memory:
            return self._sqlite(self.path)
        uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
        conn = self._sqlite(uri, uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # A WAL file needs its shared-memory file, which a read-only directory cannot hold: read the
            # file as it is on disk (commits still in someone's -wal file are not seen).
            conn.close()
            conn = self._sqlite(uri + "&immutable=1", uri=True)
        return conn

    def _sqlite(self, target: str, *, uri: bool = False) -> sqlite3.Connection:
        return sqlite3.connect(
            target, timeout=self.timeout, isolation_level=None, check_same_thread=False, uri=uri
        )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def vacuum(self) -> None:
        """Give the space of deleted runs back to the file system (SQLite reuses it otherwise)."""
        with self._db() as conn:
            conn.execute("VACUUM")

    # --- the interface ------------------------------------------------------------------------------
    def create(self, record: RunRecord, entries: Mapping[Key, bytes]) -> None:
        p = record.progress
        entries, records = split(entries)  # type: ignore[assignment]
        with self._db(write=True) as conn:
            row = conn.execute(
                "SELECT status FROM rillflow_runs WHERE run_id = ?", (record.run_id,)
            ).fetchone()
            if row is not None:
                raise RunExistsError(exists_message(record.run_id, row[0]))
            conn.execute(
                "INSERT INTO rillflow_runs (run_id, status, flow, fingerprint, shape, serializer, params, "
                "created, steps, updated, error, pause_path, payload, result) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.run_id, p.status, record.flow, record.fingerprint, record.shape,
                    record.serializer, record.params, record.created, p.steps, p.updated, p.error,
                    _path_text(p.pause_path), p.payload, p.result,
                ),
            )  # fmt: skip
            conn.executemany(
                _UPSERT, [(record.run_id, ns, key, v, zlib.crc32(v)) for (ns, key), v in entries.items()]
            )
            if records:
                sqlite_insert(conn, record.run_id, records)

    def write(self, run_id: str, changes: Changes, progress: RunProgress) -> None:
        p = progress
        changes, records = split(changes)
        puts = [(run_id, ns, key, v, zlib.crc32(v)) for (ns, key), v in changes.items() if v is not None]
        drops = [(run_id, ns, key) for (ns, key), v in changes.items() if v is None]
        with self._db(write=True) as conn:
            cur = conn.execute(
                _PROGRESS,
                (
                    p.status,
                    p.steps,
                    p.updated,
                    p.error,
                    _path_text(p.pause_path),
                    p.payload,
                    p.result,
                    run_id,
                ),
            )
            if cur.rowcount == 0:
                raise RunNotFoundError(f"run {run_id!r} is no longer stored in {self.path} (deleted?)")
            if puts:
                conn.executemany(_UPSERT, puts)
            if drops:
                conn.executemany(_DELETE, drops)
            if records:
                sqlite_insert(conn, run_id, records)
            if self.keep_steps is not None and p.status != "running":
                sqlite_trim(conn, run_id, self.keep_steps)

    def load(self, run_id: str) -> StoredRun:
        with self._db() as conn:
            row = conn.execute(
                "SELECT run_id, flow, fingerprint, shape, serializer, params, created, status, steps, "
                "updated, error, pause_path, payload, result FROM rillflow_runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                raise RunNotFoundError(f"no stored run with id {run_id!r} in {self.path}")
            rows = conn.execute(
                "SELECT ns, key, value, crc FROM rillflow_entries WHERE run_id = ?", (run_id,)
            ).fetchall()
        entries: dict[Key, bytes] = {}
        for ns, key, value, crc in rows:
            if not isinstance(value, bytes) or zlib.crc32(value) != crc:
                raise CorruptCheckpointError(
                    f"run {run_id!r} in {self.path}: stored entry {ns}:{key} fails its checksum (damaged)"
                )
            entries[(ns, key)] = value
        status = _status(row[7], self.path)
        progress = RunProgress(
            status, row[8], row[9], row[10], _path_tuple(row[11], self.path), row[12], row[13]
        )
        record = RunRecord(row[0], row[1], row[2], row[3], row[4], row[6], progress, row[5])
        return StoredRun(record, entries)

    def list_runs(self, status: RunStatus | Iterable[RunStatus] | None = None) -> list[RunInfo]:
        wanted = normalize_statuses(status)
        marks = ", ".join("?" * len(wanted))
        with self._db() as conn:
            rows = conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM rillflow_runs WHERE status IN ({marks}) ORDER BY updated DESC",
                wanted,
            ).fetchall()
        return [_info(row, self.path) for row in rows]

    def get(self, run_id: str) -> RunInfo:
        with self._db() as conn:
            row = conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM rillflow_runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        if row is None:
            raise RunNotFoundError(f"no stored run with id {run_id!r} in {self.path}")
        return _info(row, self.path)

    def delete(self, run_id: str) -> bool:
        with self._db(write=True) as conn:
            conn.execute("DELETE FROM rillflow_entries WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM rillflow_history WHERE run_id = ?", (run_id,))
            return conn.execute("DELETE FROM rillflow_runs WHERE run_id = ?", (run_id,)).rowcount > 0

    def load_history(self, run_id: str) -> list[tuple[int, bytes]]:
        with self._db() as conn:
            return sqlite_load(conn, run_id, str(self.path))

    def claim(self, run_id: str, owner: str, ttl: float) -> None:
        now = time.time()
        with self._db(write=True) as conn:
            if conn.execute(_CLAIM, (owner, now + ttl, run_id, owner, now)).rowcount:
                return
            row = conn.execute(
                "SELECT lease_owner, lease_expires FROM rillflow_runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        if row is None:
            raise RunNotFoundError(f"no stored run with id {run_id!r} in {self.path}")
        raise RunBusyError(run_id, str(row[0]), float(row[1]))

    def release(self, run_id: str, owner: str) -> None:
        with self._db(write=True) as conn:
            conn.execute(
                "UPDATE rillflow_runs SET lease_owner = NULL, lease_expires = NULL "
                "WHERE run_id = ? AND lease_owner = ?",
                (run_id, owner),
            )


def _add_lease_columns(conn: sqlite3.Connection) -> None:
    """Files made before leases existed get their two columns (still schema version 1)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(rillflow_runs)")}
    for name, kind in _LEASE_COLUMNS.items():
        if name not in have:
            conn.execute(f"ALTER TABLE rillflow_runs ADD COLUMN {name} {kind}")


def _check_schema(conn: sqlite3.Connection, path: str, tables: set[str]) -> None:
    row = conn.execute("SELECT version FROM rillflow_schema").fetchone()
    missing = {"rillflow_runs", "rillflow_entries"} - tables
    if row is None or missing:
        raise CorruptCheckpointError(
            f"{path}: incomplete rillflow checkpoint schema (missing {missing or 'version'})"
        )
    if row[0] != SCHEMA_VERSION:
        raise CorruptCheckpointError(
            f"{path} uses checkpoint schema version {row[0]}; this rillflow reads version {SCHEMA_VERSION}"
        )


def _path_text(path: tuple[str, ...] | None) -> str | None:
    return None if path is None else json.dumps(list(path))


def _path_tuple(text: str | None, db: str) -> tuple[str, ...] | None:
    if text is None:
        return None
    try:
        return tuple(json.loads(text))
    except ValueError as exc:
        raise CorruptCheckpointError(f"{db}: a stored pause path is damaged: {text!r}") from exc


def _status(value: Any, db: str) -> RunStatus:
    for status in STATUSES:
        if value == status:
            return status
    raise CorruptCheckpointError(f"{db}: a stored run has an unknown status {value!r}")


def _info(row: Any, db: str) -> RunInfo:
    return RunInfo(
        row[0], _status(row[1], db), row[2], row[3], row[4], row[5], row[6], _path_tuple(row[7], db)
    )
