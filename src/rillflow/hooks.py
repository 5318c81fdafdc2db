"""Run hooks: how features (events, tracing, progress, checkpoints) watch and steer a run.

The engine looks up the active hooks once per flow run (a ContextVar read); with none attached it runs
its plain loop and pays nothing else. With hooks attached it calls the methods below. All are sync and
must be quick: they run on the loop thread in async flows. A feature subclasses :class:`RunHooks` and
overrides what it needs; :class:`MultiHooks` fans out to several.

Paths name where something happens: a tuple of node keys from the top flow down, e.g.
``("ResearchFlow", "Decide")``; a batch item adds ``"#3"`` (item index 3) after its node or flow.
A node's key is its label (``name`` or class name), made unique within its flow by ``#2``, ``#3``...
in the order :func:`graph_nodes` walks the graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._flow import Flow
    from ._node import BaseNode

Path = tuple[str, ...]

_HOOKS: ContextVar[RunHooks | None] = ContextVar("rillflow_hooks", default=None)
_PATH: ContextVar[Path] = ContextVar("rillflow_path", default=())


def current_hooks() -> RunHooks | None:
    """The hooks of the run this code is part of, or None."""
    return _HOOKS.get()


def current_path() -> Path:
    """The path of the node (or item) being run, when hooks are active; ``()`` otherwise."""
    return _PATH.get()


def emit(kind: str, data: Any) -> None:
    """Report something from inside a node (``"text"`` chunks of a streamed LLM reply, progress...).

    Listeners and ``stream_async`` receive it with the node's path; with no hooks attached it is a no-op.
    """
    hooks = _HOOKS.get()
    if hooks is not None:
        hooks.on_emit(_PATH.get(), kind, data)


@contextmanager
def at_path(path: Path) -> Iterator[None]:
    token = _PATH.set(path)
    try:
        yield
    finally:
        _PATH.reset(token)


@dataclass(frozen=True)
class ResumePoint:
    """Where a flow run continues: the key of its next node and the steps it had taken."""

    node_key: str
    steps: int


class RunHooks:
    """No-op base. Event-like methods observe; ``resume_point``/``finished_items``/``take_answer`` steer."""

    # --- observing ----------------------------------------------------------------------------------
    def on_run_start(self, flow: BaseNode, path: Path, shared: Any) -> None: ...
    def on_run_end(self, flow: BaseNode, path: Path, result: Any, error: BaseException | None) -> None: ...
    def on_node_start(self, node: BaseNode, path: Path) -> None: ...
    def on_node_end(
        self, node: BaseNode, path: Path, action: Any, error: BaseException | None, duration: float
    ) -> None: ...
    def on_retry(
        self, node: BaseNode, path: Path, attempt: int, error: BaseException, delay: float
    ) -> None: ...
    def on_fallback(self, node: BaseNode, path: Path, error: BaseException) -> None: ...
    def on_items(self, node: BaseNode, path: Path, total: int) -> None:
        """A batch node or batch flow is about to run ``total`` items."""

    def check_items(self, node: BaseNode, path: Path, items: Sequence[Any]) -> None:
        """The items themselves, before any runs (durable runs check a resume gets the same ones)."""

    def on_item_start(self, node: BaseNode, path: Path, index: int) -> None: ...
    def on_item_end(
        self, node: BaseNode, path: Path, index: int, result: Any, error: BaseException | None
    ) -> None:
        """``result`` is the item's exec result (batch nodes) or None (batch flows)."""

    def on_step(self, flow: Flow, path: Path, next_key: str | None, steps: int, shared: Any) -> None:
        """A node of ``flow`` (at ``path``) finished; ``next_key`` runs next (None: the flow ends)."""

    def on_emit(self, path: Path, kind: str, data: Any) -> None:
        """A node called :func:`emit` (for example a text chunk of a streamed LLM reply)."""

    async def aclose(self) -> None:
        """Awaited when an async run ends, after ``on_run_end``: finish async work (async listeners)."""

    # --- steering (durable runs) --------------------------------------------------------------------
    def resume_point(self, flow: Flow, path: Path) -> ResumePoint | None:
        """Where the flow run at ``path`` should continue instead of its start node (resumes)."""
        return None

    def finished_items(self, node: BaseNode, path: Path) -> Mapping[int, Any]:
        """Items of the batch at ``path`` already done in an earlier attempt: index -> result."""
        return {}

    def take_answer(self, path: Path) -> tuple[bool, Any]:
        """For ``node.interrupt()`` at ``path``: (True, answer) when resuming with an answer."""
        return False, None


