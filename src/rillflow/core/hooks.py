"""The hook interface: how features (events, tracing, progress, checkpoints) watch a run, and how a resume
steers one.

Observing and steering are apart. :class:`RunHooks` observes: the engine calls its methods as things
happen. :class:`ResumeSource` steers: only a run that continues an earlier one (a durable resume) has one,
and it answers where to continue. The engine looks up the active hooks once per flow run (a ContextVar
read); with none attached it runs its plain loop and pays nothing else.

Every method takes keyword arguments only and must accept ``**_`` (extra keywords): the engine may pass
new fields in later versions without breaking anyone's hooks. Methods are sync and must be quick: they
run on the loop thread in async flows.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .context import Path

if TYPE_CHECKING:
    from .flow import Flow
    from .node import BaseNode

F = TypeVar("F", bound=Callable[..., Any])


def noop(method: F) -> F:
    """Marks a base-class method as doing nothing, so fan-out skips it for hooks that do not override it."""
    method.__rillflow_noop__ = True  # type: ignore[attr-defined]
    return method


class RunHooks:
    """Observes a run. Subclass it and override the methods you need (each ends with ``**_``)."""

    @noop
    def on_run_start(self, *, node: BaseNode, path: Path, shared: Any, run_id: str, **_: Any) -> None:
        """The run of ``node`` (usually the top flow) began; ``run_id`` names it in events and checkpoints."""

    @noop
    def on_run_end(
        self, *, node: BaseNode, path: Path, result: Any, error: BaseException | None, **_: Any
    ) -> None:
        """The run ended with ``result`` or raised ``error`` (a pause raises :class:`~rillflow.Interrupt`)."""

    @noop
    def on_node_start(self, *, node: BaseNode, path: Path, shared: Any, **_: Any) -> None:
        """A node (or nested flow) of a flow is about to run its ``prep``."""

    @noop
    def on_prep_end(
        self, *, node: BaseNode, path: Path, prep_res: Any, shared: Any, resumed: bool, **_: Any
    ) -> None:
        """The visit's ``prep`` returned ``prep_res`` (``resumed``: it came from the resume source and
        prep did not run again). Only prep and post change ``shared``; between them the visit runs its
        exec (a flow: its own nodes' visits)."""

    @noop
    def on_post_start(self, *, node: BaseNode, path: Path, exec_res: Any, shared: Any, **_: Any) -> None:
        """The visit's ``post`` is about to run with ``exec_res``."""

    @noop
    def on_node_end(
        self,
        *,
        node: BaseNode,
        path: Path,
        action: Any,
        error: BaseException | None,
        duration: float,
        shared: Any,
        **_: Any,
    ) -> None:
        """The node returned ``action`` or raised ``error``, after ``duration`` seconds."""

    @noop
    def on_retry(
        self, *, node: BaseNode, path: Path, attempt: int, error: BaseException, delay: float, **_: Any
    ) -> None:
        """Attempt ``attempt`` (0-based) of ``exec`` failed; the next starts after ``delay`` seconds."""

    @noop
    def on_fallback(self, *, node: BaseNode, path: Path, error: BaseException, **_: Any) -> None:
        """``exec`` gave up with ``error``; ``exec_fallback`` runs next."""

    @noop
    def on_items(self, *, node: BaseNode, path: Path, total: int, items: Sequence[Any], **_: Any) -> None:
        """A batch node or batch flow is about to run ``total`` items (``items``: the items themselves)."""

    @noop
    def on_item_start(self, *, node: BaseNode, path: Path, index: int, **_: Any) -> None:
        """Item ``index`` of the batch at ``path`` starts."""

    @noop
    def on_item_end(
        self, *, node: BaseNode, path: Path, index: int, result: Any, error: BaseException | None, **_: Any
    ) -> None:
        """Item ``index`` ended: ``result`` is its exec result (batch nodes) or None (batch flows)."""

    @noop
    def on_step(
        self, *, flow: Flow, path: Path, next_key: str | None, steps: int, shared: Any, **_: Any
    ) -> None:
        """A node of ``flow`` (at ``path``) finished; ``next_key`` runs next (None: the flow ends)."""

    @noop
    def on_emit(self, *, path: Path, kind: str, data: Any, **_: Any) -> None:
        """A node called :func:`~rillflow.hooks.emit` (for example a text chunk of a streamed LLM reply)."""

    @noop
    async def settle(self) -> None:
        """Awaited by async runs when a step or a batch item has ended, after its hooks ran: hooks that
        hand slow work to a thread (a durable run's checkpoint write) let the run wait for it here
        instead of blocking the event loop. Sync runs never await it."""

    async def aclose(self) -> None:
        """Awaited when an async run ends, after ``on_run_end``: finish async work (async listeners)."""


#: The observing methods, in the order a run calls them; fan-out forwards each of them.
HOOK_METHODS: tuple[str, ...] = tuple(
    name
    for name, value in vars(RunHooks).items()
    if getattr(value, "__rillflow_noop__", False) and not inspect.iscoroutinefunction(value)
)


def overrides(hooks: RunHooks, name: str) -> bool:
    """True when ``hooks`` does something in method ``name`` (it is not the base class's no-op)."""
    return not getattr(getattr(hooks, name), "__rillflow_noop__", False)


@dataclass(frozen=True)
class ResumePoint:
    """Where a flow run continues: the key of its next node and the steps it had taken."""

    node_key: str
    steps: int


class ResumeSource:
    """Steers a run that continues an earlier one; only durable resumes supply one. Each answer is
    given once: the engine asks when it reaches the flow, batch or node in question."""

    def resume_point(self, *, flow: Flow, path: Path, **_: Any) -> ResumePoint | None:
        """Where the flow run at ``path`` continues instead of its start node."""
        return None

    def finished_items(self, *, node: BaseNode, path: Path, **_: Any) -> Mapping[int, Any]:
        """Items of the batch at ``path`` already done in an earlier attempt: index -> result."""
        return {}

    def prep_result(self, *, node: BaseNode, path: Path, **_: Any) -> tuple[bool, Any]:
        """(True, prep_res) when the visit at ``path`` had finished its ``prep`` before the run stopped:
        the visit continues with it (``shared`` already holds what prep changed)."""
        return False, None

    def take_answer(self, *, path: Path, **_: Any) -> tuple[bool, Any]:
        """For ``node.interrupt()`` at ``path``: (True, answer) when resuming with an answer."""
        return False, None


def _fan_out(methods: list[Callable[..., Any]]) -> Callable[..., None]:
    if len(methods) == 1:
        return methods[0]  # one hook takes it: call it directly, no loop

    def call_each(**fields: Any) -> None:
        for method in methods:
            method(**fields)

    return call_each


@noop
def _ignore(**_: Any) -> None:
    return None


@noop
async def _settled() -> None:
    return None


def _settle_each(methods: Sequence[Callable[[], Awaitable[None]]]) -> Callable[[], Awaitable[None]]:
    async def settle() -> None:
        for method in methods:
            await method()

    return settle


class MultiHooks(RunHooks):
    """Calls several hooks in order. Each method is bound once, to the hooks that override it, so a hook
    that ignores an event costs nothing for it."""

    def __init__(self, hooks: Sequence[RunHooks]) -> None:
        self.hooks = list(hooks)
        for name in HOOK_METHODS:
            methods = [getattr(h, name) for h in self.hooks if overrides(h, name)]
            setattr(self, name, _fan_out(methods) if methods else _ignore)
        settling = [h.settle for h in self.hooks if overrides(h, "settle")]
        setattr(self, "settle", _settle_each(settling) if settling else _settled)  # noqa: B010 (a method)

    async def aclose(self) -> None:
        for h in self.hooks:
            await h.aclose()


def combine(hooks: RunHooks | Sequence[RunHooks] | None) -> RunHooks | None:
    """One hooks object for ``hooks`` (a single one, a list, or None for no hooks at all)."""
    if hooks is None or isinstance(hooks, RunHooks):
        return hooks
    hooks = list(hooks)
    for h in hooks:
        if not isinstance(h, RunHooks):
            raise TypeError(f"hooks must be RunHooks instances, got {type(h).__name__}")
    return None if not hooks else hooks[0] if len(hooks) == 1 else MultiHooks(hooks)
