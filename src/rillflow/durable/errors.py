"""Errors of durable runs: each names what to do next (a key to fix, a run id, a flag to pass)."""

from __future__ import annotations

import time
from typing import Any

from ..errors import FlowError


class DurableError(FlowError):
    """Base class for errors about checkpoints and durable runs."""


class SerializationError(DurableError, TypeError):
    """A value could not be saved (or restored); the message names the ``shared`` key or item."""


class CheckpointMismatchError(DurableError):
    """The stored run was made by a flow of another shape (or another serializer); resuming would be wrong."""


class CorruptCheckpointError(DurableError):
    """The checkpoint database cannot be read, or a stored value fails its checksum."""


class RunNotFoundError(DurableError, KeyError):
    """No run with this id is stored in the checkpointer."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class RunExistsError(DurableError):
    """A new run was started with the id of a stored run (resume it, or delete it first)."""


class RunBusyError(DurableError):
    """Another process (or another run in this one) holds the run's lease: it is running it now."""

    def __init__(self, run_id: str, owner: str, expires: float) -> None:
        self.run_id, self.owner, self.expires = run_id, owner, expires
        until = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(expires))
        super().__init__(
            f"run {run_id!r} is being run by {owner} (its lease runs until {until}, renewed while it "
            "runs): wait for it to finish, or resume after the lease expires if that process died"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.run_id, self.owner, self.expires))
