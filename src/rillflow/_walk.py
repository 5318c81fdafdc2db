"""The flow loop and batch loops with hooks attached (events, progress, checkpoints, resumes).

Kept apart from the plain loops in ``_flow.py`` so that a run without hooks pays nothing for them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from contextvars import Token
from typing import TYPE_CHECKING, Any, TypeVar

from ._node import BaseNode, label, visit_copy
from .errors import FlowError, add_path_segment, describe_item
from .hooks import _PATH, Path, RunHooks, graph_nodes

if TYPE_CHECKING:
    from ._flow import Flow

T = TypeVar("T")
_now = time.perf_counter


class Walk:
    """One hooked run of a flow: where it starts (or resumes), and what each visit reports.

    A flow run visits one node at a time, so the current visit's path, token and start time live on the
    walk itself; node paths are computed once per walk.
    """

    __slots__ = (
        "flow", "hooks", "keys", "max_steps", "node_path", "params", "path", "paths", "started", "steps",
        "template", "token",
    )  # fmt: skip

    def __init__(self, flow: Flow, params: dict[str, Any] | None, hooks: RunHooks) -> None:
        self.flow, self.hooks, self.path = flow, hooks, _PATH.get()
        nodes = graph_nodes(flow)
        self.keys = {id(node): key for key, node in nodes.items()}
        self.paths = {id(node): (*self.path, key) for key, node in nodes.items()}
        self.params = params or {**flow.params}
        self.template: BaseNode | None = flow.start_node
        self.steps, self.max_steps = 0, flow.max_steps
        resume = hooks.resume_point(flow, self.path)
        if resume is not None:
            if resume.node_key not in nodes:
                raise FlowError(
                    f"cannot resume {label(flow)} at node {resume.node_key!r}: the flow has no such node "
                    f"(it has {list(nodes)}); was the flow changed since the checkpoint?"
                )
            self.template, self.steps = nodes[resume.node_key], resume.steps

    def first(self) -> Any:
        return visit_copy(self.template)

    def enter(self, node: BaseNode) -> None:
        self.steps += 1
        if self.max_steps is not None:
            self.flow._check_steps(self.steps, node)
        node.set_params({**self.params})
        node_path = self.paths.get(id(self.template)) or (*self.path, label(node))
        self.node_path = node_path
        self.hooks.on_node_start(node, node_path)
        self.token = _PATH.set(node_path)
        self.started = _now()

    def fail(self, node: BaseNode, exc: BaseException) -> None:
        _PATH.reset(self.token)
        self.hooks.on_node_end(node, self.node_path, None, exc, _now() - self.started)
        if isinstance(exc, Exception):
            add_path_segment(exc, label(node))

    def leave(self, node: BaseNode, action: Any, shared: Any) -> Any:
        duration = _now() - self.started
        _PATH.reset(self.token)
        self.hooks.on_node_end(node, self.node_path, action, None, duration)
        self.template = nxt = self.flow.get_next_node(node, action)
        next_key = None if nxt is None else self.keys.get(id(nxt)) or label(nxt)
        self.hooks.on_step(self.flow, self.path, next_key, self.steps, shared)
        return visit_copy(nxt)


def orch_hooked(flow: Flow, shared: Any, params: dict[str, Any] | None, hooks: RunHooks) -> Any:
    walk = Walk(flow, params, hooks)
    curr, last_action = walk.first(), None
    while curr is not None:
        walk.enter(curr)
        try:
            last_action = curr._run(shared)
        except BaseException as exc:
            walk.fail(curr, exc)
            raise
        curr = walk.leave(curr, last_action, shared)
    return last_action


async def orch_hooked_async(flow: Flow, shared: Any, params: dict[str, Any] | None, hooks: RunHooks) -> Any:
    walk = Walk(flow, params, hooks)
    curr, last_action = walk.first(), None
    while curr is not None:
        walk.enter(curr)
        try:
            last_action = await curr._run_async(shared)
        except BaseException as exc:
            walk.fail(curr, exc)
            raise
        curr = walk.leave(curr, last_action, shared)
    return last_action


# --- batch items ----------------------------------------------------------------------------------
class ItemRun:
    """Reports the items of one batch node or batch flow, and skips those a resume already has."""

    __slots__ = ("done", "hooks", "node", "path", "report_results", "show_item", "total")

    def __init__(
        self,
        node: BaseNode,
        hooks: RunHooks,
        items: Sequence[Any],
        *,
        report_results: bool,
        show_item: bool = False,
    ) -> None:
        self.node, self.hooks, self.path, self.total = node, hooks, _PATH.get(), len(items)
        self.report_results, self.show_item = report_results, show_item
        hooks.on_items(node, self.path, self.total)
        hooks.check_items(node, self.path, items)
        self.done = hooks.finished_items(node, self.path)

    def start(self, index: int) -> Token[Path]:
        token = _PATH.set((*self.path, f"#{index}"))
        self.hooks.on_item_start(self.node, self.path, index)
        return token

    def end(self, index: int, token: Token[Path], result: Any) -> None:
        _PATH.reset(token)
        if isinstance(result, BaseException):  # collect mode returns failures in place
            self.hooks.on_item_end(self.node, self.path, index, None, result)
        else:
            self.hooks.on_item_end(self.node, self.path, index, result if self.report_results else None, None)

    def fail(self, index: int, token: Token[Path], exc: BaseException) -> None:
        _PATH.reset(token)
        self.hooks.on_item_end(self.node, self.path, index, None, exc)

    def name(self, exc: BaseException, index: int, item: Any) -> None:
        if isinstance(exc, Exception):
            add_path_segment(exc, describe_item(index, self.total, item if self.show_item else None))

    def wrap(
        self, start: Callable[[int, Any], Awaitable[Any]]
    ) -> Callable[[int, Any], Coroutine[Any, Any, Any]]:
        """Wrap a parallel item coroutine factory so each item reports its start and end."""

        async def run(index: int, item: Any) -> Any:
            token = self.start(index)
            try:
                result = await start(index, item)
            except BaseException as exc:
                self.fail(index, token, exc)
                raise
            self.end(index, token, result)
            return result

        return run


def run_inline(coro: Coroutine[Any, Any, T]) -> T:
    """Finish a coroutine that never suspends, from sync code.

    Lets a sync path reuse the async implementation when every await in it is on sync work wrapped as a
    coroutine (see ``batch_hooked``); a real suspension would be a bug, so it is reported, not hidden.
    """
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("internal error: a sync run awaited asynchronous work")


def batch_hooked(
    node: BaseNode, items: Iterable[Any], hooks: RunHooks, run_one: Callable[[Any], Any], *, flow: bool
) -> list[Any]:
    """The sync batch loop with hooks: the async one below, driven inline over sync work."""

    async def run_one_inline(item: Any) -> Any:
        return run_one(item)

    return run_inline(batch_hooked_async(node, items, hooks, run_one_inline, flow=flow))


async def batch_hooked_async(
    node: BaseNode,
    items: Iterable[Any],
    hooks: RunHooks,
    run_one: Callable[[Any], Awaitable[Any]],
    *,
    flow: bool,
) -> list[Any]:
    seq = list(items)
    run = ItemRun(node, hooks, seq, report_results=not flow, show_item=flow)
    results = []
    for index, item in enumerate(seq):
        if index in run.done:
            results.append(run.done[index])
            continue
        token = run.start(index)
        try:
            result = await run_one(item)
        except BaseException as exc:
            run.fail(index, token, exc)
            run.name(exc, index, item)
            raise
        run.end(index, token, result)
        results.append(result)
    return results
