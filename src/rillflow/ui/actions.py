"""What the UI changes: answering a paused run and forking a run, each run in a background thread.

Both need the flow (``rillflow ui MODULE:FLOW``): a stored run holds its state, not its code. Runs started
here are one at a time (a lock), since they share the one flow object.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..core.node import BaseNode
from ..durable import Checkpointer, DurableError, start_fork


class ActionError(Exception):
    """An answer or fork the UI cannot do; the message says why (shown to the user)."""


class Actions:
    def __init__(self, checkpointer: Checkpointer, flow: BaseNode | None) -> None:
        self.checkpointer, self.flow = checkpointer, flow
        self.errors: dict[str, str] = {}  # run id -> how its last background run ended, if it raised
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _need_flow(self) -> BaseNode:
        if self.flow is None:
            raise ActionError("this needs the flow: start the UI with it, rillflow ui MODULE:FLOW --db ...")
        return self.flow

    def answer(self, run_id: str, answer: Any) -> None:
        """Resume the paused run ``run_id`` with ``answer``; returns once the run has left ``paused``."""
        flow = self._need_flow()
        if self.checkpointer.get(run_id).status != "paused":
            raise ActionError(f"run {run_id!r} is not waiting for an answer")
        self._background(run_id, lambda: flow.resume(run_id, answer, checkpointer=self.checkpointer))
        self._wait_until(run_id, lambda status: status != "paused")

    def fork(self, run_id: str, step: int, updates: Mapping[str, Any]) -> str:
        """Store a fork of ``run_id`` from ``step`` with ``updates`` and run it; returns the new run id."""
        flow = self._need_flow()
        try:
            new_id = start_fork(self.checkpointer, run_id, step, updates=updates, flow=flow)
        except (DurableError, TypeError) as exc:
            raise ActionError(str(exc)) from exc
        self._background(new_id, lambda: flow.resume(new_id, checkpointer=self.checkpointer))
        return new_id

    def _background(self, run_id: str, work: Callable[[], Any]) -> None:
        def target() -> None:
            with self._lock:
                try:
                    work()
                except BaseException as exc:  # saved as failed by the run itself; shown on its page
                    self.errors[run_id] = f"{type(exc).__name__}: {exc}"

        thread = threading.Thread(target=target, name=f"rillflow-ui-run-{run_id}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _wait_until(self, run_id: str, done: Callable[[str], bool], timeout: float = 5.0) -> None:
        """Wait (briefly) for the background run to be visible in the database, so the page shows it live."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and run_id not in self.errors:
            if done(self.checkpointer.get(run_id).status):
                return
            time.sleep(0.02)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the runs started here (used when the server stops, and by tests)."""
        for thread in list(self._threads):
            thread.join(timeout)
