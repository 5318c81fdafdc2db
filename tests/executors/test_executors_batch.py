"""``executor=`` on AsyncParallelBatchNode: exec attempts on worker processes, the rest in the caller."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from executor_nodes import (
    AlwaysFails,
    AsksInExec,
    AsyncSquare,
    FailsOnThree,
    Flaky,
    HoldsALock,
    Slow,
    Square,
    square_flow,
)

from rillflow.core import travel
from rillflow.errors import FlowError
from rillflow.executors import CannotTravelError
from rillflow.hooks import RunHooks

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2) as executor:
        yield executor


async def run(node: Any, items: list[Any], **options: Any) -> list[Any]:
    shared: dict[str, Any] = {"items": items}
    await square_flow(node).run_async(shared, **options)
    return list(shared["results"])


async def test_items_run_on_worker_processes_and_come_back_in_order(pool: Executor) -> None:
    for node in (Square(executor=pool), AsyncSquare(executor=pool)):
        results = await run(node, list(range(30)))
        assert [r[0] for r in results] == [i * i for i in range(30)]
        assert os.getpid() not in {pid for _, pid in results}


class Seen(RunHooks):
    def __init__(self) -> None:
        self.retries: list[int] = []
        self.fallbacks = 0
        self.items_done = 0

    def on_retry(self, *args: Any, **kwargs: Any) -> None:
        self.retries.append(os.getpid())

    def on_fallback(self, *args: Any, **kwargs: Any) -> None:
        self.fallbacks += 1

    def on_item_end(self, *args: Any, **kwargs: Any) -> None:
        self.items_done += 1


async def test_retries_happen_per_item_and_are_reported_in_the_calling_process(pool: Executor) -> None:
    seen = Seen()
    results = await run(Flaky(max_retries=3, executor=pool), [1, 2, 3], hooks=seen)
    assert [r[0] for r in results] == [1, 4, 9]
    assert seen.retries == [os.getpid()] * 6  # two failed attempts per item, reported here
    assert seen.items_done == 3


async def test_exec_fallback_runs_in_the_calling_process(pool: Executor) -> None:
    seen = Seen()
    results = await run(AlwaysFails(max_retries=2, executor=pool), [7], hooks=seen)
    assert results == [("fallback", 7, os.getpid())]
    assert (len(seen.retries), seen.fallbacks) == (1, 1)


async def test_the_first_failure_is_raised_naming_the_item_and_the_worker(pool: Executor) -> None:
    with pytest.raises(ValueError, match="three is not allowed") as error:
        await run(FailsOnThree(executor=pool), list(range(6)))
    notes = "\n".join(error.value.__notes__)
    assert "item 3 of 6" in notes
    assert "raised on the executor's worker" in notes


async def test_without_fail_fast_each_failure_is_kept_in_its_place(pool: Executor) -> None:
    results = await run(FailsOnThree(executor=pool, fail_fast=False), list(range(5)))
    assert isinstance(results[3], ValueError)
    assert [r[0] for i, r in enumerate(results) if i != 3] == [0, 1, 4, 16]


async def test_the_timeout_is_enforced_by_the_caller() -> None:
    with ProcessPoolExecutor(2) as executor:
        with pytest.raises(TimeoutError, match=r"timed out after 0\.3s on the executor"):
            await run(Slow(executor=executor, timeout=0.3), [0, 1, 2])


class Counting(Executor):
    """Wraps an executor and records the most calls it had in flight at once."""

    def __init__(self, inner: Executor) -> None:
        self.inner, self.running, self.most, self.submits = inner, 0, 0, 0
        self.lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self.lock:
            self.submits += 1
            self.running += 1
            self.most = max(self.most, self.running)
        future = self.inner.submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self.lock:
            self.running -= 1


async def test_max_concurrency_bounds_the_items_in_flight_on_the_executor(pool: Executor) -> None:
    counting = Counting(pool)
    results = await run(Square(executor=counting, max_concurrency=2), list(range(12)))
    assert len(results) == 12
    assert counting.most <= 2


async def test_a_node_attribute_that_cannot_travel_is_named(pool: Executor) -> None:
    with pytest.raises(CannotTravelError, match=r"Counted: the node cannot be sent.*attribute 'lock'"):
        await run(HoldsALock(executor=pool, name="Counted"), [1])


async def test_an_item_that_cannot_travel_is_named(pool: Executor) -> None:
    with pytest.raises(CannotTravelError, match=r"Square: the item <unlocked _thread.lock"):
        await run(Square(executor=pool), [threading.Lock()])


async def test_an_executor_held_by_the_node_class_is_not_sent(pool: Executor) -> None:
    class OnPool(Square):
        executor = pool

    assert [r[0] for r in await run(OnPool(), [2, 3])] == [4, 9]


async def test_without_cloudpickle_a_lambda_is_refused_naming_the_extra(
    pool: Executor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cloudpickle", None)  # import cloudpickle now fails
    monkeypatch.setattr(travel, "_PICKLER", None)
    node = Square(executor=pool)
    node.transform = lambda x: x  # type: ignore[attr-defined]
    with pytest.raises(CannotTravelError, match=r"attribute 'transform'.*rillflow\[dask\]"):
        await run(node, [1])
    monkeypatch.setattr(travel, "_PICKLER", None)


def test_classes_from_main_and_lambdas_travel_to_fresh_worker_processes(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            """
            import multiprocessing, os
            from concurrent.futures import ProcessPoolExecutor
            from rillflow import AsyncFlow, AsyncParallelBatchNode

            class Shout(AsyncParallelBatchNode):
                transform = staticmethod(lambda text: text.upper() + "!")

                async def prep_async(self, shared):
                    return shared["words"]

                def exec(self, word):
                    return self.transform(word), os.getpid()

                async def post_async(self, shared, items, results):
                    shared["out"] = results

            if __name__ == "__main__":
                spawn = multiprocessing.get_context("spawn")  # workers that never ran this script
                with ProcessPoolExecutor(2, mp_context=spawn) as pool:
                    shared = {"words": ["a", "b", "c"]}
                    AsyncFlow(start=Shout(executor=pool)).run(shared)
                print([w for w, _ in shared["out"]], os.getpid() not in {p for _, p in shared["out"]})
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['A!', 'B!', 'C!'] True"


