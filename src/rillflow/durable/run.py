"""The entry points the engine calls for ``flow.run(shared, run_id=..., checkpointer=...)`` and
``flow.resume(run_id, answer, checkpointer=...)`` (and their async twins).

Options (all keyword-only): ``hooks`` (the caller's run hooks, run alongside), ``run_id`` (made up if
omitted; not for resume), ``checkpointer`` (required), ``durability`` (``"sync"``, ``"async"`` or
``"exit"``; default ``"sync"``) and ``serializer`` (default :class:`~rillflow.durable.JSONSerializer`).
"""

from __future__ import annotations

from typing import Any, Unpack

from .._bridge import run_sync
from .._node import BaseNode
from .results import Done, Paused
from .session import ResumeOptions, RunOptions, Session


def run(node: BaseNode, shared: Any, **options: Unpack[RunOptions]) -> Done | Paused:
    """Run ``node`` (usually a flow) durably: saved after every node as ``durability`` says.

    Returns :class:`Done` or, when a node called ``self.interrupt(payload)``, :class:`Paused`. An
    exception is re-raised after the run is saved as failed (``resume`` retries from the failed node).
    An async flow is run on an event loop for you (as ``AsyncFlow.run`` does).
    """
    if _needs_loop(node):
        return run_sync(lambda: run_async(node, shared, **options), "rillflow.durable.run", "run_async")
    return _drive(node, Session.start(node, shared, **options))


async def run_async(node: BaseNode, shared: Any, **options: Unpack[RunOptions]) -> Done | Paused:
    """The async twin of :func:`run` (for ``await flow.run_async(shared, run_id=...)``)."""
    return await _drive_async(node, Session.start(node, shared, **options))


def resume(
    node: BaseNode, run_id: str, answer: Any = None, **options: Unpack[ResumeOptions]
) -> Done | Paused:
    """Continue the stored run ``run_id`` with ``node`` (a flow of the same shape), in any process.

    ``shared`` is restored; each (nested) flow continues at its next node and batches skip finished
    items. A paused run re-enters the node that paused, where ``self.interrupt(...)`` returns ``answer``.
    A finished run is not run again: its :class:`Done` is returned.
    """
    if _needs_loop(node):
        resuming = lambda: resume_async(node, run_id, answer, **options)  # noqa: E731
        return run_sync(resuming, "rillflow.durable.resume", "resume_async")
    session = Session.resume(node, run_id, answer, **options)
    return session if isinstance(session, Done) else _drive(node, session)


async def resume_async(
    node: BaseNode, run_id: str, answer: Any = None, **options: Unpack[ResumeOptions]
) -> Done | Paused:
    """The async twin of :func:`resume`."""
    session = Session.resume(node, run_id, answer, **options)
    return session if isinstance(session, Done) else await _drive_async(node, session)


def _drive(node: BaseNode, session: Session) -> Done | Paused:
    from .._options import run_hooked

    try:
        try:
            result = run_hooked(node, session.shared, session.hooks)
        except BaseException as exc:
            return session.stop(exc)
        return session.done(result)
    finally:
        session.lease.release()


async def _drive_async(node: BaseNode, session: Session) -> Done | Paused:
    from .._options import run_hooked_async

    try:
        try:
            result = await run_hooked_async(node, session.shared, session.hooks)
        except BaseException as exc:
            return session.stop(exc)
        return session.done(result)
    finally:
        session.lease.release()


def _needs_loop(node: BaseNode) -> bool:
    from .._async import AsyncNode

    return isinstance(node, AsyncNode) or node._needs_loop
