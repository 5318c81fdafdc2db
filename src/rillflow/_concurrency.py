"""Structured fan-out for parallel batch nodes and flows.

Every item runs inside one ``asyncio.TaskGroup``, so no item outlives the node that started it. By default
the first failure cancels its siblings and is re-raised as itself (not wrapped in a group), carrying a
note naming the item; with ``fail_fast=False`` every item runs and failures are returned in place.
A bound runs ``max_concurrency`` workers that take items in input order, rather than one parked task per
item, so 10,000 items bounded to 50 cost 50 tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from .errors import add_path_segment, describe_item

T = TypeVar("T")
RunOne = Callable[[T], Coroutine[Any, Any, Any]]
Start = Callable[[int, T], Coroutine[Any, Any, Any]]  # (index, item) -> the item's coroutine


async def run_items(
    items: Sequence[T],
    run_one: RunOne[T],
    *,
    max_concurrency: int | None,
    fail_fast: bool,
    show_item: bool = False,
) -> list[Any]:
    """Run ``run_one(item)`` for every item concurrently; results (or exceptions) in input order."""
    total = len(items)

    def name_item(exc: BaseException, index: int) -> None:
        add_path_segment(exc, describe_item(index, total, items[index] if show_item else None))

    start: Start[T] = (lambda _, item: run_one(item)) if fail_fast else _settling(run_one, name_item)
    if max_concurrency is not None and max_concurrency < total:
        return await _run_bounded(items, start, max_concurrency, name_item)

    tasks: list[asyncio.Task[Any]] = []
    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            # The item coroutines are the tasks themselves: no wrapper frame per item.
            tasks = [group.create_task(start(i, item)) for i, item in enumerate(items)]
    except BaseExceptionGroup as group_error:
        failure = _first_failure(group_error)
        index = next((i for i, t in enumerate(tasks) if _failed_with(t, failure)), None)
        if index is not None:
            name_item(failure, index)
    if failure is not None:
        raise failure  # outside the except block, so the group is not chained onto it
    return [task.result() for task in tasks]


async def _run_bounded(
    items: Sequence[T], start: Start[T], limit: int, name_item: Callable[[BaseException, int], None]
) -> list[Any]:
    results: list[Any] = [None] * len(items)
    queue = iter(enumerate(items))  # shared by the workers: each next() hands out one item, in order

    async def worker() -> None:
        for index, item in queue:
            try:
                results[index] = await start(index, item)
            except Exception as exc:
                name_item(exc, index)
                raise

    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(limit):
                group.create_task(worker())
    except BaseExceptionGroup as group_error:
        failure = _first_failure(group_error)
    if failure is not None:
        raise failure
    return results


def _settling(run_one: RunOne[T], name_item: Callable[[BaseException, int], None]) -> Start[T]:
    """Collect mode: an item's exception becomes its result instead of failing the batch."""

    async def settle(index: int, item: T) -> Any:
        try:
            return await run_one(item)
        except Exception as exc:
            name_item(exc, index)
            return exc

    return settle


def _failed_with(task: asyncio.Task[Any], exc: BaseException) -> bool:
    return task.done() and not task.cancelled() and task.exception() is exc


def _first_failure(group_error: BaseExceptionGroup[BaseException]) -> BaseException:
    """The item error that failed first (the group lists errors in the order they happened)."""
    first = group_error.exceptions[0]
    others = len(group_error.exceptions) - 1
    if others:
        first.add_note(f"rillflow: {others} more item(s) failed at the same time; the first is shown")
    return first