async def test_interrupt_in_exec_on_a_worker_is_refused_saying_where_to_ask(pool: Executor) -> None:
    with pytest.raises(FlowError, match=r"AsksInExec: interrupt.*ask in prep or post"):
        await run(AsksInExec(executor=pool), [1])


async def test_items_per_task_sends_items_together_each_with_its_own_result(pool: Executor) -> None:
    counting = Counting(pool)
    results = await run(Square(executor=counting, items_per_task=4), list(range(10)))
    assert [r[0] for r in results] == [i * i for i in range(10)]
    assert counting.submits == 3  # 4 + 4 + 2
    assert len({pid for _, pid in results[:4]}) == 1  # one task, one worker


async def test_items_per_task_respects_max_concurrency(pool: Executor) -> None:
    counting = Counting(pool)
    results = await run(Square(executor=counting, items_per_task=4, max_concurrency=2), list(range(10)))
    assert len(results) == 10
    assert counting.submits >= 5  # never more than 2 items waiting, so tasks of at most 2


async def test_retries_and_failures_stay_per_item_inside_a_task(pool: Executor) -> None:
    seen = Seen()
    results = await run(Flaky(max_retries=3, executor=pool, items_per_task=3), [1, 2, 3], hooks=seen)
    assert [r[0] for r in results] == [1, 4, 9]
    assert len(seen.retries) == 6
    with pytest.raises(ValueError, match="three is not allowed") as error:
        await run(FailsOnThree(executor=pool, items_per_task=4), list(range(8)))
    assert "item 3 of 8" in "\n".join(error.value.__notes__)
    kept = await run(FailsOnThree(executor=pool, items_per_task=4, fail_fast=False), list(range(5)))
    assert isinstance(kept[3], ValueError) and kept[4][0] == 16


def test_items_per_task_must_be_a_positive_int() -> None:
    with pytest.raises(ValueError, match="items_per_task must be an int >= 1"):
        Square(items_per_task=0)
