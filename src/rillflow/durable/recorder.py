"""What a durable run records as it goes: positions, finished items and ``shared`` changes."""

from __future__ import annotations

import time
from typing import Any

from ..core.context import Path
from ..core.flow import Flow
from ..core.hooks import RunHooks
from ..core.node import BaseNode
from .checkpointer import Key, Progress, RunStatus
from .diff import SharedTracker, dump_value
from .errors import CheckpointMismatchError
from .saver import Saver
from .serialize import Serializer
from .state import ITEM, POSITION, SHARED, TOTAL, RunState, item_key, path_key, position_value


class DurableHooks(RunHooks):
    """Saves a run as it goes, through its :class:`~rillflow.durable.saver.Saver`."""

    def __init__(
        self,
        run_id: str,
        shared: Any,
        serializer: Serializer,
        tracker: SharedTracker,
        saver: Saver,
        *,
        state: RunState | None = None,
        steps: int = 0,
    ) -> None:
        self.run_id, self.shared, self.serializer = run_id, shared, serializer
        self.tracker, self.saver = tracker, saver
        self.state = state or RunState()
        self.steps = steps
        self._pending: dict[Key, bytes | None] = {}

    # --- recording ------------------------------------------------------------------------------
    def on_step(self, *, path: Path, next_key: str | None, steps: int, **_: Any) -> None:
        self.steps += 1
        if next_key is None:
            # The flow ended: the enclosing flow's next step (or the run's end) saves this together
            # with that step, so a crash in between re-runs only the flow's last node, not all of it.
            if self.state.positions.pop(path, None) is not None:
                self._pending[(POSITION, path_key(path))] = None
            return
        self.state.positions[path] = (next_key, steps)
        self._pending[(POSITION, path_key(path))] = position_value(next_key, steps)
        if self.saver.per_step:
            self._save(with_shared=True)

    def on_node_end(self, *, node: BaseNode, path: Path, error: BaseException | None, **_: Any) -> None:
        if error is None and (isinstance(node, Flow) or path in self.state.totals):
            for key in self.state.drop_below(path):  # its items and inner positions are done with
                self._pending[key] = None

    def on_items(self, *, path: Path, total: int, **_: Any) -> None:
        before = self.state.totals.get(path)
        if before is not None and before != total and self.state.items.get(path):
            raise CheckpointMismatchError(
                f"{' > '.join(path)} had {before} items when run {self.run_id!r} was saved and has {total} "
                "now: its prep must return the same items when the run is resumed"
            )
        self.state.totals[path] = total
        self._pending[(TOTAL, path_key(path))] = str(total).encode()

    def on_item_end(
        self, *, node: BaseNode, path: Path, index: int, result: Any, error: BaseException | None, **_: Any
    ) -> None:
        if error is not None:
            return
        is_flow = isinstance(node, Flow)
        if is_flow:
            data = b""
        else:
            what = f"the result of item {index} of {' > '.join(path)}"
            data = dump_value(self.serializer, result, what)
        self.state.items.setdefault(path, {})[index] = data
        self._pending[(ITEM, item_key(path, index))] = data
        if self.saver.per_step:
            self._save(with_shared=is_flow)  # a batch node's exec cannot change `shared`

    # --- saving ---------------------------------------------------------------------------------
    def _take_changes(self, with_shared: bool) -> dict[Key, bytes | None]:
        if with_shared:
            for key, value in self.tracker.changes(self.shared).items():
                self._pending[(SHARED, key)] = value
        changes, self._pending = self._pending, {}
        return changes

    def _save(self, with_shared: bool) -> None:
        changes = self._take_changes(with_shared)
        self.saver.save(changes, Progress("running", self.steps, time.time()))

    def finish(
        self,
        status: RunStatus,
        *,
        error: str | None = None,
        pause_path: Path | None = None,
        payload: bytes | None = None,
        result: bytes | None = None,
        with_state: bool = True,
    ) -> None:
        """The run's last save. ``with_state=False`` saves only the status (its state could not be
        serialized, so the last consistent checkpoint stays as it is)."""
        changes = self._take_changes(with_shared=True) if with_state else {}
        progress = Progress(status, self.steps, time.time(), error, pause_path, payload, result)
        self.saver.finish(changes, progress)
