"""Helpers shared by the durable-run tests (a module of its own: test files import it by name)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rillflow.durable import Checkpointer
from rillflow.durable.checkpointer import Changes, Key, RunInfo, RunProgress, RunRecord, RunStatus, StoredRun


class Crash(BaseException):
    """Stands in for the process dying: raised after the checkpoint was frozen."""


class Freezable(Checkpointer):
    """Wraps a checkpointer; after ``crash()`` it ignores every write, as if the process had died."""

    def __init__(self, inner: Checkpointer) -> None:
        super().__init__()
        self.inner, self.frozen = inner, False

    def crash(self) -> None:
        self.frozen = True
        raise Crash

    def create(self, record: RunRecord, entries: Mapping[Key, bytes]) -> None:
        self.inner.create(record, entries)

    def write(self, run_id: str, changes: Changes, progress: RunProgress) -> None:
        if not self.frozen:
            self.inner.write(run_id, changes, progress)

    def load(self, run_id: str) -> StoredRun:
        return self.inner.load(run_id)

    def list_runs(self, status: RunStatus | Any = None) -> list[RunInfo]:
        return self.inner.list_runs(status)

    def delete(self, run_id: str) -> bool:
        return self.inner.delete(run_id)

    def claim(self, run_id: str, owner: str, ttl: float) -> None:
        if not self.frozen:
            self.inner.claim(run_id, owner, ttl)

    def release(self, run_id: str, owner: str) -> None:
        self.inner.release(run_id, owner)  # as if the dead process's lease had expired at once
