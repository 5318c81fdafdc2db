"""Structured fan-out for parallel batch nodes and flows.

Every item runs inside one ``asyncio.TaskGroup``, so no item outlives the node that started it. By default
the first failure cancels its siblings and is re-raised as itself (not wrapped in a group), carrying a
note naming the item; with ``fail_fast=False`` every item runs and failures are returned in place.
A bound runs ``max_concurrency`` workers that take items in input order, rather than one parked task per
item, so 10,000 items bounded to 50 cost 50 tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from ..errors import add_path_segment, describe_item

T = TypeVar("T")
RunOne = Callable[[T], Coroutine[Any, Any, Any]]
Start = Callable[[int, T], Coroutine[Any, Any, Any]]  # (index, item) -> the item's coroutine


class ItemTracker(Protocol):
    """Watches a fan-out item by item (a hooked batch): items it already has, and a wrapper per item."""

    @property
    def done(self) -> Mapping[int, Any]: ...

    def wrap(self, start: Start[Any]) -> Start[Any]: ...


_NOT_NAMED = (asyncio.CancelledError, KeyboardInterrupt, SystemExit)


def check_concurrency(max_concurrency: int | None) -> int | None:
    """``max_concurrency`` itself if it is a valid bound (an int >= 1, or None for no bound)."""
    if max_concurrency is not None and (not isinstance(max_concurrency, int) or max_concurrency < 1):
        raise ValueError(f"max_concurrency must be >= 1 or None (an int), got {max_concurrency!r}")
    return max_concurrency


async def run_items(
    items: Sequence[T],
    run_one: RunOne[T],
    *,
    max_concurrency: int | None,
    fail_fast: bool,
    tracker: ItemTracker | None = None,
    show_items: bool = False,
) -> list[Any]:
    """Run ``run_one(item)`` for every item concurrently; results (or exceptions) in input order.

    ``tracker`` (a hooked batch's) skips the items it has done and wraps each item it runs;
    ``show_items`` adds a short repr of the failing item to its error's path (batch flow params).
    """
    total = len(items)

    def name_item(exc: BaseException, index: int) -> None:
        add_path_segment(exc, describe_item(index, total, items[index] if show_items else None))

    start: Start[T] = (lambda _, item: run_one(item)) if fail_fast else _settling(run_one, name_item)
    if total <= 1:  # nothing runs beside it: no task group needed
        if not total:
            return []
        if tracker is not None:
            if 0 in tracker.done:  # a resume that already has it
                return [tracker.done[0]]
            start = tracker.wrap(start)
        try:
            return [await start(0, items[0])]
        except BaseException as exc:
            # As a task group would: any failure but a cancellation or exit is named (an Interrupt too,
            # with a tracker, where items used to run as tasks).
            if isinstance(exc, Exception) or (tracker is not None and not isinstance(exc, _NOT_NAMED)):
                name_item(exc, 0)
            raise
    bounded = max_concurrency is not None and max_concurrency < total
    if tracker is None and not bounded:
        # The common case: the item coroutines are the tasks themselves, no wrapper frame per item.
        tasks = await _in_task_group(enumerate(items), start, name_item)
        return [task.result() for task in tasks]

    results: list[Any] = [None] * total
    pairs: Iterable[tuple[int, T]] = enumerate(items)
    if tracker is not None:
        for index, done in tracker.done.items():
            results[index] = done
        pairs = [(i, item) for i, item in enumerate(items) if i not in tracker.done]
        start = tracker.wrap(start)
    if bounded:
        assert max_concurrency is not None
        await _run_bounded(pairs, start, max_concurrency, name_item, results)
    else:
        indexed = list(pairs)
        tasks = await _in_task_group(indexed, start, name_item)
        for (index, _), task in zip(indexed, tasks, strict=True):
            results[index] = task.result()
    return results


async def _in_task_group(
    pairs: Iterable[tuple[int, T]], start: Start[T], name_item: Callable[[BaseException, int], None]
) -> list[asyncio.Task[Any]]:
    tasks: list[asyncio.Task[Any]] = []
    indices: list[int] = []
    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            for index, item in pairs:
                try:
                    coro = start(index, item)  # may raise at once, e.g. a bad BatchFlow item
                except Exception as exc:
                    name_item(exc, index)
                    raise
                indices.append(index)
                tasks.append(group.create_task(coro))
    except BaseExceptionGroup as group_error:
        failure = _first_failure(group_error)
        failed = next((i for i, t in zip(indices, tasks, strict=True) if _failed_with(t, failure)), None)
        if failed is not None:
            name_item(failure, failed)
    if failure is not None:
        raise failure  # outside the except block, so the group is not chained onto it
    return tasks


async def _run_bounded(
    pairs: Iterable[tuple[int, T]],
    start: Start[T],
    limit: int,
    name_item: Callable[[BaseException, int], None],
    results: list[Any],
) -> None:
    queue = iter(pairs)  # shared by the workers: each next() hands out one item, in input order

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
