"""The checkpointer interface: where durable runs are stored, listed and cleaned up.

A backend stores, per run, one :class:`RunRecord` (status, shape fingerprint, pause payload...) and a
set of entries: ``(namespace, key) -> bytes``. The run keeps them current by applying changes (new bytes,
or None to delete), so storage holds the run's current state, never a copy per step. Namespaces:
``"s"`` one top-level key of ``shared``, ``"p"`` the position of one (nested) flow, ``"n"`` the item
count of a batch, ``"f"`` the fingerprints of a batch's items, ``"i"`` one finished batch item, ``"a"``
an answer given to a paused node, kept until that node finishes. Besides, a run has a lease (owner and
expiry) so that only one process runs it at a time (:meth:`Checkpointer.claim`).
Backends: :class:`~rillflow.durable.SQLiteCheckpointer`
(the embedded default), :class:`~rillflow.durable.MemoryCheckpointer` (tests); a PostgreSQL one needs
only these methods.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self

RunStatus = Literal["running", "paused", "done", "failed"]
STATUSES: tuple[RunStatus, ...] = ("running", "paused", "done", "failed")
Key = tuple[str, str]
Changes = Mapping[Key, "bytes | None"]


@dataclass
class RunProgress:
    """The fields of a run's record that change while it runs."""

    status: RunStatus = "running"
    steps: int = 0
    updated: float = field(default_factory=time.time)
    error: str | None = None
    #: where the run paused (the node path) and the serialized payload it paused with
    pause_path: tuple[str, ...] | None = None
    payload: bytes | None = None
    #: the serialized result of a finished run (its last action)
    result: bytes | None = None


@dataclass
class RunInfo:
    """One run as listed: its id, status, flow, steps taken and times (seconds since the epoch)."""

    run_id: str
    status: RunStatus
    flow: str
    steps: int
    created: float
    updated: float
    error: str | None = None
    pause_path: tuple[str, ...] | None = None


@dataclass
class RunRecord:
    """Everything stored about a run besides its entries."""

    run_id: str
    flow: str
    fingerprint: str
    shape: str  # the flow's shape as JSON, to say what differs when the fingerprint does not match
    serializer: str
    created: float
    progress: RunProgress
    params: bytes | None = None

    def info(self) -> RunInfo:
        p = self.progress
        return RunInfo(
            self.run_id, p.status, self.flow, p.steps, self.created, p.updated, p.error, p.pause_path
        )


@dataclass
class StoredRun:
    """A run as loaded for resuming."""

    record: RunRecord
    entries: dict[Key, bytes]


#: How long a run's lease lasts unless renewed (seconds); a running run renews it every third of that.
LEASE_TTL = 30.0


