"""A checkpointer in process memory: for tests, and for pausing and resuming within one process."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterable, Mapping

from .checkpointer import (
    LEASE_TTL,
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
from .errors import RunBusyError, RunExistsError, RunNotFoundError
from .history import folded, split


class MemoryCheckpointer(Checkpointer):
    """Keeps runs in a dict (thread-safe). Lost when the process exits."""

    writes_wait = False  # a dict update: a thread would cost more than the write

    def __init__(
        self,
        *,
        keep_runs: int | None = None,
        max_age: float | None = None,
        history: bool = True,
        keep_steps: int | None = None,
        lease_ttl: float = LEASE_TTL,
    ) -> None:
        super().__init__(keep_runs=keep_runs, max_age=max_age, keep_steps=keep_steps, lease_ttl=lease_ttl)
        self.keeps_history = history
        self._runs: dict[str, StoredRun] = {}
        self._history: dict[str, dict[int, bytes]] = {}
        self._leases: dict[str, tuple[str, float]] = {}  # run id -> (owner, expires)
        self._lock = threading.Lock()

    def create(self, record: RunRecord, entries: Mapping[Key, bytes]) -> None:
        with self._lock:
            if record.run_id in self._runs:
                raise RunExistsError(
                    exists_message(record.run_id, self._runs[record.run_id].record.progress.status)
                )
            stored, records = split(entries)
            self._runs[record.run_id] = StoredRun(copy.deepcopy(record), stored)  # type: ignore[arg-type]
            self._history[record.run_id] = dict(records)

    def write(self, run_id: str, changes: Changes, progress: RunProgress) -> None:
        with self._lock:
            run = self._found(run_id)
            changes, records = split(changes)
            for key, value in changes.items():
                if value is None:
                    run.entries.pop(key, None)
                else:
                    run.entries[key] = value
            run.record.progress = copy.copy(progress)
            steps = self._history.setdefault(run_id, {})
            steps.update(records)
            if self.keep_steps is not None and progress.status != "running":
                trimmed = folded(list(steps.items()), self.keep_steps)
                if trimmed is not None:
                    for step in trimmed[0]:
                        del steps[step]
                    steps[trimmed[1][0]] = trimmed[1][1]

    def load(self, run_id: str) -> StoredRun:
        with self._lock:
            run = self._found(run_id)
            return StoredRun(copy.deepcopy(run.record), dict(run.entries))

    def list_runs(self, status: RunStatus | Iterable[RunStatus] | None = None) -> list[RunInfo]:
        wanted = normalize_statuses(status)
        with self._lock:
            infos = [r.record.info() for r in self._runs.values() if r.record.progress.status in wanted]
        return sorted(infos, key=lambda r: r.updated, reverse=True)

    def delete(self, run_id: str) -> bool:
        with self._lock:
            self._leases.pop(run_id, None)
            self._history.pop(run_id, None)
            return self._runs.pop(run_id, None) is not None

    def load_history(self, run_id: str) -> list[tuple[int, bytes]]:
        with self._lock:
            return sorted(self._history.get(run_id, {}).items())

    def claim(self, run_id: str, owner: str, ttl: float) -> None:
        with self._lock:
            self._found(run_id)
            now = time.time()
            holder, expires = self._leases.get(run_id, (None, 0.0))
            if holder is not None and holder != owner and expires > now:
                raise RunBusyError(run_id, holder, expires)
            self._leases[run_id] = (owner, now + ttl)

    def release(self, run_id: str, owner: str) -> None:
        with self._lock:
            if self._leases.get(run_id, (None, 0.0))[0] == owner:
                del self._leases[run_id]

    def _found(self, run_id: str) -> StoredRun:
        run = self._runs.get(run_id)
        if run is None:
            raise RunNotFoundError(f"no stored run with id {run_id!r}")
        return run
