"""Step history of a durable run: what each step changed, so the state at any past step can be rebuilt.

Each step of a run (a node finishing in any flow, a pause, a failure, the end) appends one record: the
node's path, action, duration, retries and error, and the entries it changed (``shared`` keys with their
new serialized bytes or a removal, flow positions, batch items). The record reuses the bytes the run
saves anyway, travels to the checkpointer with them as one more change (namespace ``"h"``, key: the
step number) and is stored in the same transaction, so history and state never disagree. Step 0 holds
the state the run started from; the state at step N is step 0 with the changes of the steps up to N
applied. The file grows with what changed, not with the size of ``shared``.

A record is bytes: one line of JSON (the step's fields and the changed keys with their lengths), a
newline, then the changed values one after the other.
"""

from __future__ import annotations

import functools
import json
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.context import Path
from .checkpointer import Checkpointer, Key, RunRecord
from .errors import CorruptCheckpointError, DurableError
from .serialize import Serializer, serializer_for
from .state import SHARED, decode, json_str, path_key

if TYPE_CHECKING:
    import sqlite3

HISTORY = "h"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rillflow_history (run_id TEXT NOT NULL, step INTEGER NOT NULL, "
    "record BLOB NOT NULL, crc INTEGER NOT NULL, PRIMARY KEY (run_id, step)) WITHOUT ROWID"
)  # WITHOUT ROWID: one b-tree, so a step's record dirties one more page per commit, not two
_INSERT = "INSERT OR REPLACE INTO rillflow_history (run_id, step, record, crc) VALUES (?, ?, ?, ?)"
_SELECT = "SELECT step, record, crc FROM rillflow_history WHERE run_id = ? ORDER BY step"