class Checkpointer(ABC):
    """Stores durable runs. ``keep_runs``/``max_age`` (seconds) bound finished runs (see :meth:`prune`);
    ``keep_steps`` bounds the step history kept per run (see :mod:`rillflow.durable.history`).

    ``lease_ttl`` (seconds): a process running a run holds its lease for that long and renews it while it
    runs; a lease left by a dead process can be taken over once it expires.
    """

    lease_ttl: float = LEASE_TTL
    #: whether runs record their step history (entries of namespace "h" in ``write``; ``load_history``)
    keeps_history = False
    #: Whether a write waits on I/O long enough to matter (a server, an fsync): async runs then write from
    #: a thread, so the event loop goes on meanwhile. False for in-memory and SQLite ``NORMAL`` writes.
    writes_wait = True

    def __init__(
        self,
        *,
        keep_runs: int | None = None,
        max_age: float | None = None,
        keep_steps: int | None = None,
        lease_ttl: float = LEASE_TTL,
    ) -> None:
        if keep_runs is not None and keep_runs < 0:
            raise ValueError(f"keep_runs must be >= 0, got {keep_runs!r}")
        if max_age is not None and max_age < 0:
            raise ValueError(f"max_age must be >= 0 seconds, got {max_age!r}")
        if not lease_ttl > 0:
            raise ValueError(f"lease_ttl must be > 0 seconds, got {lease_ttl!r}")
        if keep_steps is not None and keep_steps < 1:
            raise ValueError(f"keep_steps must be >= 1, got {keep_steps!r}")
        self.keep_runs, self.max_age, self.lease_ttl = keep_runs, max_age, lease_ttl
        self.keep_steps = keep_steps

    # --- what a backend implements --------------------------------------------------------------
    @abstractmethod
    def create(self, record: RunRecord, entries: Mapping[Key, bytes]) -> None:
        """Store a new run; :class:`~rillflow.durable.RunExistsError` if the id is taken."""

    @abstractmethod
    def write(self, run_id: str, changes: Changes, progress: RunProgress) -> None:
        """Apply ``changes`` and ``progress`` to a stored run, atomically."""

    @abstractmethod
    def load(self, run_id: str) -> StoredRun:
        """The stored run; :class:`~rillflow.durable.RunNotFoundError` if there is none."""

    @abstractmethod
    def list_runs(self, status: RunStatus | Iterable[RunStatus] | None = None) -> list[RunInfo]:
        """Stored runs (optionally only those with the given status or statuses), newest first."""

    @abstractmethod
    def delete(self, run_id: str) -> bool:
        """Delete a run and its entries; False if there was none."""

    @abstractmethod
    def claim(self, run_id: str, owner: str, ttl: float) -> None:
        """Atomically take the run's lease for ``owner`` until now + ``ttl`` seconds, when it is free,
        expired or already held by ``owner`` (claiming again renews it).

        :class:`~rillflow.durable.RunBusyError` if another owner holds an unexpired lease;
        :class:`~rillflow.durable.RunNotFoundError` if there is no such run.
        """

    @abstractmethod
    def release(self, run_id: str, owner: str) -> None:
        """Drop the run's lease if ``owner`` holds it; otherwise do nothing."""

    def load_history(self, run_id: str) -> list[tuple[int, bytes]]:
        """The run's step history records as (step, bytes), oldest first ([] if none are kept)."""
        return []

    def close(self) -> None:
        """Release connections (the checkpointer can still be used: it reconnects)."""
        return None

    # --- shared behaviour -----------------------------------------------------------------------
    def get(self, run_id: str) -> RunInfo:
        """One run's listing entry; :class:`~rillflow.durable.RunNotFoundError` if there is none."""
        return self.load(run_id).record.info()

    def prune(
        self,
        *,
        keep: int | None = None,
        older_than: float | None = None,
        statuses: Iterable[RunStatus] = ("done", "failed"),
    ) -> int:
        """Delete runs with one of ``statuses``: all but the ``keep`` newest, and those not updated for
        ``older_than`` seconds. Paused and running runs are kept unless named in ``statuses``.
        Returns how many runs were deleted."""
        runs = self.list_runs(tuple(statuses))
        doomed: set[str] = set()
        if keep is not None:
            doomed.update(r.run_id for r in runs[keep:])
        if older_than is not None:
            cutoff = time.time() - older_than
            doomed.update(r.run_id for r in runs if r.updated < cutoff)
        return sum(self.delete(run_id) for run_id in doomed)

    def apply_retention(self) -> int:
        """Prune with this checkpointer's ``keep_runs``/``max_age``; called when a run finishes."""
        if self.keep_runs is None and self.max_age is None:
            return 0
        return self.prune(keep=self.keep_runs, older_than=self.max_age)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def normalize_statuses(status: RunStatus | Iterable[RunStatus] | None) -> tuple[RunStatus, ...]:
    """A status filter as a tuple of valid statuses (all of them for None)."""
    wanted: tuple[RunStatus, ...] = (
        STATUSES if status is None else (status,) if isinstance(status, str) else tuple(status)
    )
    bad = [s for s in wanted if s not in STATUSES]
    if bad:
        raise ValueError(f"unknown run status {bad[0]!r}; expected one of {STATUSES}")
    return wanted


def exists_message(run_id: str, status: str) -> str:
    """The error text for starting a run whose id is already stored."""
    return (
        f"a run with id {run_id!r} already exists (status {status}): continue it with "
        f"flow.resume({run_id!r}), or delete it with checkpointer.delete({run_id!r})"
    )
