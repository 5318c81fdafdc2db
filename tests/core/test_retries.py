"""Retries: cur_retry per item, backoff, jitter, retry_on, per-attempt timeouts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import rillflow as rf
from rillflow.observe import Fallback


# --- cur_retry under parallel execution -----------------------------------------------------------
async def test_cur_retry_is_per_item_under_parallel_execution() -> None:
    class Flaky(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> Any:
            return list(range(5))

        async def exec_async(self, item: int) -> Any:
            attempt = self.cur_retry
            await asyncio.sleep(0.001 * (5 - item))  # interleave items
            if attempt < 2:
                raise ValueError(f"item {item} attempt {attempt}")
            return (item, attempt)

        async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
            return ("fell back early", str(exc))

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    shared: dict[str, Any] = {}
    await Flaky(max_retries=3).run_async(shared)
    assert shared["out"] == [(i, 2) for i in range(5)]


async def test_async_cur_retry_visible_in_exec_and_fallback() -> None:
    class Node(rf.AsyncNode):
        async def exec_async(self, prep_res: Any) -> Any:
            raise ValueError(self.cur_retry)

        async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
            return (str(exc), self.cur_retry)

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["res"] = exec_res

    shared: dict[str, Any] = {}
    await Node(max_retries=3).run_async(shared)
    assert shared["res"] == ("2", 2)


@pytest.mark.parametrize("listened", [False, True])
async def test_one_attempt_async_exec_falls_back_and_reports_it_in_a_flow(listened: bool) -> None:
    """The common visit (async exec, one attempt) runs exec inline in the visit: same fallback and events."""
    fallbacks: list[Fallback] = []

    def on_fallback(event: Fallback) -> None:
        fallbacks.append(event)

    class Once(rf.AsyncNode):
        async def exec_async(self, prep_res: Any) -> Any:
            raise ValueError("no")

        async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
            return (str(exc), self.cur_retry)

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["res"] = exec_res

    class Plain(rf.AsyncNode):  # default fallback: the error goes up with the node's path
        async def exec_async(self, prep_res: Any) -> Any:
            raise KeyError("gone")

    shared: dict[str, Any] = {}
    await rf.AsyncFlow(Once()).run_async(shared, **({"listeners": [on_fallback]} if listened else {}))
    assert shared["res"] == ("no", 0)
    assert len(fallbacks) == (1 if listened else 0)
    with pytest.raises(KeyError, match="gone") as info:
        await rf.AsyncFlow(Plain(), name="F").run_async({})
    assert any("Plain" in note for note in getattr(info.value, "__notes__", []))


# --- retry policy ---------------------------------------------------------------------------------
def test_exponential_backoff_with_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)

    class Fails(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            raise ConnectionError

        def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            return "gave up"

    Fails(max_retries=6, wait=0.1, backoff=2, max_wait=1.0).run({})
    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])


def test_jitter_stays_within_its_fraction() -> None:
    node = rf.Node(wait=1.0, jitter=0.25, backoff=3)
    delays = [node.retry_delay(1) for _ in range(200)]
    assert all(2.25 <= d <= 3.75 for d in delays)
    assert len(set(delays)) > 100  # actually random


def test_retry_on_limits_which_exceptions_are_retried() -> None:
    class Picky(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            self.attempts = getattr(self, "attempts", 0) + 1
            raise (ConnectionError if self.cur_retry == 0 else ValueError)("x")

        def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            return (type(exc).__name__, self.attempts)

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["res"] = exec_res

    shared: dict[str, Any] = {}
    Picky(max_retries=5, retry_on=ConnectionError).run(shared)
    assert shared["res"] == ("ValueError", 2)  # retried the ConnectionError, not the ValueError


async def test_per_attempt_timeout_counts_as_a_failed_attempt() -> None:
    class Slow(rf.AsyncNode):
        async def exec_async(self, prep_res: Any) -> Any:
            if self.cur_retry < 2:
                await asyncio.sleep(5)
            return f"attempt {self.cur_retry}"

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["res"] = exec_res

    shared: dict[str, Any] = {}
    started = time.perf_counter()
    await Slow(max_retries=3, timeout=0.05).run_async(shared)
    assert shared["res"] == "attempt 2"
    assert time.perf_counter() - started < 2  # the 5 s sleeps were cut short

    with pytest.raises(TimeoutError, match=r"exec attempt 2 timed out after 0\.05s"):
        await Slow(max_retries=2, timeout=0.05).run_async({})


def test_timeout_in_sync_run_warns_that_it_is_not_enforced() -> None:
    with pytest.warns(UserWarning, match="timeout is enforced only"):
        rf.Node(timeout=1).run({})
