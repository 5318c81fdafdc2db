"""Nodes the executor tests send to worker processes (a module of its own: workers import it by name)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Any

from rillflow import AsyncFlow, AsyncParallelBatchNode, Node


class Square(AsyncParallelBatchNode):
    """Squares ``shared["items"]`` on the workers; each result says which process computed it."""

    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        return list(shared["items"])

    def exec(self, item: int) -> tuple[int, int]:
        return item * item, os.getpid()

    async def post_async(self, shared: dict[str, Any], items: Any, results: list[Any]) -> None:
        shared["results"] = results


class AsyncSquare(Square):
    async def exec_async(self, item: int) -> tuple[int, int]:  # type: ignore[override]
        await asyncio.sleep(0)
        return item * item, os.getpid()


class Flaky(Square):
    """Fails the first two attempts of every item: only the third succeeds."""

    def exec(self, item: int) -> tuple[int, int]:
        if self.cur_retry < 2:
            raise ConnectionError(f"attempt {self.cur_retry} of {item}")
        return item * item, os.getpid()


class AlwaysFails(Square):
    def exec(self, item: int) -> tuple[int, int]:
        raise ValueError(f"bad item {item}")

    def exec_fallback(self, item: int, exc: Exception) -> Any:
        return ("fallback", item, os.getpid())


class FailsOnThree(Square):
    def exec(self, item: int) -> tuple[int, int]:
        if item == 3:
            raise ValueError("three is not allowed")
        return item * item, os.getpid()


class Slow(Square):
    def exec(self, item: int) -> tuple[int, int]:
        time.sleep(2 if item == 1 else 0)
        return item * item, os.getpid()


class HoldsALock(Square):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.lock = threading.Lock()


class Logged(Square):
    """Appends ``start i`` to the ``log`` file before each item, then works for ``seconds``.

    Both are set on the node, not in prep: a resumed durable run does not run a prep again once it has
    finished, so what exec needs must not depend on prep having run in this process."""

    log: str = ""
    seconds: float = 0.0

    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        return list(shared["items"])

    def exec(self, item: int) -> tuple[int, int]:
        with Path(self.log).open("a") as f:
            f.write(f"start {item} {os.getpid()}\n")
        time.sleep(self.seconds)
        return item * item, os.getpid()


class Double(Node):
    def prep(self, shared: dict[str, Any]) -> int:
        return int(shared["x"])

    def exec(self, x: int) -> int:
        if x < 0:
            raise ValueError(f"negative {x}")
        return 2 * x

    def post(self, shared: dict[str, Any], x: int, doubled: int) -> str:
        shared["doubled"], shared["pid"] = doubled, os.getpid()
        return "done"


def square_flow(node: AsyncParallelBatchNode) -> AsyncFlow:
    return AsyncFlow(start=node)


class AsksInExec(Square):
    def exec(self, item: int) -> tuple[int, int]:
        return self.interrupt(f"ok to square {item}?"), os.getpid()
