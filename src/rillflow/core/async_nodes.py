"""The async twins: PocketFlow's names, run on the event loop with structured, bounded concurrency."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any

from ..errors import add_path_segment, describe_item
from .context import HOOKS
from .fanout import check_concurrency, run_items
from .flow import BatchFlow, Flow
from .graph import visit_copy
from .node import BatchNode, Node
from .phases import ASYNC, DEFAULT, Plan, default_phase
from .remote_batch import check_items_per_task, exec_items_on
from .walk import ItemRun


class AsyncNode(Node):
    """A node run with ``await``: define ``prep_async``/``exec_async``/``post_async`` (or keep any sync).

    ``run(shared)`` works from sync code as a convenience (it runs the event loop for you).
    """

    _loop_only = True

    @default_phase
    async def prep_async(self, shared: Any) -> Any:
        return None

    @default_phase
    async def exec_async(self, prep_res: Any) -> Any:
        return None

    @default_phase
    async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
        raise exc

    @default_phase
    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return None


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

    async def _middle_async(self, shared: Any, items: Any, plan: Plan) -> Any:
        # A copy per item keeps cur_retry per item; with one attempt there is nothing to keep apart.
        per_item = self.max_retries > 1
        items = _as_sequence(items)
        hooks = HOOKS.get()
        if hooks is None and self.executor is None and len(items) == 1:
            # A batch of one (an agent turn with one tool call) as run_items runs it, minus the fan-out.
            node = visit_copy(self) if per_item else self
            try:
                return [await node._exec_one_async(items[0], plan)]
            except Exception as exc:
                add_path_segment(exc, describe_item(0, 1))
                if self.fail_fast:
                    raise
                return [exc]

        run_one: Callable[[Any], Coroutine[Any, Any, Any]]
        if hooks is None and not per_item and self._direct_items(plan):
            # One attempt, no timeout, the default fallback (re-raise), nothing to report: each item is
            # its exec coroutine itself, a frame less per item (10,000 items: about 3 ms).
            self.cur_retry = 0
            run_one = getattr(self, plan.exec.name)
        else:

            def run_one(item: Any) -> Coroutine[Any, Any, Any]:
                node = visit_copy(self) if per_item else self
                return node._exec_one_async(item, plan)

        tracker = None if hooks is None else ItemRun(self, hooks, items, report_results=True)
        if self.executor is not None:
            return await exec_items_on(self.executor, self, items, plan, tracker)
        return await run_items(
            items, run_one, max_concurrency=self.max_concurrency, fail_fast=self.fail_fast, tracker=tracker
        )

    def _direct_items(self, plan: Plan) -> bool:
        return (
            self.timeout is None
            and plan.exec.kind == ASYNC
            and plan.fallback.kind == DEFAULT
            and type(self)._exec_one_async is Node._exec_one_async
        )


class AsyncFlow(Flow, AsyncNode):
    """A flow whose nodes may be async or sync; sync ``exec`` bodies run in worker threads."""

    @default_phase
    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return exec_res


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

    @staticmethod
    def _prep_value(prep_res: Any) -> Any:
        return _as_sequence(prep_res)

    async def _middle_async(self, shared: Any, items: Any, plan: Plan) -> None:
        def run_one(item_params: dict[str, Any]) -> Any:
            return self._orch_async(shared, {**self.params, **item_params})

        hooks = HOOKS.get()
        tracker = None if hooks is None else ItemRun(self, hooks, items, report_results=False, show_item=True)
        await run_items(
            items,
            run_one,
            max_concurrency=self.max_concurrency,
            fail_fast=self.fail_fast,
            tracker=tracker,
            show_items=True,
        )


def _as_sequence(items: Any) -> Any:
    if items is None:
        return []
    return items if isinstance(items, list | tuple) else list(items)  # generators, sets, dict keys...


class BatchAsyncFlow(AsyncBatchFlow):
    """The old name of :class:`AsyncBatchFlow`, kept working with a deprecation warning."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            "BatchAsyncFlow is the old name of AsyncBatchFlow; use AsyncBatchFlow",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(*args, **kwargs)
