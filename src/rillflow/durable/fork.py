"""Fork: a new durable run that starts from a past step of another run, with edits to ``shared``.

The new run gets the old run's entries as they were right after that step (``shared``, where every
flow was, finished batch items) with ``updates`` applied, and continues at the node that came next at
that step, as a resume would. The old run is not touched. Like LangGraph's ``update_state`` on a
checkpoint from ``get_state_history``, then running from it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..core.node import BaseNode
from ..core.runner import new_run_id as make_run_id
from .checkpointer import Checkpointer, RunProgress, RunRecord
from .diff import dump_value
from .errors import DurableError
from .history import HISTORY, entries_at, start_record
from .results import Done, Paused
from .serialize import Serializer, serializer_for
from .shape import check_same_shape
from .state import SHARED


def start_fork(
    checkpointer: Checkpointer,
    run_id: str,
    step: int,
    *,
    updates: Mapping[str, Any] | None = None,
    new_run_id: str | None = None,
    serializer: Serializer | None = None,
    flow: BaseNode | None = None,
) -> str:
    """Store the forked run (status ``running``, not started yet) and return its id; resume it to run it.

    ``flow``, when given, is checked to have the shape the old run was saved with.
    """
    record, at, entries = entries_at(checkpointer, run_id, step)
    if at.kind == "done":
        raise DurableError(
            f"step {at.step} is where run {run_id!r} ended, so nothing would run after it: fork from an "
            "earlier step"
        )
    if flow is not None:
        check_same_shape(record.shape, record.fingerprint, flow, run_id)
    chosen = serializer_for(record.serializer, serializer)
    for key, value in (updates or {}).items():
        if type(key) is not str:
            raise TypeError(f"fork updates need str keys (keys of `shared`), got {key!r}")
        entries[(SHARED, key)] = dump_value(chosen, value, f"the update of shared[{key!r}]")
    new_run_id = new_run_id or make_run_id()
    note = {"forked_from": run_id, "step": at.step, "updates": sorted(updates or {})}
    stored: dict[tuple[str, str], bytes] = dict(entries)
    stored[(HISTORY, str(at.step))] = start_record(entries, note=note)
    new = RunRecord(
        new_run_id, record.flow, record.fingerprint, record.shape, record.serializer, time.time(),
        RunProgress("running", at.step), record.params,
    )  # fmt: skip
    checkpointer.create(new, stored)
    return new_run_id


def fork(
    flow: BaseNode,
    run_id: str,
    step: int,
    *,
    updates: Mapping[str, Any] | None = None,
    new_run_id: str | None = None,
    **options: Any,
) -> Done | Paused:
    """Start a new run from ``step`` of run ``run_id`` with ``updates`` to ``shared``, and run it.

    It continues at the node that came next at that step (a step that paused or failed runs that node
    again). Options are those of ``flow.resume`` (``checkpointer`` is required).
    Returns the new run's :class:`Done` or :class:`Paused` (its ``run_id`` is the new id).
    """
    new_id = _start(flow, run_id, step, updates, new_run_id, options)
    result: Done | Paused = flow.resume(new_id, **options)
    return result


async def fork_async(
    flow: BaseNode,
    run_id: str,
    step: int,
    *,
    updates: Mapping[str, Any] | None = None,
    new_run_id: str | None = None,
    **options: Any,
) -> Done | Paused:
    """The async twin of :func:`fork`."""
    new_id = _start(flow, run_id, step, updates, new_run_id, options)
    result: Done | Paused = await flow.resume_async(new_id, **options)
    return result


def _start(
    flow: BaseNode,
    run_id: str,
    step: int,
    updates: Mapping[str, Any] | None,
    new_run_id: str | None,
    options: dict[str, Any],
) -> str:
    checkpointer = options.get("checkpointer")
    if checkpointer is None:
        raise ValueError("fork needs checkpointer=..., the one that stores run " + repr(run_id))
    return start_fork(
        checkpointer, run_id, step, updates=updates, new_run_id=new_run_id,
        serializer=options.get("serializer"), flow=flow,
    )  # fmt: skip
