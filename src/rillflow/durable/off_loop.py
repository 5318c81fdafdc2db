"""Checkpoint I/O of async runs, kept off the event loop when the checkpointer's writes wait on I/O.

A durable async run's own database work (creating the run, its last save, giving up its lease) goes to a
worker thread when ``checkpointer.writes_wait`` is true (PostgreSQL, SQLite with ``synchronous="FULL"``),
so other runs and tasks on the loop go on meanwhile. The run still waits for that work: a cancellation
that arrives meanwhile is raised once the thread has finished, so no write outlives the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def off_loop(
    checkpointer: Any, call: Callable[[], T], *, undo: Callable[[T], object] | None = None
) -> T:
    """``call()`` in a worker thread if ``checkpointer``'s writes wait, else here. Cancelled meanwhile,
    it waits for the thread, then (if ``call`` succeeded) runs ``undo`` on its result the same way, and
    raises the cancellation: what ``call`` opened (a run's lease) is not left behind."""
    if checkpointer is None or not getattr(checkpointer, "writes_wait", True):
        return call()
    work = asyncio.ensure_future(asyncio.to_thread(call))
    cancelled = False
    while not work.done():
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            cancelled = True  # the thread cannot be stopped: wait for it, then be cancelled
        except BaseException:
            pass  # the call's own error, raised below
    if cancelled:
        if work.exception() is None and undo is not None:
            result = work.result()
            try:
                await off_loop(checkpointer, lambda: undo(result))
            except asyncio.CancelledError:
                pass  # cancelled once more: raised just below all the same
        raise asyncio.CancelledError
    return work.result()
