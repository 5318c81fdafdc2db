"""One durable run from start (or resume) to its last save: set-up, and what happens when it stops.

The kernel's runner drives it (it is the ``durable`` feature registered in ``rillflow/__init__.py``):
``flow.run(shared, run_id=..., checkpointer=...)`` calls :meth:`Session.start`, ``flow.resume(...)``
:meth:`Session.resume`; the run's end calls :meth:`Session.done` or :meth:`Session.stop`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from ..core.graph import label
from ..core.hooks import ResumeSource
from ..core.node import BaseNode
from ..errors import Interrupt
from .checkpointer import Checkpointer, Key, RunProgress, RunRecord
from .diff import SharedTracker, dump_value
from .errors import DurableError, SerializationError
from .history import HISTORY, keeps_history, start_record
from .lease import Lease
from .off_loop import off_loop
from .recorder import DurableHooks
from .results import Done, Paused
from .resume_source import CheckpointResume
from .saver import Durability, check_durability, make_saver
from .serialize import JSONSerializer, Serializer, serializer_for
from .shape import check_same_shape, fingerprint, shape_of
from .state import ANSWER, SHARED, decode, path_key, split_entries


@dataclass
class Session:
    """A durable run being driven: the hooks that record it, and on a resume the source that steers it."""

    run_id: str
    shared: Any
    serializer: Serializer
    checkpointer: Checkpointer
    hooks: DurableHooks | None  # None only for a finished run's outcome (nothing is recorded)
    lease: Lease | None = None  # held from start (or resume) until close
    source: ResumeSource | None = None
    #: a finished run's outcome, returned by a resume without running anything
    outcome: Done | None = None

    @classmethod
    def start(
        cls,
        node: BaseNode,
        shared: Any,
        *,
        run_id: str,
        checkpointer: Checkpointer | None = None,
        durability: Durability = "sync",
        serializer: Serializer | None = None,
        on_loop: bool = False,
    ) -> Session:
        """Store a new run (its shape and the whole of ``shared``) and make the hooks that record it."""
        checkpointer = _required(checkpointer)
        serializer = serializer or JSONSerializer()
        shape = shape_of(node)
        tracker = SharedTracker(serializer)
        base = tracker.changes(shared)
        params = dump_value(serializer, node.params, f"the params of {label(node)}") if node.params else None
        record = RunRecord(
            run_id, label(node), fingerprint(shape), json.dumps(shape), serializer.name, time.time(),
            RunProgress(), params,
        )  # fmt: skip
        check_durability(durability)
        entries: dict[Key, bytes] = {(SHARED, k): v for k, v in base.items() if v is not None}
        if keeps_history(checkpointer):
            entries[(HISTORY, "0")] = start_record(entries)
        checkpointer.create(record, entries)
        lease = Lease(checkpointer, run_id)
        lease.claim()
        saver = make_saver(durability, checkpointer, run_id, on_loop=on_loop)
        durable = DurableHooks(run_id, shared, serializer, tracker, saver, lease=lease)
        return cls(run_id, shared, serializer, checkpointer, durable, lease)

    @classmethod
    def resume(
        cls,
        node: BaseNode,
        run_id: str,
        answer: Any,
        *,
        checkpointer: Checkpointer | None = None,
        durability: Durability = "sync",
        serializer: Serializer | None = None,
        on_loop: bool = False,
    ) -> Session:
        """Load a stored run, check it fits ``node``, restore ``shared``; a finished run gets its outcome."""
        checkpointer = _required(checkpointer)
        check_durability(durability)
        lease = Lease(checkpointer, run_id)
        lease.claim()  # before loading: what we load must not change under us
        try:
            session = cls._resumed(node, run_id, answer, lease, checkpointer, durability, serializer, on_loop)
        except BaseException:
            lease.release()
            raise
        if session.outcome is not None:
            lease.release()
        return session

    @classmethod
    def _resumed(
        cls,
        node: BaseNode,
        run_id: str,
        answer: Any,
        lease: Lease,
        checkpointer: Checkpointer,
        durability: Durability,
        serializer: Serializer | None,
        on_loop: bool,
    ) -> Session:
        stored = checkpointer.load(run_id)
        record, progress = stored.record, stored.record.progress
        serializer = serializer_for(record.serializer, serializer)
        check_same_shape(record.shape, record.fingerprint, node, run_id)
        saved, state = split_entries(stored.entries, run_id)
        shared = {k: decode(v, serializer.loads, f"shared[{k!r}]", run_id) for k, v in saved.items()}
        if progress.status == "done":
            if answer is not None:
                raise DurableError(f"run {run_id!r} has finished; there is no question to answer")
            result = (
                None
                if progress.result is None
                else decode(progress.result, serializer.loads, "result", run_id)
            )
            done = Done(run_id, result, shared)
            return cls(run_id, shared, serializer, checkpointer, None, outcome=done)
        if answer is not None and progress.status != "paused":
            raise DurableError(
                f"run {run_id!r} is not paused (status {progress.status}), so the answer would be ignored"
            )
        if record.params is not None:
            node.set_params(decode(record.params, serializer.loads, "the flow's params", run_id))
        changes: dict[Key, bytes | None] = {}
        if progress.status == "paused":
            # Stored with the status change and kept until the paused node finishes, so a crash before
            # then does not lose it: the next resume gives it to the node again.
            where = progress.pause_path or ()
            state.answers[where] = dump_value(serializer, answer, f"the answer for {' > '.join(where)}")
            changes[(ANSWER, path_key(where))] = state.answers[where]
        tracker = SharedTracker(serializer)
        tracker.restore(saved, shared)
        checkpointer.write(run_id, changes, RunProgress("running", progress.steps))
        saver = make_saver(durability, checkpointer, run_id, on_loop=on_loop)
        durable = DurableHooks(
            run_id, shared, serializer, tracker, saver, state=state, steps=progress.steps, lease=lease
        )
        source = CheckpointResume(run_id, serializer, state)
        return cls(run_id, shared, serializer, checkpointer, durable, lease, source)

    @property
    def _recorder(self) -> DurableHooks:
        assert self.hooks is not None, "a finished run's outcome records nothing"
        return self.hooks

    # --- the async face: the same steps, off the event loop when the checkpointer's writes wait -------
    @classmethod
    async def start_async(
        cls, node: BaseNode, shared: Any, *, checkpointer: Checkpointer | None = None, **options: Any
    ) -> Session:
        def start() -> Session:
            return cls.start(node, shared, checkpointer=checkpointer, on_loop=True, **options)

        return await off_loop(checkpointer, start, undo=_cancelled_before_it_ran)

    @classmethod
    async def resume_async(
        cls,
        node: BaseNode,
        run_id: str,
        answer: Any,
        *,
        checkpointer: Checkpointer | None = None,
        **options: Any,
    ) -> Session:
        def resume() -> Session:
            return cls.resume(node, run_id, answer, checkpointer=checkpointer, on_loop=True, **options)

        return await off_loop(checkpointer, resume, undo=_cancelled_before_it_ran)

    async def done_async(self, result: Any) -> Done:
        return await off_loop(self.checkpointer, lambda: self.done(result))

    async def stop_async(self, exc: BaseException) -> Paused:
        paused = await off_loop(self.checkpointer, lambda: self._record_stop(exc))
        if paused is None:
            raise exc
        return paused

    async def close_async(self) -> None:
        await off_loop(self.checkpointer, self.close)

    def close(self) -> None:
        """The run is over (done, paused, failed or cancelled): give up its lease."""
        if self.lease is not None:
            self.lease.release()

    def done(self, result: Any) -> Done:
        try:
            data = self.serializer.dumps(result)
        except Exception:  # an odd action value: the run is still done, it just cannot be returned again
            data = None
        self._finish_or_fail("done", result=data)
        self.checkpointer.apply_retention()
        return Done(self.run_id, result, self.shared, dict(self._recorder.extra_values))

    def stop(self, exc: BaseException) -> Paused:
        """Save a run that raised ``exc`` (the exception being handled): a pause returns
        :class:`Paused`; anything else is saved as failed (resumable from the node that failed) and
        re-raised."""
        paused = self._record_stop(exc)
        if paused is None:
            raise  # the caller's except block is handling exc: re-raise it with its own traceback
        return paused

    def _record_stop(self, exc: BaseException) -> Paused | None:
        """Save how the run stopped: the pause it made, or (None) its failure."""
        interrupt = _find_interrupt(exc)
        if interrupt is None:
            message = f"{type(exc).__name__}: {exc}"
            try:
                self._recorder.finish("failed", error=message)
            except SerializationError:
                self._recorder.finish("failed", error=message, with_state=False)
            exc.add_note(
                f"rillflow: run {self.run_id!r} was saved as failed; flow.resume({self.run_id!r}) "
                "continues it from the node that failed"
            )
            return None
        try:
            payload = dump_value(self.serializer, interrupt.payload, "the payload of interrupt()")
        except SerializationError as error:
            self._recorder.finish("failed", error=str(error), with_state=False)
            raise error from exc
        self._finish_or_fail("paused", pause_path=interrupt.path, payload=payload)
        extras = dict(self._recorder.extra_values)
        return Paused(self.run_id, interrupt.payload, interrupt.path, self.shared, extras)

    def _finish_or_fail(self, status: Any, **fields: Any) -> None:
        """Finish with ``status``; if ``shared`` cannot be saved now, record the failure and raise."""
        try:
            self._recorder.finish(status, **fields)
        except SerializationError as exc:
            self._recorder.finish("failed", error=str(exc), with_state=False)
            raise


def _cancelled_before_it_ran(session: Session) -> None:
    """A run cancelled while it was being opened: saved as failed (resumable) and its lease given up."""
    try:
        if session.hooks is not None:
            session._record_stop(asyncio.CancelledError())
    finally:
        session.close()


def _required(checkpointer: Checkpointer | None) -> Checkpointer:
    if checkpointer is None:
        raise ValueError(
            "a durable run needs checkpointer=..., for example SQLiteCheckpointer('runs.db') "
            "(from rillflow.durable)"
        )
    return checkpointer


def _find_interrupt(exc: BaseException) -> Interrupt | None:
    if isinstance(exc, Interrupt):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        group = exc.subgroup(Interrupt)
        while group is not None:
            first = group.exceptions[0]
            if isinstance(first, Interrupt):
                return first
            group = first if isinstance(first, BaseExceptionGroup) else None
    return None
