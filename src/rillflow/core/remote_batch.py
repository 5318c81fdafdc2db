"""A parallel batch node's items on an executor: each exec attempt is sent to a worker.

Only ``exec`` travels. The retry loop, the per-attempt ``timeout``, ``exec_fallback``, fail-fast, the
hooks (progress, events, durable per-item records) and ``max_concurrency`` stay in the calling process,
so a batch on a cluster reports and resumes exactly as one run in threads.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from .fanout import ItemTracker, run_items
from .graph import label
from .phases import ASYNC
from .remote_chunks import ChunkSender
from .remote_worker import Reply, exec_attempt
from .travel import loads, pack

if TYPE_CHECKING:
    from .node import Node
    from .phases import Plan


async def exec_items_on(
    executor: Executor, node: Node, items: Sequence[Any], plan: Plan, tracker: ItemTracker | None
) -> list[Any]:
    """Run the batch ``node``'s exec for ``items`` on ``executor``; results in input order."""
    name = label(node)
    node_blob = pack(_travelling_copy(node), name, "the node")
    exec_name, exec_kind = plan.exec
    is_async = exec_kind == ASYNC
    size = getattr(node, "items_per_task", 1)
    chunks = ChunkSender(executor, node_blob, exec_name, is_async, size) if size > 1 else None

    def send(item_blob: bytes, attempt: int) -> asyncio.Future[Reply]:
        if chunks is not None:
            return chunks.send(item_blob, attempt)
        future = executor.submit(exec_attempt, node_blob, exec_name, is_async, item_blob, attempt)
        return asyncio.wrap_future(future)

    async def run_one(item: Any) -> Any:
        item_blob = pack(item, name, lambda: f"the item {_short(item)}")
        local = copy.copy(node)  # cur_retry per item, as in a batch run in threads
        for attempt in range(local.max_retries):
            local.cur_retry = attempt
            try:
                reply = await _wait(send(item_blob, attempt), local, attempt)
                return _unwrap(reply)
            except Exception as exc:
                if local._gives_up(exc):
                    local._report_failure(exc, None)
                    return await local._call_async(plan.fallback, item, exc)
                delay = local.retry_delay(attempt)
                local._report_failure(exc, delay)
                if delay > 0:
                    await asyncio.sleep(delay)
        raise ValueError(f"max_retries must be >= 1, got {local.max_retries!r}")

    return await run_items(
        items,
        run_one,
        max_concurrency=getattr(node, "max_concurrency", None),
        fail_fast=getattr(node, "fail_fast", True),
        tracker=tracker,
    )


async def _wait(result: asyncio.Future[Reply], node: Node, attempt: int) -> Reply:
    if node.timeout is None:
        return await result
    try:
        async with asyncio.timeout(node.timeout) as scope:
            return await result
    except TimeoutError as exc:
        if not scope.expired():
            raise
        raise TimeoutError(
            f"{label(node)}: exec attempt {attempt + 1} timed out after {node.timeout}s on the executor "
            "(a running worker finishes the attempt; its result is dropped)"
        ) from exc


def _unwrap(reply: Reply) -> Any:
    ok, blob = reply
    value = loads(blob)
    if not ok:
        raise value
    return value


def _travelling_copy(node: Node) -> Node:
    """The node without its successors (the rest of the graph stays here) and without its executor."""
    travelling = copy.copy(node)
    travelling.successors = {}
    if "executor" in travelling.__dict__:
        travelling.__dict__["executor"] = None
    return travelling


def _short(item: Any) -> str:
    text = repr(item)
    return text if len(text) <= 60 else text[:57] + "..."


def check_items_per_task(items_per_task: int) -> int:
    if not isinstance(items_per_task, int) or items_per_task < 1:
        raise ValueError(f"items_per_task must be an int >= 1, got {items_per_task!r}")
    return items_per_task
