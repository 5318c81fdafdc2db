"""Durable runs: checkpoints in embedded SQLite, resume after a crash, pause for a human and resume.

``import rillflow.durable`` needs only the standard library. Usage::

    from rillflow.durable import SQLiteCheckpointer

    cp = SQLiteCheckpointer("runs.db")
    outcome = flow.run(shared, run_id="order-42", checkpointer=cp)    # Done or Paused
    outcome = flow.resume("order-42", answer="yes", checkpointer=cp)  # after a pause or a crash
    history(cp, "order-42"); state_at(cp, "order-42", 3)                 # time travel
    fork(flow, "order-42", 3, updates={"x": 1}, checkpointer=cp)      # a new run from step 3

See docs/durable.md.
"""

from .checkpointer import Checkpointer, RunInfo, RunProgress, RunRecord, RunStatus, StoredRun
from .errors import (
    CheckpointMismatchError,
    CorruptCheckpointError,
    DurableError,
    RunBusyError,
    RunExistsError,
    RunNotFoundError,
    SerializationError,
)
from .fork import fork, fork_async, start_fork
from .history import Step, history, state_at
from .memory import MemoryCheckpointer
from .postgres import PostgresCheckpointer
from .recorder import DurableHooks
from .results import Done, Paused
from .saver import Durability
from .serialize import JSONSerializer, PickleSerializer, Serializer
from .sqlite import SQLiteCheckpointer

__all__ = [
    "CheckpointMismatchError",
    "Checkpointer",
    "CorruptCheckpointError",
    "Done",
    "Durability",
    "DurableError",
    "DurableHooks",
    "JSONSerializer",
    "MemoryCheckpointer",
    "Paused",
    "PickleSerializer",
    "PostgresCheckpointer",
    "RunBusyError",
    "RunExistsError",
    "RunInfo",
    "RunNotFoundError",
    "RunProgress",
    "RunRecord",
    "RunStatus",
    "SQLiteCheckpointer",
    "SerializationError",
    "Serializer",
    "Step",
    "StoredRun",
    "fork",
    "fork_async",
    "history",
    "start_fork",
    "state_at",
]
