"""Run async code from sync APIs without ever nesting ``asyncio.run`` in a running loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import warnings
from collections.abc import Callable, Coroutine
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


def run_sync(make_coro: Callable[[], Coroutine[Any, Any, T]], sync_name: str, async_name: str) -> T:
    """Run ``make_coro()`` to completion from synchronous code.

    Outside an event loop this is ``asyncio.run``. Inside one it warns, naming ``async_name``, and runs
    the coroutine on a fresh loop in a helper thread: the caller's loop is blocked (hence the warning)
    but never deadlocked, and ``asyncio.run`` is never called inside a running loop.
    """
    if not in_running_loop():
        return asyncio.run(make_coro())
    warn_blocking_call(sync_name, async_name, stacklevel=4)
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
