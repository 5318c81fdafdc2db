"""The sync/async bridge: run async code from sync APIs without nesting ``asyncio.run`` in a running loop,
and finish a coroutine that never suspends inline (how sync runs reuse the async implementation)."""

from __future__ import annotations

import asyncio
import contextvars
import dis
import threading
import warnings
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")


def in_running_loop() -> bool:
    """True when called from a thread that is running an asyncio event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def warn_blocking_call(sync_name: str, async_name: str, stacklevel: int = 3) -> None:
    """Warn (as WayFlow does) that a sync API blocks the running loop, naming the async twin."""
    warnings.warn(
        f"{sync_name}() was called inside a running event loop and blocks it until it finishes; "
        f"use the asynchronous method equivalent: {async_name}",
        RuntimeWarning,
        stacklevel=stacklevel,
    )


def run_sync(
    make_coro: Callable[[], Coroutine[Any, Any, T]],
    sync_name: str,
    async_name: str,
    caller: FrameType | None = None,
    stacklevel: int = 6,
) -> T:
    """Run ``make_coro()`` to completion from synchronous code.

    Outside an event loop this is ``asyncio.run``. Inside one it warns, naming ``async_name``, and runs
    the coroutine on a fresh loop in a helper thread: the caller's loop is blocked (hence the warning)
    but never deadlocked, and ``asyncio.run`` is never called inside a running loop. When ``caller``
    (the user's frame) awaits the call, nothing runs: a TypeError names ``async_name`` instead.
    """
    if not in_running_loop():
        return asyncio.run(make_coro())
    if is_awaited_by(caller):
        raise TypeError(
            f"{sync_name}() cannot be awaited: it runs to completion and returns the result. "
            f"In async code use the asynchronous method: await <flow>.{async_name}(...)"
        )
    warn_blocking_call(sync_name, async_name, stacklevel=stacklevel)
    ctx = contextvars.copy_context()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = ctx.run(asyncio.run, make_coro())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="rillflow-sync-bridge", daemon=True)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


def run_inline(coro: Coroutine[Any, Any, T]) -> T:
    """Finish a coroutine that never suspends, from sync code.

    Lets a sync path reuse the async implementation when every await in it is on sync work wrapped as a
    coroutine; a real suspension would be a bug, so it is reported, not hidden.
    """
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("internal error: a sync run awaited asynchronous work")


def is_awaited_by(frame: FrameType | None) -> bool:
    """True when the call being made from ``frame`` has its result awaited (``await f()``).

    Only used on the rare path of a sync API called inside a running loop, to fail before anything runs
    when the caller wrote ``await flow.run(shared)`` instead of ``await flow.run_async(shared)``.
    """
    if frame is None:
        return False
    for instruction in dis.get_instructions(frame.f_code):
        if instruction.offset > frame.f_lasti and instruction.opname not in ("CACHE", "PRECALL"):
            return instruction.opname == "GET_AWAITABLE"
    return False