@dataclass
class Step:
    """One step of a run's history.

    ``kind``: ``"start"`` (step 0, the initial state), ``"step"`` (a node finished and the flow went
    on), ``"paused"``, ``"failed"``, ``"done"`` (the run's last step), ``"fork"`` (step 0 of a forked
    run, ``note`` says where from). ``changed``/``removed`` are the ``shared`` keys this step set (with
    their new values) and deleted; ``entries`` are all raw changed entries (positions and items too).
    """

    step: int
    kind: str
    path: Path
    action: str | None
    ended: float
    duration: float | None
    retries: int
    error: str | None
    entries: dict[Key, bytes | None]
    note: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, Any] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The step as JSON-ready data (values as stored: JSON-able for the default serializer)."""
        return {
            "step": self.step,
            "kind": self.kind,
            "path": list(self.path),
            "action": self.action,
            "ended": self.ended,
            "duration": self.duration,
            "retries": self.retries,
            "error": self.error,
            "note": self.note,
            "changed": self.changed,
            "removed": self.removed,
        }


# --- encoding -----------------------------------------------------------------------------------------
def encode(head: str, changes: Mapping[Key, bytes | None]) -> bytes:
    """The record: ``head`` (the step's fields as JSON object members) plus the changed keys, a newline,
    then the changed values.

    Built from cached JSON pieces rather than ``json.dumps``: this runs at every step of every run. JSON
    escapes newlines inside strings, so the first newline byte ends the header.
    """
    keys: list[str] = []
    values: list[bytes] = []
    for (ns, key), value in changes.items():
        if ns == HISTORY:
            continue
        if value is None:
            keys.append(f"{_key_text(ns, key)}-1]")
        else:
            keys.append(f"{_key_text(ns, key)}{len(value)}]")
            values.append(value)
    return f'{{{head},"k":[{",".join(keys)}]}}\n'.encode() + b"".join(values)


@functools.lru_cache(maxsize=4096)
def _key_text(ns: str, key: str) -> str:
    return f'["{ns}",{json_str(key)},'


def decode_step(step: int, data: bytes) -> Step:
    try:
        header, _, body = data.partition(b"\n")
        meta = json.loads(header)
        entries: dict[Key, bytes | None] = {}
        at = 0
        for ns, key, size in meta["k"]:
            if size < 0:
                entries[(ns, key)] = None
            else:
                entries[(ns, key)] = body[at : at + size]
                at += size
        return Step(
            step, meta["kind"], tuple(meta.get("path", ())), meta.get("action"), meta["t"] / 1000,
            None if meta.get("d") is None else meta["d"] / 1_000_000, int(meta.get("r", 0)), meta.get("e"),
            entries, meta.get("note", {}),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptCheckpointError(f"history step {step} is damaged ({exc})") from exc


def split(changes: Mapping[Key, bytes | None]) -> tuple[dict[Key, bytes | None], list[tuple[int, bytes]]]:
    """Changes -> (entry changes, history records as (step, bytes))."""
    entries: dict[Key, bytes | None] = {}
    records: list[tuple[int, bytes]] = []
    for (ns, key), value in changes.items():
        if ns != HISTORY:
            entries[(ns, key)] = value
        elif value is not None:
            records.append((int(key), value))
    return entries, records


def folded(records: list[tuple[int, bytes]], keep: int) -> tuple[list[int], tuple[int, bytes]] | None:
    """Retention of the last ``keep`` steps: (steps to delete, the new base record) or None.

    The newest step older than the kept ones becomes the base: it holds every entry as of that step,
    so the kept steps can still be rebuilt; older steps go.
    """
    if len(records) <= keep + 1:
        return None
    records = sorted(records)
    base_at = len(records) - keep - 1
    state: dict[Key, bytes] = {}
    for step, data in records[: base_at + 1]:
        apply(state, decode_step(step, data).entries)
    step, data = records[base_at]
    b = decode_step(step, data)
    head = _head(b.kind, b.path, b.action, b.ended, b.duration, b.retries, b.error, {**b.note, "base": True})
    return [s for s, _ in records[:base_at]], (step, encode(head, state))


def apply(state: dict[Key, bytes], entries: Mapping[Key, bytes | None]) -> None:
    for key, value in entries.items():
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value


def _head(
    kind: str,
    path: Path,
    action: Any,
    ended: float,
    duration: float | None,
    retries: int = 0,
    error: str | None = None,
    note: dict[str, Any] | None = None,
) -> str:
    """The record's fields as the members of a JSON object (see :func:`encode`). Times are whole
    milliseconds (``t``, since the epoch) and microseconds (``d``): cheaper to write than floats."""
    head = f"{_prefix(kind, path, action if action is None or isinstance(action, str) else repr(action))}"
    head += f',"t":{int(ended * 1000)}'
    if duration is not None:
        head += f',"d":{int(duration * 1_000_000)}'
    if retries:
        head += f',"r":{retries}'
    if error is not None:
        head += f',"e":{json.dumps(error)}'
    if note:
        head += f',"note":{json.dumps(note)}'
    return head


@functools.lru_cache(maxsize=4096)
def _prefix(kind: str, path: Path, action: str | None) -> str:
    """The fields a loop repeats step after step (cached)."""
    head = f'"kind":"{kind}","path":{path_key(path)}'
    return head if action is None else f'{head},"action":{json_str(action)}'


# --- recording (used by DurableHooks) -----------------------------------------------------------------
class StepRecorder:
    """Collects what a run did since its last record and turns it into the next record."""

    def __init__(self) -> None:
        self.unrecorded: dict[Key, bytes | None] = {}
        self.last: tuple[Path, Any, float] | None = None  # the last node that ended: path, action, duration
        self.failed: tuple[Path, str] | None = None  # the innermost node that raised
        self.retries = 0

    def node_end(self, path: Path, action: Any, error: BaseException | None, duration: float) -> None:
        self.last = (path, action, duration)
        if error is not None and self.failed is None:
            self.failed = (path, f"{type(error).__name__}: {error}")

    def record(self, changes: dict[Key, bytes | None], step: int, kind: str | None) -> None:
        """Add the record of ``step`` to ``changes`` (the ones about to be saved); ``kind=None``: no
        record now, the changes go into the next one."""
        if kind is None:
            self.unrecorded.update(changes)
            return
        if self.unrecorded:
            self.unrecorded.update(changes)
            recorded: Mapping[Key, bytes | None] = self.unrecorded
            self.unrecorded = {}
        else:
            recorded = changes
        path, action, duration = self.last or ((), None, None)
        error = None
        if kind in ("failed", "paused") and self.failed is not None:
            path, error = self.failed
            action, duration = None, None
            if kind == "paused":  # the Interrupt that paused the run is no error
                error = None
        head = _head(kind, path, action, time.time(), duration, self.retries, error)
        self.retries = 0
        changes[(HISTORY, str(step))] = encode(head, recorded)


def start_record(entries: Mapping[Key, bytes], step: int = 0, note: dict[str, Any] | None = None) -> bytes:
    """The first record of a run: the whole state it starts from (step 0, or the step a fork starts at)."""
    return encode(_head("start" if note is None else "fork", (), None, time.time(), None, note=note), entries)


def keeps_history(checkpointer: Checkpointer) -> bool:
    """Whether runs stored in ``checkpointer`` record their step history."""
    return bool(getattr(checkpointer, "keeps_history", False))


# --- storage in SQLite ----------------------------------------------------------------------------------
def sqlite_insert(conn: sqlite3.Connection, run_id: str, records: Iterable[tuple[int, bytes]]) -> None:
    for step, data in records:  # usually one: execute() costs less than executemany()
        conn.execute(_INSERT, (run_id, step, data, zlib.crc32(data)))


def sqlite_load(conn: sqlite3.Connection, run_id: str, where: str) -> list[tuple[int, bytes]]:
    out = []
    for step, data, crc in conn.execute(_SELECT, (run_id,)):
        if not isinstance(data, bytes) or zlib.crc32(data) != crc:
            raise CorruptCheckpointError(f"run {run_id!r} in {where}: history step {step} fails its checksum")
        out.append((int(step), data))
    return out


def sqlite_trim(conn: sqlite3.Connection, run_id: str, keep: int) -> None:
    trimmed = folded(sqlite_load(conn, run_id, "the database"), keep)
    if trimmed is not None:
        gone, base = trimmed
        conn.executemany(
            "DELETE FROM rillflow_history WHERE run_id = ? AND step = ?", [(run_id, s) for s in gone]
        )
        sqlite_insert(conn, run_id, [base])


# --- reading ------------------------------------------------------------------------------------------
def _steps(checkpointer: Checkpointer, run_id: str) -> tuple[RunRecord, list[Step]]:
    record = checkpointer.load(run_id).record
    loader = getattr(checkpointer, "load_history", None)
    rows: list[tuple[int, bytes]] = loader(run_id) if loader is not None else []
    if not rows:
        raise DurableError(
            f"run {run_id!r} has no step history (its checkpointer does not keep one, or the run was "
            "stored before history was recorded)"
        )
    return record, [decode_step(step, data) for step, data in rows]


def history(checkpointer: Checkpointer, run_id: str, *, serializer: Serializer | None = None) -> list[Step]:
    """The steps of run ``run_id``, oldest first, each with the ``shared`` keys it changed (decoded)."""
    record, steps = _steps(checkpointer, run_id)
    loads = serializer_for(record.serializer, serializer).loads
    for step in steps:
        for (ns, key), value in step.entries.items():
            if ns != SHARED:
                continue
            if value is None:
                step.removed.append(key)
            else:
                step.changed[key] = decode(value, loads, f"shared[{key!r}] at step {step.step}", run_id)
    return steps


def entries_at(
    checkpointer: Checkpointer, run_id: str, step: int
) -> tuple[RunRecord, Step, dict[Key, bytes]]:
    """The run's record, the step record, and every stored entry as it was right after ``step``."""
    record, steps = _steps(checkpointer, run_id)
    first = steps[0]
    if first.kind not in ("start", "fork") and not first.note.get("base"):
        raise DurableError(
            f"run {run_id!r} was started before its history was recorded, so its past states cannot be "
            "rebuilt (its steps are listed by history())"
        )
    if step < first.step or step > steps[-1].step:
        raise DurableError(
            f"run {run_id!r} has steps {first.step} to {steps[-1].step} in its history, not {step}"
            + (" (older steps were trimmed: keep_steps)" if first.note.get("base") else "")
        )
    state: dict[Key, bytes] = {}
    at = first
    for s in steps:
        if s.step > step:
            break
        apply(state, s.entries)
        at = s
    return record, at, state


def state_at(
    checkpointer: Checkpointer, run_id: str, step: int, *, serializer: Serializer | None = None
) -> dict[str, Any]:
    """``shared`` as it was right after ``step`` of run ``run_id`` (step 0: as the run started)."""
    record, _, state = entries_at(checkpointer, run_id, step)
    loads = serializer_for(record.serializer, serializer).loads
    return {
        key: decode(value, loads, f"shared[{key!r}] at step {step}", run_id)
        for (ns, key), value in state.items()
        if ns == SHARED
    }
