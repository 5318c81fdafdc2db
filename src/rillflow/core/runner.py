"""The one way into a run: options parsed once, the run id made once, and run and resume written once,
as coroutines; the sync faces drive the same coroutine (inline for sync flows, on a new loop for async).

The kernel names no feature. Features that take run options (``listeners=``, the durable options) are
looked up in :mod:`.extensions`, where the package registers them, and loaded when a run asks for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from .bridge import run_inline, run_sync
from .context import HOOKS, PATH, RESUME
from .extensions import DurableSession, load
from .graph import label
from .hooks import ResumeSource, RunHooks, combine

if TYPE_CHECKING:
    from .node import BaseNode

DURABLE_OPTIONS = frozenset({"run_id", "checkpointer", "durability", "serializer"})
KNOWN_OPTIONS = DURABLE_OPTIONS | {"hooks", "listeners"}


def new_run_id() -> str:
    """A fresh run id (32 random hex characters, as ``uuid4().hex`` but a microsecond cheaper): the only
    place run ids are made."""
    return os.urandom(16).hex()


@dataclass(slots=True)
class RunRequest:
    """A run's options, parsed once: the hooks it asked for and what goes to the durable feature."""

    hooks: list[RunHooks] = field(default_factory=list)
    durable: dict[str, Any] = field(default_factory=dict)
    run_id: str = ""


def parse_options(options: Mapping[str, Any], run_id: str | None = None) -> RunRequest:
    if not KNOWN_OPTIONS.issuperset(options):
        unknown = sorted(set(options) - KNOWN_OPTIONS)
        raise TypeError(f"unknown run option(s) {unknown}; known options: {sorted(KNOWN_OPTIONS)}")
    request = RunRequest()
    request.durable = {k: v for k, v in options.items() if k in DURABLE_OPTIONS and k != "run_id"}
    request.run_id = run_id or options.get("run_id") or new_run_id()
    given = combine(options.get("hooks"))
    if given is not None:
        request.hooks.append(given)
    listeners = options.get("listeners")
    if listeners:
        request.hooks.append(load("listeners")(listeners))
    return request


async def execute(
    node: BaseNode,
    shared: Any,
    options: Mapping[str, Any],
    *,
    sync: bool,
    resume: tuple[str, Any] | None = None,
) -> Any:
    """Run (or, with ``resume=(run_id, answer)``, continue) ``node`` with ``options``.

    ``sync=True`` runs a sync node's own sync code; the coroutine then never suspends (see ``run_inline``).
    """
    request = parse_options(options, resume[0] if resume else None)
    session: DurableSession | None = None
    source: ResumeSource | None = None
    if resume is not None or "run_id" in options or request.durable:
        durable = load("durable")
        # An async run must not block its loop on checkpoint I/O: it takes the session's async face.
        if resume is not None:
            if sync:
                session = durable.resume(node, request.run_id, resume[1], **request.durable)
            else:
                session = await durable.resume_async(node, request.run_id, resume[1], **request.durable)
        elif sync:
            session = durable.start(node, shared, run_id=request.run_id, **request.durable)
        else:
            session = await durable.start_async(node, shared, run_id=request.run_id, **request.durable)
        if session.outcome is not None:  # a finished run is not run again
            return session.outcome
        shared, source = session.shared, session.source
        request.hooks.insert(0, session.hooks)  # saved before other hooks see a step
    hooks = combine(request.hooks)
    try:
        try:
            result = await _run_hooked(node, shared, hooks, source, request.run_id, sync)
        except BaseException as exc:
            if session is None:
                raise
            # Either re-raises exc or returns the paused outcome.
            return session.stop(exc) if sync else await session.stop_async(exc)
        if session is None:
            return result
        return session.done(result) if sync else await session.done_async(result)
    finally:
        if session is not None:
            if sync:
                session.close()
            else:
                await session.close_async()


async def _run_hooked(
    node: BaseNode, shared: Any, hooks: RunHooks | None, source: ResumeSource | None, run_id: str, sync: bool
) -> Any:
    if hooks is None:
        return node._run_top(shared) if sync else await node._run_top_async(shared)
    path = (label(node),)
    tokens = HOOKS.set(hooks), RESUME.set(source), PATH.set(path)
    try:
        hooks.on_run_start(node=node, path=path, shared=shared, run_id=run_id)
        try:
            result = node._run_top(shared, hooks) if sync else await node._run_top_async(shared, hooks)
        except BaseException as exc:
            hooks.on_run_end(node=node, path=path, result=None, error=exc)
            raise
        hooks.on_run_end(node=node, path=path, result=result, error=None)
        return result
    finally:
        PATH.reset(tokens[2])
        RESUME.reset(tokens[1])
        HOOKS.reset(tokens[0])
        if not sync:
            await hooks.aclose()  # async listeners finish before the run returns: no task outlives it


def _drive(
    node: BaseNode,
    make: Callable[[bool], Coroutine[Any, Any, Any]],
    method: str,
    caller: FrameType | None,
) -> Any:
    """The sync face: a sync node runs inline; an async one on an event loop started for it."""
    if node._needs_loop:
        name = f"{type(node).__name__}.{method}"
        return run_sync(lambda: make(False), name, f"{method}_async", caller)
    return run_inline(make(True))


def run_node(node: BaseNode, shared: Any, options: Mapping[str, Any], caller: FrameType | None) -> Any:
    return _drive(node, lambda sync: execute(node, shared, options, sync=sync), "run", caller)


async def run_node_async(node: BaseNode, shared: Any, options: Mapping[str, Any]) -> Any:
    return await execute(node, shared, options, sync=False)


def resume_node(
    node: BaseNode, run_id: str, answer: Any, options: Mapping[str, Any], caller: FrameType | None
) -> Any:
    def make(sync: bool) -> Coroutine[Any, Any, Any]:
        return execute(node, None, options, sync=sync, resume=(run_id, answer))

    return _drive(node, make, "resume", caller)


async def resume_node_async(node: BaseNode, run_id: str, answer: Any, options: Mapping[str, Any]) -> Any:
    return await execute(node, None, options, sync=False, resume=(run_id, answer))
