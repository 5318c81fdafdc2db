"""A run's lease: only the process holding it runs the run, so two resumes never mix their saves.

The lease is taken when a run starts or resumes and renewed by a daemon thread every third of its time
to live, so a live run keeps it however long a node takes, and no step pays for it. It is dropped when
the run ends, pauses or fails. A process that dies leaves its lease behind; another process may take
the run over once it expires (``Checkpointer(lease_ttl=...)``, 30 s by default).
"""

from __future__ import annotations

import os
import socket
import threading
import uuid

from .checkpointer import Checkpointer
from .errors import RunBusyError, RunNotFoundError


def new_owner() -> str:
    """Unique per process and run, and readable in an error: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """Holds ``run_id``'s lease for this run until :meth:`release`; ``lost`` says if another took it."""

    def __init__(self, checkpointer: Checkpointer, run_id: str) -> None:
        self.checkpointer, self.run_id = checkpointer, run_id
        self.owner, self.ttl = new_owner(), checkpointer.lease_ttl
        self.lost: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def claim(self) -> None:
        """Take the lease (RunBusyError if another holds it) and keep renewing it from a thread."""
        self.checkpointer.claim(self.run_id, self.owner, self.ttl)
        self._thread = threading.Thread(target=self._renew, name="rillflow-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self.checkpointer.claim(self.run_id, self.owner, self.ttl)
            except (RunBusyError, RunNotFoundError) as exc:  # taken over (we stalled past expiry), deleted
                self.lost = exc
                return
            except Exception:  # a busy or unreachable store: try again at the next tick
                continue

    def release(self) -> None:
        """Stop renewing and drop the lease (if still ours). Safe to call more than once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            self.checkpointer.release(self.run_id, self.owner)
