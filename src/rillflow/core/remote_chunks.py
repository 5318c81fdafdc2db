"""Several items per executor task, for items too small to pay an executor's round trip each.

Attempts started in the same turn of the event loop (as a batch starts its items) are sent together, up
to ``size`` per task; each item still has its own reply, retries and hooks in the calling process. A
retried attempt rides in whatever task forms next.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from concurrent.futures import Executor

from .remote_worker import Reply, exec_chunk

Waiter = tuple[bytes, int, "asyncio.Future[Reply]"]  # (item bytes, attempt, the item's reply to come)


class ChunkSender:
    """Sends exec attempts to ``executor`` in tasks of up to ``size`` items."""

    def __init__(
        self, executor: Executor, node_blob: bytes, exec_name: str, is_async: bool, size: int
    ) -> None:
        self.executor, self.node_blob, self.size = executor, node_blob, size
        self.exec_name, self.is_async = exec_name, is_async
        self.pending: list[Waiter] = []

    def send(self, item_blob: bytes, attempt: int) -> asyncio.Future[Reply]:
        """The reply of one attempt, once the task carrying it is done."""
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Reply] = loop.create_future()
        self.pending.append((item_blob, attempt, reply))
        if len(self.pending) >= self.size:
            self._flush()
        elif len(self.pending) == 1:
            loop.call_soon(self._flush)  # the rest of this turn's items join the task
        return reply

    def _flush(self) -> None:
        waiters = [w for w in self.pending if not w[2].cancelled()]
        self.pending = []
        if not waiters:
            return
        loop = asyncio.get_running_loop()
        task = self.executor.submit(
            exec_chunk, self.node_blob, self.exec_name, self.is_async, [(b, a) for b, a, _ in waiters]
        )
        task.add_done_callback(lambda done: _call_soon(loop, _deliver, done, waiters))
        for _, _, reply in waiters:  # fail-fast cancels every item of a task: cancel the task too
            reply.add_done_callback(lambda _: _cancel_if_unwanted(task, waiters))


def _call_soon(loop: asyncio.AbstractEventLoop, *call: object) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(*call)  # type: ignore[arg-type]


def _deliver(task: concurrent.futures.Future[list[Reply]], waiters: list[Waiter]) -> None:
    if task.cancelled():
        for _, _, reply in waiters:
            reply.cancel()
        return
    error = task.exception()
    replies = task.result() if error is None else [None] * len(waiters)
    for (_, _, reply), result in zip(waiters, replies, strict=True):
        if reply.done():
            continue
        if error is not None:
            reply.set_exception(error)
        else:
            assert result is not None
            reply.set_result(result)


def _cancel_if_unwanted(task: concurrent.futures.Future[list[Reply]], waiters: list[Waiter]) -> None:
    if all(reply.cancelled() for _, _, reply in waiters):
        task.cancel()
