"""What a durable run records as it goes: positions, finished items and ``shared`` changes.

A save holds only what finished phases produced. Only ``prep`` and ``post`` change ``shared``; a visit past
its prep (in its ``exec``, or a nested flow walking its nodes) is saved with its prep result, so a resume
continues it from there instead of running prep again. While any visit is inside a prep or post (an
``async`` one that awaits, in a parallel batch), ``shared`` holds half of its changes: a save that falls
then is deferred until no visit is, and a run that stops then keeps its last consistent save.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

from ..core.context import Path
from ..core.flow import Flow
from ..core.hooks import RunHooks
from ..core.node import BaseNode
from .checkpointer import Key, RunProgress, RunStatus
from .diff import SharedTracker, dump_value
from .errors import CheckpointMismatchError, SerializationError
from .history import StepRecorder, keeps_history
from .lease import Lease
from .saver import Saver
from .serialize import Serializer
from .state import (
    ANSWER,
    EXTRA,
    HASHES,
    ITEM,
    POSITION,
    PREPPED,
    SHARED,
    TOTAL,
    RunState,
    item_key,
    path_key,
    position_value,
)

PREP, EXEC, POST, UNSAVEABLE = "prep", "exec", "post", "unsaveable"


class Visit:
    """A node visit in flight: its phase, its prep result, and whether that is saved."""

    __slots__ = ("phase", "prep_res", "saved")

    def __init__(self, phase: str, prep_res: Any = None, saved: bool = False) -> None:
        self.phase, self.prep_res, self.saved = phase, prep_res, saved


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
        lease: Lease | None = None,
    ) -> None:
        self.run_id, self.shared, self.serializer = run_id, shared, serializer
        self.lease = lease
        self.tracker, self.saver = tracker, saver
        self.state = state or RunState()
        self.steps = steps
        self._pending: dict[Key, bytes | None] = {}
        self._visits: dict[Path, Visit] = {}
        self._busy = 0  # visits inside a prep or post, or past prep with a result that cannot be saved
        self._unsaved: set[Path] = set()  # visits past prep whose prep result is not saved yet
        self._tainted = False  # a visit stopped inside a prep or post: `shared` is not consistent
        self._deferred = False  # a save with `shared` is waiting for the busy visits
        # A save that failed: its changes are lost, so no later state is whole; nothing more is saved
        # (the run's end saves only its status).
        self._write_failed: BaseException | None = None
        self.extra_values: dict[str, Any] = {}  # what set_extra was given, for the run's result
        self.history = StepRecorder() if keeps_history(saver.checkpointer) else None
        if not saver.settles:  # its saves are done when they return: the run need not await anything
            self.settle = RunHooks.settle.__get__(self)  # type: ignore[method-assign]

    # --- extras: small named records a feature keeps with the run (the usage meter's totals) ---------
    def extra(self, name: str) -> bytes | None:
        """The record ``name`` as stored by an earlier attempt of this run (None if there is none)."""
        return self.state.extras.get(name)

    def set_extra(self, name: str, data: bytes, value: Any = None) -> None:
        """Keep ``data`` as the record ``name``, saved with the run's next save; ``value`` is shown on
        the run's :class:`~rillflow.durable.Done` / :class:`~rillflow.durable.Paused` (``extras``)."""
        self.state.extras[name] = data
        self._pending[(EXTRA, name)] = data
        self.extra_values[name] = value

    async def settle(self) -> None:
        await self.saver.settle()

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
            self._save(with_shared=True, kind="step")

    def on_retry(self, **_: Any) -> None:
        if self.history is not None:
            self.history.retries += 1

    def on_node_start(self, *, path: Path, **_: Any) -> None:
        self._visits[path] = Visit(PREP)
        self._busy += 1

    def on_prep_end(self, *, path: Path, prep_res: Any, resumed: bool = False, **_: Any) -> None:
        visit = self._visits.get(path)
        if visit is None:  # the run's top node has no node_start
            visit = self._visits[path] = Visit(EXEC)
        elif visit.phase == PREP:
            self._busy -= 1
        visit.phase, visit.prep_res, visit.saved = EXEC, prep_res, resumed
        if not resumed:
            self._unsaved.add(path)
        self._save_if_deferred()

    def on_post_start(self, *, path: Path, **_: Any) -> None:
        visit = self._visits.get(path)
        if visit is not None and visit.phase == EXEC:
            visit.phase = POST
            self._busy += 1
            self._unsaved.discard(path)

    def on_node_end(
        self,
        *,
        node: BaseNode,
        path: Path,
        action: Any,
        error: BaseException | None,
        duration: float,
        **_: Any,
    ) -> None:
        if self.history is not None:
            self.history.node_end(path, action, error, duration)
        visit = self._visits.get(path)
        if visit is not None and not (error is not None and visit.phase == EXEC):
            # (A visit stopped in its exec stays: its prep's changes are in `shared`, and a resume
            # continues it at its exec with the saved prep result.)
            del self._visits[path]
            if visit.phase != EXEC:
                self._busy -= 1
            self._unsaved.discard(path)
            if error is not None:
                self._tainted = True  # stopped inside prep or post: `shared` holds half of its changes
            elif visit.saved:
                self._pending[(PREPPED, path_key(path))] = None
        if error is None and self.state.answers:
            self._answer_used(path)
        if error is None and (isinstance(node, Flow) or path in self.state.totals):
            for key in self.state.drop_below(path):  # its items and inner positions are done with
                self._pending[key] = None
        # No deferred save here: the step's position comes with on_step (or the item's end) right after,
        # and a save between the two would hold the visit's changes without the position past it.

    def on_items(self, *, path: Path, total: int, items: Sequence[Any], **_: Any) -> None:
        self._check_items(path, items)
        before = self.state.totals.get(path)
        if before is not None and before != total and self.state.items.get(path):
            raise CheckpointMismatchError(
                f"{' > '.join(path)} had {before} items when run {self.run_id!r} was saved and has {total} "
                "now: its prep must return the same items when the run is resumed"
            )
        self.state.totals[path] = total
        self._pending[(TOTAL, path_key(path))] = str(total).encode()

    def _check_items(self, path: Path, items: Sequence[Any]) -> None:
        """Refuse to reuse finished items' results when the items themselves changed since the save."""
        now = [self._item_hash(item) for item in items]
        before = self.state.hashes.get(path)
        finished = self.state.items.get(path)
        if before and finished:
            changed = sorted(
                i for i in finished if i >= len(now) or (before[i] and now[i] and before[i] != now[i])
            )
            if changed:
                raise CheckpointMismatchError(
                    f"{' > '.join(path)}: item {changed[0]} is not the item that finished before run "
                    f"{self.run_id!r} was saved ({len(changed)} finished item(s) changed): its prep must "
                    "return the same items on resume; delete the run to start it over"
                )
        self.state.hashes[path] = now
        self._pending[(HASHES, path_key(path))] = json.dumps(now).encode()

    def _item_hash(self, item: Any) -> str:
        """A short fingerprint of the item's saved form; "" (not checked) for items that cannot be saved."""
        try:
            data = self.serializer.dumps(item)
        except Exception:
            return ""
        return hashlib.blake2b(data, digest_size=8).hexdigest()

    def _answer_used(self, path: Path) -> None:
        """The node (or item) at ``path`` finished: its stored answer is spent; dropped with the next save."""
        if self.state.answers.pop(path, None) is not None:
            self._pending[(ANSWER, path_key(path))] = None

    def on_item_end(
        self, *, node: BaseNode, path: Path, index: int, result: Any, error: BaseException | None, **_: Any
    ) -> None:
        if error is not None:
            return
        if self.state.answers:
            self._answer_used((*path, f"#{index}"))
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
    def _consistent(self) -> bool:
        """True when ``shared`` holds whole phases only, with every visit past prep saveable."""
        if self._busy or self._tainted:
            return False
        for path in list(self._unsaved):
            visit = self._visits[path]
            try:
                data = dump_value(self.serializer, visit.prep_res, f"the prep result of {' > '.join(path)}")
            except SerializationError:
                self._unsaved.discard(path)
                visit.phase = UNSAVEABLE  # busy until it ends: `shared` cannot be saved without it
                self._busy += 1
                return False
            self._pending[(PREPPED, path_key(path))] = data
            visit.saved = True
        self._unsaved.clear()
        return True

    def _take_changes(self, with_shared: bool) -> dict[Key, bytes | None]:
        if with_shared:
            for key, value in self.tracker.changes(self.shared).items():
                self._pending[(SHARED, key)] = value
        changes, self._pending = self._pending, {}
        return changes

    def _check_lease(self) -> None:
        if self.lease is not None and self.lease.lost is not None:
            raise self.lease.lost  # another process runs this run now: saving would mix two runs

    def _save(self, with_shared: bool, kind: str | None = None) -> None:
        self._check_lease()
        if self._write_failed is not None:
            raise self._write_failed  # the run fails (a batch that collects failures too)
        with_shared = with_shared or self._deferred
        if with_shared and not self._consistent():
            self._deferred = True  # saved with the first phase end that leaves `shared` whole
            return
        self._deferred = False
        changes = self._take_changes(with_shared)
        if self.history is not None:
            self.history.record(changes, self.steps, kind)
        try:
            self.saver.save(changes, RunProgress("running", self.steps, time.time()))
        except BaseException as exc:
            self._write_failed = exc
            raise

    def _save_if_deferred(self) -> None:
        if self._deferred and self.saver.per_step:
            self._save(with_shared=True, kind="step")

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
        serialized, so the last consistent checkpoint stays as it is); so does a run that stopped with
        a visit inside a prep or post (``shared`` holds half of its changes)."""
        self._check_lease()
        # A save that failed, here or (written from a thread) found now that every save has landed.
        failed_write = self._write_failed = self._write_failed or self.saver.wait_written()
        ended_anyway = failed_write is not None and status != "failed"
        if ended_anyway:  # a batch that collects failures ended: the run is not durable past that write
            assert failed_write is not None
            status, error = "failed", f"{type(failed_write).__name__}: {failed_write}"
        if status == "done":  # answers no node used (it was left by another branch): nothing needs them
            for path in list(self.state.answers):
                self._answer_used(path)
        elif with_state and (failed_write is not None or not self._consistent()):
            with_state = False  # the stored state stays the last whole one; a resume continues from it
        changes = self._take_changes(with_shared=True) if with_state else {}
        if status != "done":  # a pause or a failure is a step of its own; the end is the last step
            self.steps += 1
        if self.history is not None:
            self.history.record(changes, self.steps, status)
        progress = RunProgress(status, self.steps, time.time(), error, pause_path, payload, result)
        self.saver.finish(changes, progress)
        if ended_anyway:
            assert failed_write is not None
            raise failed_write