class MultiHooks(RunHooks):
    """Calls several hooks in order; steering answers come from the first that has one."""

    def __init__(self, hooks: Sequence[RunHooks]) -> None:
        self.hooks = list(hooks)

    def on_run_start(self, flow: BaseNode, path: Path, shared: Any) -> None:
        for h in self.hooks:
            h.on_run_start(flow, path, shared)

    def on_run_end(self, flow: BaseNode, path: Path, result: Any, error: BaseException | None) -> None:
        for h in self.hooks:
            h.on_run_end(flow, path, result, error)

    def on_node_start(self, node: BaseNode, path: Path) -> None:
        for h in self.hooks:
            h.on_node_start(node, path)

    def on_node_end(
        self, node: BaseNode, path: Path, action: Any, error: BaseException | None, duration: float
    ) -> None:
        for h in self.hooks:
            h.on_node_end(node, path, action, error, duration)

    def on_retry(self, node: BaseNode, path: Path, attempt: int, error: BaseException, delay: float) -> None:
        for h in self.hooks:
            h.on_retry(node, path, attempt, error, delay)

    def on_fallback(self, node: BaseNode, path: Path, error: BaseException) -> None:
        for h in self.hooks:
            h.on_fallback(node, path, error)

    def on_items(self, node: BaseNode, path: Path, total: int) -> None:
        for h in self.hooks:
            h.on_items(node, path, total)

    def check_items(self, node: BaseNode, path: Path, items: Sequence[Any]) -> None:
        for h in self.hooks:
            h.check_items(node, path, items)

    def on_item_start(self, node: BaseNode, path: Path, index: int) -> None:
        for h in self.hooks:
            h.on_item_start(node, path, index)

    def on_item_end(
        self, node: BaseNode, path: Path, index: int, result: Any, error: BaseException | None
    ) -> None:
        for h in self.hooks:
            h.on_item_end(node, path, index, result, error)

    def on_step(self, flow: Flow, path: Path, next_key: str | None, steps: int, shared: Any) -> None:
        for h in self.hooks:
            h.on_step(flow, path, next_key, steps, shared)

    def on_emit(self, path: Path, kind: str, data: Any) -> None:
        for h in self.hooks:
            h.on_emit(path, kind, data)

    async def aclose(self) -> None:
        for h in self.hooks:
            await h.aclose()

    def resume_point(self, flow: Flow, path: Path) -> ResumePoint | None:
        return next((p for h in self.hooks if (p := h.resume_point(flow, path)) is not None), None)

    def finished_items(self, node: BaseNode, path: Path) -> Mapping[int, Any]:
        return next((f for h in self.hooks if (f := h.finished_items(node, path))), {})

    def take_answer(self, path: Path) -> tuple[bool, Any]:
        return next((a for h in self.hooks if (a := h.take_answer(path))[0]), (False, None))


def combine(hooks: RunHooks | Sequence[RunHooks] | None) -> RunHooks | None:
    if hooks is None or isinstance(hooks, RunHooks):
        return hooks
    hooks = list(hooks)
    return None if not hooks else hooks[0] if len(hooks) == 1 else MultiHooks(hooks)


def graph_nodes(flow: Flow) -> dict[str, BaseNode]:
    """Every node reachable from ``flow.start_node`` by key, in a stable breadth-first order.

    Used for checkpoint positions, event paths and diagrams, so all three name nodes alike.
    """
    from ._node import label

    keys: dict[str, BaseNode] = {}
    seen: set[int] = set()
    counts: dict[str, int] = {}  # per label, so many nodes of one class cost O(n), not O(n^2)
    queue = deque([flow.start_node] if flow.start_node is not None else [])
    while queue:
        node = queue.popleft()
        if id(node) in seen:
            continue
        seen.add(id(node))
        base = label(node)
        n = counts.get(base, 0) + 1
        key = base if n == 1 else f"{base}#{n}"
        while key in keys:  # only when a node is explicitly named like a numbered one
            n += 1
            key = f"{base}#{n}"
        counts[base] = n
        keys[key] = node
        queue.extend(node.successors.values())
    return keys
