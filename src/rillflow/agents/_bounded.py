"""Run one coroutine per index with at most ``limit`` at a time, inside one TaskGroup."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any


async def for_each_bounded(
    count: int, run: Callable[[int], Coroutine[Any, Any, None]], limit: int | None
) -> None:
    """Await ``run(i)`` for ``i in range(count)``; ``limit`` workers take indices in order (None: all).

    ``run`` should not raise: a failure cancels the others (structured concurrency) and propagates.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"max_concurrency must be >= 1 or None, got {limit!r}")
    indices = iter(range(count))  # shared by the workers: each next() hands out one index

    async def worker() -> None:
        for index in indices:
            await run(index)

    workers = count if limit is None else min(limit, count)
    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())
