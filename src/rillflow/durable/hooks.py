"""The run hooks of a durable run: record positions, items and ``shared`` changes; steer a resume."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .._flow import Flow
from .._node import BaseNode
from ..hooks import Path, ResumePoint, RunHooks
from .checkpointer import Key, Progress, RunStatus
from .diff import SharedTracker, dump_value
from .errors import CheckpointMismatchError
from .history import StepRecorder, keeps_history
from .saver import Saver
from .serialize import Serializer
from .state import ITEM, POSITION, SHARED, TOTAL, RunState, decode, item_key, path_key, position_value


class DurableHooks(RunHooks):
    """Saves a run as it goes (through its :class:`~rillflow.durable.saver.Saver`) and answers the
    engine's steering questions from the checkpoint it resumes, each once."""

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
        answer: tuple[Path, Any] | None = None,
    ) -> None:
        self.run_id, self.shared, self.serializer = run_id, shared, serializer
        self.tracker, self.saver = tracker, saver
        self.state = state or RunState()
        self.steps = steps
        # What a resume still has to answer: positions and finished items as loaded, each taken once.
        self._resume = dict(self.state.positions)
        self._finished = {p: dict(items) for p, items in self.state.items.items()}
        self._answer = answer
        self._pending: dict[Key, bytes | None] = {}
        self.recorder = StepRecorder() if keeps_history(saver.checkpointer) else None

    # --- steering -------------------------------------------------------------------------------
    def resume_point(self, flow: Flow, path: Path) -> ResumePoint | None:
        pos = self._resume.pop(path, None) if self._resume else None
        return None if pos is None else ResumePoint(*pos)

    def finished_items(self, node: BaseNode, path: Path) -> Mapping[int, Any]:
        done = self._finished.pop(path, None) if self._finished else None
        if not done:
            return {}
        if isinstance(node, Flow):  # a batch flow's items leave their results in `shared`
            return dict.fromkeys(done)
        where = " > ".join(path)
        loads = self.serializer.loads
        return {
            i: decode(data, loads, f"the result of item {i} of {where}", self.run_id)
            for i, data in done.items()
        }

    def take_answer(self, path: Path) -> tuple[bool, Any]:
        if self._answer is not None and self._answer[0] == path:
            answer, self._answer = self._answer[1], None
            return True, answer
        return False, None

    # --- recording ------------------------------------------------------------------------------
    def on_step(self, flow: Flow, path: Path, next_key: str | None, steps: int, shared: Any) -> None:
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
            self._save(with_shared=True, kind="step")

    def on_node_end(
        self, node: BaseNode, path: Path, action: Any, error: BaseException | None, duration: float
    ) -> None:
        if self.recorder is not None:
            self.recorder.node_end(path, action, error, duration)
        if error is None and (isinstance(node, Flow) or path in self.state.totals):
            for key in self.state.drop_below(path):  # its items and inner positions are done with
                self._pending[key] = None

    def on_retry(self, node: BaseNode, path: Path, attempt: int, error: BaseException, delay: float) -> None:
        if self.recorder is not None:
            self.recorder.retries += 1

    def on_items(self, node: BaseNode, path: Path, total: int) -> None:
        before = self.state.totals.get(path)
        if before is not None and before != total and self.state.items.get(path):
            raise CheckpointMismatchError(
                f"{' > '.join(path)} had {before} items when run {self.run_id!r} was saved and has {total} "
                "now: its prep must return the same items when the run is resumed"
            )
        self.state.totals[path] = total
        self._pending[(TOTAL, path_key(path))] = str(total).encode()

    def on_item_end(
        self, node: BaseNode, path: Path, index: int, result: Any, error: BaseException | None
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

    def _save(self, with_shared: bool, kind: str | None = None) -> None:
        changes = self._take_changes(with_shared)
        if self.recorder is not None:
            self.recorder.record(changes, self.steps, kind)
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
        if status != "done":  # a pause or a failure is a step of its own; the end is the last step
            self.steps += 1
        if self.recorder is not None:
            self.recorder.record(changes, self.steps, status)
        progress = Progress(status, self.steps, time.time(), error, pause_path, payload, result)
        self.saver.finish(changes, progress)
