"""One durable run from start (or resume) to its last save: set-up, and what happens when it stops."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, TypedDict

from .._node import BaseNode, label
from ..errors import Interrupt
from ..hooks import MultiHooks, RunHooks
from .checkpointer import Checkpointer, Key, Progress, RunRecord
from .diff import SharedTracker, dump_value
from .errors import DurableError, SerializationError
from .history import HISTORY, keeps_history, start_record
from .hooks import DurableHooks
from .results import Done, Paused
from .saver import Durability, check_durability, make_saver
from .serialize import JSONSerializer, Serializer, serializer_for
from .shape import check_same_shape, describe, fingerprint
from .state import SHARED, decode, split_entries


class ResumeOptions(TypedDict, total=False):
    """The keyword options of ``resume`` (see :mod:`rillflow.durable.run`)."""

    hooks: RunHooks | None
    checkpointer: Checkpointer | None
    durability: Durability
    serializer: Serializer | None


class RunOptions(ResumeOptions, total=False):
    """The keyword options of ``run``: those of ``resume`` plus ``run_id``."""

    run_id: str | None


@dataclass
class Session:
    run_id: str
    shared: Any
    serializer: Serializer
    checkpointer: Checkpointer
    durable: DurableHooks
    hooks: RunHooks  # the durable hooks plus the caller's

    @classmethod
    def start(
        cls,
        node: BaseNode,
        shared: Any,
        *,
        hooks: RunHooks | None = None,
        run_id: str | None = None,
        checkpointer: Checkpointer | None = None,
        durability: Durability = "sync",
        serializer: Serializer | None = None,
    ) -> Session:
        """Store a new run (its shape and the whole of ``shared``) and make the hooks that record it."""
        checkpointer = _required(checkpointer)
        serializer = serializer or JSONSerializer()
        run_id = run_id or uuid.uuid4().hex
        shape = describe(node)
        tracker = SharedTracker(serializer)
        base = tracker.changes(shared)
        params = dump_value(serializer, node.params, f"the params of {label(node)}") if node.params else None
        record = RunRecord(
            run_id, label(node), fingerprint(shape), json.dumps(shape), serializer.name, time.time(),
            Progress(), params,
        )  # fmt: skip
        check_durability(durability)
        entries: dict[Key, bytes] = {(SHARED, k): v for k, v in base.items() if v is not None}
        if keeps_history(checkpointer):
            entries[(HISTORY, "0")] = start_record(entries)
        checkpointer.create(record, entries)
        saver = make_saver(durability, checkpointer, run_id)
        durable = DurableHooks(run_id, shared, serializer, tracker, saver)
        return cls(run_id, shared, serializer, checkpointer, durable, _with(durable, hooks))

    @classmethod
    def resume(
        cls,
        node: BaseNode,
        run_id: str,
        answer: Any,
        *,
        hooks: RunHooks | None = None,
        checkpointer: Checkpointer | None = None,
        durability: Durability = "sync",
        serializer: Serializer | None = None,
    ) -> Session | Done:
        """Load a stored run, check it fits ``node``, restore ``shared``; a finished run is just returned."""
        checkpointer = _required(checkpointer)
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
            return Done(run_id, result, shared)
        if answer is not None and progress.status != "paused":
            raise DurableError(
                f"run {run_id!r} is not paused (status {progress.status}), so the answer would be ignored"
            )
        if record.params is not None:
            node.set_params(decode(record.params, serializer.loads, "the flow's params", run_id))
        pause = (progress.pause_path or (), answer) if progress.status == "paused" else None
        check_durability(durability)
        tracker = SharedTracker(serializer)
        tracker.restore(saved, shared)
        checkpointer.write(run_id, {}, Progress("running", progress.steps))
        saver = make_saver(durability, checkpointer, run_id)
        durable = DurableHooks(
            run_id, shared, serializer, tracker, saver, state=state, steps=progress.steps, answer=pause
        )
        return cls(run_id, shared, serializer, checkpointer, durable, _with(durable, hooks))

    def done(self, result: Any) -> Done:
        try:
            data = self.serializer.dumps(result)
        except Exception:  # an odd action value: the run is still done, it just cannot be returned again
            data = None
        self._finish_or_fail("done", result=data)
        self.checkpointer.apply_retention()
        return Done(self.run_id, result, self.shared)

    def stop(self, exc: BaseException) -> Paused:
        """Save a run that raised ``exc`` (the exception being handled): a pause returns
        :class:`Paused`; anything else is saved as failed (resumable from the node that failed) and
        re-raised."""
        interrupt = _find_interrupt(exc)
        if interrupt is None:
            message = f"{type(exc).__name__}: {exc}"
            try:
                self.durable.finish("failed", error=message)
            except SerializationError:
                self.durable.finish("failed", error=message, with_state=False)
            exc.add_note(
                f"rillflow: run {self.run_id!r} was saved as failed; flow.resume({self.run_id!r}) "
                "continues it from the node that failed"
            )
            raise  # the caller's except block is handling exc: re-raise it with its own traceback
        try:
            payload = dump_value(self.serializer, interrupt.payload, "the payload of interrupt()")
        except SerializationError as error:
            self.durable.finish("failed", error=str(error), with_state=False)
            raise error from exc
        self._finish_or_fail("paused", pause_path=interrupt.path, payload=payload)
        return Paused(self.run_id, interrupt.payload, interrupt.path, self.shared)

    def _finish_or_fail(self, status: Any, **fields: Any) -> None:
        """Finish with ``status``; if ``shared`` cannot be saved now, record the failure and raise."""
        try:
            self.durable.finish(status, **fields)
        except SerializationError as exc:
            self.durable.finish("failed", error=str(exc), with_state=False)
            raise


def _required(checkpointer: Checkpointer | None) -> Checkpointer:
    if checkpointer is None:
        raise ValueError(
            "a durable run needs checkpointer=..., for example SQLiteCheckpointer('runs.db') "
            "(from rillflow.durable)"
        )
    return checkpointer


def _with(durable: DurableHooks, hooks: RunHooks | None) -> RunHooks:
    # The durable hooks come first, so their steering answers win and a step is saved before others see it.
    return durable if hooks is None else MultiHooks([durable, hooks])


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
