"""The async twins: PocketFlow's names, run on the event loop with structured, bounded concurrency."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any, NoReturn

from ._bridge import run_sync
from ._concurrency import check_concurrency, run_items
from ._flow import BatchFlow, Flow
from ._node import BatchNode, Node, Plan, raise_needs_loop, visit_copy
from .executors.batch import check_items_per_task, exec_items_on


class AsyncNode(Node):
    """A node run with ``await``: define ``prep_async``/``exec_async``/``post_async`` (or keep any sync).

    ``run(shared)`` works from sync code as a convenience (it runs the event loop for you).
    """

    async def prep_async(self, shared: Any) -> Any:
        return None

    async def exec_async(self, prep_res: Any) -> Any:
        return None

    async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
        raise exc

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return None

    def run(self, shared: Any, **options: Any) -> Any:
        """Run from sync code: starts an event loop (or, inside a running one, warns and uses a thread)."""
        return run_sync(lambda: self.run_async(shared, **options), f"{type(self).__name__}.run", "run_async")

    def resume(self, run_id: str, answer: Any = None, **options: Any) -> Any:
        return run_sync(
            lambda: self.resume_async(run_id, answer, **options),
            f"{type(self).__name__}.resume",
            "resume_async",
        )

    def _run(self, shared: Any) -> NoReturn:
        raise_needs_loop(self)


class AsyncBatchNode(AsyncNode, BatchNode):
    """Runs ``exec`` once per item, one after another, awaiting each."""


class AsyncParallelBatchNode(AsyncNode, BatchNode):
    """Runs ``exec`` for all items concurrently; results come back in input order.

    ``max_concurrency`` bounds the items in flight (default: unbounded, as PocketFlow). By default the
    first failing item cancels the others and its exception is raised with a note naming the item;
    ``fail_fast=False`` runs every item and puts each failure's exception in the results list instead.
    Each item runs on its own copy of the node, so ``self.cur_retry`` is per item. With an ``executor``
    (any ``concurrent.futures.Executor``) each item's ``exec`` attempts run there, ``items_per_task``
    at a time (docs/scale.md).
    """

    max_concurrency: int | None = None
    fail_fast: bool = True
    executor: Executor | None = None
    items_per_task: int = 1

    def __init__(
        self,
        max_retries: int = 1,
        wait: float = 0,
        *,
        max_concurrency: int | None = None,
        fail_fast: bool = True,
        executor: Executor | None = None,
        items_per_task: int | None = None,
        **policy: Any,
    ) -> None:
        super().__init__(max_retries, wait, **policy)
        if max_concurrency is not None:
            self.max_concurrency = check_concurrency(max_concurrency)
        if not fail_fast:
            self.fail_fast = False
        if executor is not None:
            self.executor = executor
        if items_per_task is not None:
            self.items_per_task = check_items_per_task(items_per_task)

    async def _exec_stage_async(self, items: Any, plan: Plan) -> Any:
        if self.executor is not None:
            return await exec_items_on(self.executor, self, _as_sequence(items), plan)
        # A copy per item keeps cur_retry per item; with one attempt there is nothing to keep apart.
        per_item = self.max_retries > 1

        def run_one(item: Any) -> Any:
            node = visit_copy(self) if per_item else self
            return node._exec_one_async(item, plan)

        return await run_items(
            _as_sequence(items),
            run_one,
            node=self,
            max_concurrency=self.max_concurrency,
            fail_fast=self.fail_fast,
        )


class AsyncFlow(Flow, AsyncNode):
    """A flow whose nodes may be async or sync; sync ``exec`` bodies run in worker threads."""

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return exec_res

    def _run(self, shared: Any) -> NoReturn:
        raise_needs_loop(self)


class AsyncBatchFlow(AsyncFlow, BatchFlow):
    """Runs the flow once per item of ``prep_async``'s list, one item after another."""


class AsyncParallelBatchFlow(AsyncFlow, BatchFlow):
    """Runs the flow for all items concurrently (bounded by ``max_concurrency``), each on its own copies.

    Failure handling is as in :class:`AsyncParallelBatchNode`; with ``fail_fast=False`` the flow's
    ``post_async`` still runs after every item has finished or failed.
    """

    max_concurrency: int | None = None
    fail_fast: bool = True

    def __init__(
        self,
        start: Any = None,
        *,
        max_concurrency: int | None = None,
        fail_fast: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(start, **options)
        if max_concurrency is not None:
            self.max_concurrency = check_concurrency(max_concurrency)
        if not fail_fast:
            self.fail_fast = False

    async def _run_async(self, shared: Any) -> Any:
        plan = self._active_plan()
        items = _as_sequence(await self._call_inline(plan[0], shared))

        def run_one(item_params: dict[str, Any]) -> Any:
            return self._orch_async(shared, {**self.params, **item_params})

        await run_items(
            items,
            run_one,
            node=self,
            max_concurrency=self.max_concurrency,
            fail_fast=self.fail_fast,
            is_flow=True,
        )
        return await self._call_inline(plan[3], shared, items, None)


def _as_sequence(items: Any) -> Any:
    if items is None:
        return []
    return items if isinstance(items, list | tuple) else list(items)  # generators, sets, dict keys...
