"""The flow loop and batch loops with hooks attached (events, progress, checkpoints, resumes).

Kept apart from the plain loops in ``flow.py`` so that a run without hooks pays nothing for them. Nodes
and flows are used through their methods only, so this layer sits below the node classes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from contextvars import Token
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import AsyncNodeInSyncFlowError, FlowError, add_path_segment, describe_item
from .bridge import run_inline
from .context import PATH, RESUME, Path
from .graph import graph_nodes, label, visit_copy
from .hooks import RunHooks, overrides
from .phases import ASYNC

if TYPE_CHECKING:
    from .flow import Flow
    from .node import BaseNode

T = TypeVar("T")
_now = time.perf_counter


def needs_loop_error(node: BaseNode) -> AsyncNodeInSyncFlowError:
    return AsyncNodeInSyncFlowError(
        f"{label(node)} is async and cannot run inside a sync Flow; "
        "use AsyncFlow and `await flow.run_async(shared)` (or AsyncFlow.run(shared))"
    )


class Step:
    """Runs visits of nodes with hooks attached: each reports when its prep has ended and when its post
    starts, and on a resume a visit whose prep already ran (its changes are in the restored ``shared``)
    continues with the stored prep result instead of running prep again.

    These are the points where a visit's changes to ``shared`` begin and end, which lets a durable run
    save only what finished phases produced while other visits (parallel items) are still running.
    """

    __slots__ = ("path", "post_start", "prep_end", "source", "watches")

    def __init__(self, hooks: RunHooks, path: Path) -> None:
        self.path, self.source = path, RESUME.get()
        self.prep_end = hooks.on_prep_end if overrides(hooks, "on_prep_end") else None
        self.post_start = hooks.on_post_start if overrides(hooks, "on_post_start") else None
        #: Whether a visit differs from the node's own ``_run`` (a phase is reported, or a resume steers).
        self.watches = not (self.source is None and self.prep_end is None and self.post_start is None)

    def _resumed_prep(self, node: BaseNode, path: Path) -> tuple[bool, Any]:
        source = self.source
        if source is None or node.resume_runs_prep:
            return False, None
        return source.prep_result(node=node, path=path)

    def run(self, node: BaseNode, shared: Any, path: Path | None = None) -> Any:
        """One visit, as ``node._run``."""
        if node._needs_loop:
            raise needs_loop_error(node)
        path = path or self.path
        resumed, p = (False, None) if self.source is None else self._resumed_prep(node, path)
        if not resumed:
            p = node._prep_value(node.prep(shared))
        if self.prep_end is not None:
            self.prep_end(node=node, path=path, prep_res=p, shared=shared, resumed=resumed)
        e = node._middle(shared, p)
        if self.post_start is not None:
            self.post_start(node=node, path=path, exec_res=e, shared=shared)
        return node.post(shared, p, e)

    async def run_async(self, node: BaseNode, shared: Any, path: Path | None = None) -> Any:
        """One visit, as ``node._run_async``."""
        path = path or self.path
        plan = node._active_plan()
        resumed, p = (False, None) if self.source is None else self._resumed_prep(node, path)
        if not resumed:
            p = getattr(node, plan.prep.name)(shared)
            if plan.prep.kind == ASYNC:
                p = await p
            p = node._prep_value(p)
        if self.prep_end is not None:
            self.prep_end(node=node, path=path, prep_res=p, shared=shared, resumed=resumed)
        e = await node._middle_async(shared, p, plan)
        if self.post_start is not None:
            self.post_start(node=node, path=path, exec_res=e, shared=shared)
        r = getattr(node, plan.post.name)(shared, p, e)
        return await r if plan.post.kind == ASYNC else r


class Walk:
    """One hooked run of a flow: where it starts (or resumes), and what each visit reports.

    ``run``/``run_async`` are the hooked twins of ``Flow._orch``/``_orch_async``: each visit runs through
    :class:`Step`, inside its node path (for ``emit``, nested flows and errors), between ``on_node_start``
    and ``on_node_end``. Only the hook methods something overrides are called (a listener run skips
    ``on_step``, for example), and the loops keep what they use in locals: this is the hot path of every
    run with a listener, a tracer or a checkpointer.
    """

    __slots__ = ("flow", "keys", "node_end", "node_start", "params", "path", "paths", "settle", "shared",
                 "step", "steps", "template", "visit")  # fmt: skip

    def __init__(self, flow: Flow, shared: Any, params: dict[str, Any] | None, hooks: RunHooks) -> None:
        self.flow, self.shared, self.path = flow, shared, PATH.get()
        self.node_start = hooks.on_node_start if overrides(hooks, "on_node_start") else None
        self.node_end = hooks.on_node_end if overrides(hooks, "on_node_end") else None
        self.step = hooks.on_step if overrides(hooks, "on_step") else None
        self.settle = hooks.settle if overrides(hooks, "settle") else None
        nodes = graph_nodes(flow)
        base, self.keys, self.paths = self.path, {}, {}
        for key, node in nodes.items():
            self.keys[id(node)], self.paths[id(node)] = key, (*base, key)
        self.params = params or {**flow.params}
        self.template: BaseNode | None = flow.start_node
        self.steps = 0
        self.visit = Step(hooks, self.path)
        source = self.visit.source
        resume = None if source is None else source.resume_point(flow=flow, path=self.path)
        if resume is not None:
            if resume.node_key not in nodes:
                raise FlowError(
                    f"cannot resume {label(flow)} at node {resume.node_key!r}: the flow has no such node "
                    f"(it has {list(nodes)}); was the flow changed since the checkpoint?"
                )
            self.template, self.steps = nodes[resume.node_key], resume.steps

    def unindexed_path(self, node: BaseNode) -> Path:
        """The path of a node the walk did not index (a successor added while the flow runs)."""
        return (*self.path, label(node))

    def failed(self, node: BaseNode, path: Path, exc: BaseException, started: float) -> None:
        if self.node_end is not None:
            self.node_end(
                node=node, path=path, action=None, error=exc, duration=_now() - started, shared=self.shared
            )
        if isinstance(exc, Exception):
            add_path_segment(exc, label(node))

    def stepped(self, nxt: BaseNode | None) -> None:
        assert self.step is not None
        next_key = None if nxt is None else self.keys.get(id(nxt)) or label(nxt)
        self.step(flow=self.flow, path=self.path, next_key=next_key, steps=self.steps, shared=self.shared)

    # The twin loops below are the hot path of every hooked run, so they keep what they use in locals
    # and call a visit's own ``_run`` when nothing watches its phases.
    def run(self) -> Any:
        flow, shared, params, paths = self.flow, self.shared, self.params, self.paths
        node_start, node_end, path_set, path_reset = self.node_start, self.node_end, PATH.set, PATH.reset
        visit = self.visit.run if self.visit.watches else None
        template, action = self.template, None
        curr = visit_copy(template)
        while curr is not None:
            self.steps += 1
            if flow.max_steps is not None:
                flow._check_steps(self.steps, curr)
            curr.set_params({**params})
            node_path = paths.get(id(template)) or self.unindexed_path(curr)
            if node_start is not None:
                node_start(node=curr, path=node_path, shared=shared)
            token = path_set(node_path)
            started = _now()
            try:
                action = curr._run(shared) if visit is None else visit(curr, shared, node_path)
            except BaseException as exc:
                path_reset(token)
                self.failed(curr, node_path, exc, started)
                raise
            path_reset(token)
            if node_end is not None:
                duration = _now() - started
                node_end(
                    node=curr, path=node_path, action=action, error=None, duration=duration, shared=shared
                )
            template = flow.get_next_node(curr, action)
            if self.step is not None:
                self.stepped(template)
            curr = visit_copy(template)
        return action

    async def run_async(self) -> Any:
        flow, shared, params, paths = self.flow, self.shared, self.params, self.paths
        node_start, node_end, path_set, path_reset = self.node_start, self.node_end, PATH.set, PATH.reset
        visit = self.visit.run_async if self.visit.watches else None
        template, action = self.template, None
        curr = visit_copy(template)
        while curr is not None:
            self.steps += 1
            if flow.max_steps is not None:
                flow._check_steps(self.steps, curr)
            curr.set_params({**params})
            node_path = paths.get(id(template)) or self.unindexed_path(curr)
            if node_start is not None:
                node_start(node=curr, path=node_path, shared=shared)
            token = path_set(node_path)
            started = _now()
            try:
                action = await (curr._run_async(shared) if visit is None else visit(curr, shared, node_path))
            except BaseException as exc:
                path_reset(token)
                self.failed(curr, node_path, exc, started)
                raise
            path_reset(token)
            if node_end is not None:
                duration = _now() - started
                node_end(
                    node=curr, path=node_path, action=action, error=None, duration=duration, shared=shared
                )
            template = flow.get_next_node(curr, action)
            if self.step is not None:
                self.stepped(template)
            # Not after the last step: the flow's end belongs to its parent's step (or batch item), and a
            # pause there would let a sibling's save hold this flow's changes without its parent's record.
            if self.settle is not None and template is not None:
                await self.settle()
            curr = visit_copy(template)
        return action


def orch_hooked(flow: Flow, shared: Any, params: dict[str, Any] | None, hooks: RunHooks) -> Any:
    return Walk(flow, shared, params, hooks).run()


async def orch_hooked_async(flow: Flow, shared: Any, params: dict[str, Any] | None, hooks: RunHooks) -> Any:
    return await Walk(flow, shared, params, hooks).run_async()


# --- batch items ----------------------------------------------------------------------------------
class ItemRun:
    """Reports the items of one batch node or batch flow, and skips those a resume already has."""

    __slots__ = ("done", "hooks", "node", "path", "report_results", "settle", "show_item", "total")

    def __init__(
        self,
        node: BaseNode,
        hooks: RunHooks,
        items: Sequence[Any],
        *,
        report_results: bool,
        show_item: bool = False,
    ) -> None:
        self.node, self.hooks, self.path, self.total = node, hooks, PATH.get(), len(items)
        self.report_results, self.show_item = report_results, show_item
        self.settle = hooks.settle if overrides(hooks, "settle") else None
        hooks.on_items(node=node, path=self.path, total=self.total, items=items)
        source = RESUME.get()
        self.done = {} if source is None else source.finished_items(node=node, path=self.path)

    def start(self, index: int) -> Token[Path]:
        token = PATH.set((*self.path, f"#{index}"))
        self.hooks.on_item_start(node=self.node, path=self.path, index=index)
        return token

    def end(self, index: int, token: Token[Path], result: Any) -> None:
        if isinstance(result, BaseException):  # collect mode returns failures in place
            self.fail(index, token, result)
            return
        PATH.reset(token)
        shown = result if self.report_results else None
        self.hooks.on_item_end(node=self.node, path=self.path, index=index, result=shown, error=None)

    def fail(self, index: int, token: Token[Path], exc: BaseException) -> None:
        PATH.reset(token)
        self.hooks.on_item_end(node=self.node, path=self.path, index=index, result=None, error=exc)

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
            if self.settle is not None:
                await self.settle()
            return result

        return run


def batch_hooked(
    node: BaseNode, items: Iterable[Any], hooks: RunHooks, run_one: Callable[[Any], Any], *, flow: bool
) -> list[Any]:
    """The sync batch loop with hooks: the async one below, driven inline over sync work."""

    async def run_one_inline(item: Any) -> Any:
        return run_one(item)

    return run_inline(batch_hooked_async(node, items, hooks, run_one_inline, flow=flow, settles=False))


async def batch_hooked_async(
    node: BaseNode,
    items: Iterable[Any],
    hooks: RunHooks,
    run_one: Callable[[Any], Awaitable[Any]],
    *,
    flow: bool,
    settles: bool = True,
) -> list[Any]:
    """The batch loop with hooks; ``settles=False`` for the sync face (sync runs never await ``settle``)."""
    seq = list(items)
    run = ItemRun(node, hooks, seq, report_results=not flow, show_item=flow)
    settle = run.settle if settles else None
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
        if settle is not None:
            await settle()
        results.append(result)
    return results
