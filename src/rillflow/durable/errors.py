"""Errors of durable runs: each names what to do next (a key to fix, a run id, a flag to pass)."""

from __future__ import annotations

import time

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
    """Another owner holds the run's unexpired lease: it is being run elsewhere right now."""

    def __init__(self, run_id: str, owner: str, expires: float) -> None:
        super().__init__(
            f"run {run_id!r} is leased by {owner!r} for {max(expires - time.time(), 0):.1f} s more: "
            "it is running elsewhere; retry after the lease expires"
        )
        self.run_id, self.owner, self.expires = run_id, owner, expires
