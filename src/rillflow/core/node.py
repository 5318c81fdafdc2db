"""Nodes: the prep -> exec -> post unit of work, its retry policy, and its batch form.

Which method serves each phase is worked out once per class (see ``phases``), so running a node costs the
same as in PocketFlow; only nodes with instance-level method overrides pay for a second look.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import warnings
from collections.abc import Coroutine
from typing import Any, ClassVar, NoReturn

from ..errors import Interrupt, add_path_segment, describe_item
from .context import HOOKS, PATH, RESUME
from .extensions import load
from .graph import copies_plainly, label
from .hooks import RunHooks
from .phases import ASYNC, DEFAULT, PHASE_ATTRS, SYNC, Phase, Plan, default_phase, resolve_plan
from .runner import resume_node, resume_node_async, run_node, run_node_async
from .stream import stream_node
from .walk import Step, batch_hooked, batch_hooked_async, needs_loop_error


def raise_needs_loop(node: BaseNode) -> NoReturn:
    raise needs_loop_error(node)


class BaseNode:
    """A step with ``prep(shared) -> exec(prep_res) -> post(shared, prep_res, exec_res)``.

    ``post`` returns the action that picks the next node (``None`` means ``"default"``).
    """

    name: str | None = None
    #: A resumed durable run continues a visit that was past its prep with the saved prep result; set
    #: True for a node whose prep only reads ``shared`` and keeps what exec needs on the node itself.
    resume_runs_prep: bool = False
    #: Inside an async flow, a sync ``exec`` runs in a worker thread; set False to run it on the loop.
    exec_in_thread: bool = True
    _plan: ClassVar[Plan]
    _plain_copy: ClassVar[bool]
    _needs_loop: ClassVar[bool]
    #: True for the Async* classes: they run on an event loop even when every phase they define is sync.
    _loop_only: ClassVar[bool] = False

    def __init__(self, *, name: str | None = None) -> None:
        self.params: dict[str, Any] = {}
        self.successors: dict[str, BaseNode] = {}
        if name is not None:
            self.name = name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plan = resolve_plan(cls, {})
        cls._plain_copy = copies_plainly(cls)
        cls._needs_loop = cls._loop_only or any(kind == ASYNC for _, kind in cls._plan)

    # --- graph building -------------------------------------------------------------------------
    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def next(self, node: BaseNode, action: str = "default") -> BaseNode:
        if not isinstance(action, str):
            raise TypeError("Action must be a string")
        if not isinstance(node, BaseNode):
            raise TypeError(f"a successor must be a node, got {type(node).__name__}")
        if action in self.successors:
            warnings.warn(f"Overwriting successor for action '{action}'", stacklevel=2)
        self.successors[action] = node
        return node

    def __rshift__(self, other: BaseNode) -> BaseNode:
        return self.next(other)

    def __sub__(self, action: str) -> _ConditionalTransition:
        if isinstance(action, str):
            return _ConditionalTransition(self, action)
        raise TypeError("Action must be a string")

    # --- the three phases (override these) ------------------------------------------------------
    @default_phase
    def prep(self, shared: Any) -> Any:
        return None

    @default_phase
    def exec(self, prep_res: Any) -> Any:
        return None

    @default_phase
    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return None

    # --- running --------------------------------------------------------------------------------
    def run(self, shared: Any, **options: Any) -> Any:
        """Run this node (a flow: the whole graph). Options: ``hooks``, ``listeners``, and for durable
        runs ``run_id``, ``checkpointer``, ``durability``, ``serializer`` (see the docs). An async node
        or flow runs on an event loop started for it."""
        if options or self._needs_loop:
            return run_node(self, shared, options, sys._getframe(1))
        return self._run_top(shared)

    async def run_async(self, shared: Any, **options: Any) -> Any:
        """Run on the event loop (a sync ``exec`` runs in a worker thread). Options as for ``run``."""
        if options:
            return await run_node_async(self, shared, options)
        return await self._run_top_async(shared)

    def resume(self, run_id: str, answer: Any = None, **options: Any) -> Any:
        """Continue a durable run (after a crash or a pause); ``answer`` goes to the paused node."""
        return resume_node(self, run_id, answer, options, sys._getframe(1))

    async def resume_async(self, run_id: str, answer: Any = None, **options: Any) -> Any:
        """The async twin of :meth:`resume`."""
        return await resume_node_async(self, run_id, answer, options)

    def fork(self, run_id: str, step: int, *, updates: Any = None, **options: Any) -> Any:
        """Start a new durable run from ``step`` of run ``run_id``, with ``updates`` to ``shared``, and
        run it to its end or pause (``checkpointer=`` required; see docs/ui.md)."""
        return load("fork")(self, run_id, step, updates=updates, **options)

    async def fork_async(self, run_id: str, step: int, *, updates: Any = None, **options: Any) -> Any:
        """The async twin of :meth:`fork`."""
        return await load("fork_async")(self, run_id, step, updates=updates, **options)

    def stream_async(self, shared: Any, **options: Any) -> Any:
        """``async for event in flow.stream_async(shared)``: the run's events as they happen."""
        return stream_node(self, shared, options)

    def interrupt(self, payload: Any = None) -> Any:
        """Pause the run for a human decision; on resume, returns the answer given to ``resume``."""
        source = RESUME.get()
        if source is not None:
            found, answer = source.take_answer(path=PATH.get())
            if found:
                return answer
        raise Interrupt(payload, PATH.get())

    def _run_top(self, shared: Any, hooks: RunHooks | None = None) -> Any:
        """Run as the top of a run; with ``hooks``, the visit reports its phases (see ``walk.Step``)."""
        if self.successors:
            warnings.warn("Node won't run successors. Use Flow.", stacklevel=3)
        try:
            return self._run(shared) if hooks is None else Step(hooks, (label(self),)).run(self, shared)
        except Exception as exc:
            add_path_segment(exc, label(self))
            raise

    async def _run_top_async(self, shared: Any, hooks: RunHooks | None = None) -> Any:
        if self.successors:
            warnings.warn("Node won't run successors. Use AsyncFlow.", stacklevel=3)
        try:
            if hooks is None:
                return await self._run_async(shared)
            return await Step(hooks, (label(self),)).run_async(self, shared)
        except Exception as exc:
            add_path_segment(exc, label(self))
            raise

    # A visit is prep, then the middle (a node's exec, a flow's walk, a batch's items), then post.
    @staticmethod
    def _prep_value(prep_res: Any) -> Any:
        """What the middle and post get from prep (batch flows make a list of it)."""
        return prep_res

    def _middle(self, shared: Any, prep_res: Any) -> Any:
        return self.exec(prep_res)

    def _run(self, shared: Any) -> Any:
        if self._needs_loop:
            raise_needs_loop(self)
        p = self.prep(shared)
        e = self._middle(shared, p)
        return self.post(shared, p, e)

    def _active_plan(self) -> Plan:
        if PHASE_ATTRS.isdisjoint(self.__dict__):
            return self._plan
        return resolve_plan(type(self), self.__dict__)

    async def _run_async(self, shared: Any) -> Any:
        plan = self._active_plan()
        (prep, prep_kind), _, _, (post, post_kind) = plan
        p = getattr(self, prep)(shared)
        if prep_kind == ASYNC:
            p = await p
        e = await self._middle_async(shared, p, plan)
        r = getattr(self, post)(shared, p, e)
        if post_kind == ASYNC:
            r = await r
        return r

    async def _middle_async(self, shared: Any, prep_res: Any, plan: Plan) -> Any:
        return await self._call_async(plan.exec, prep_res)

    async def _call_inline(self, phase: Phase, *args: Any) -> Any:
        """Call prep or post from async code: on the loop, never in a thread (they touch ``shared``)."""
        result = getattr(self, phase.name)(*args)
        return await result if phase.kind == ASYNC else result

    async def _call_async(self, phase: Phase, *args: Any) -> Any:
        """Call a phase from async code: await a coroutine, send a user's sync method to a thread."""
        name, kind = phase
        if kind == ASYNC:
            return await getattr(self, name)(*args)
        if kind == SYNC and self.exec_in_thread:
            return await asyncio.to_thread(getattr(self, name), *args)
        return getattr(self, name)(*args)


BaseNode._plan = resolve_plan(BaseNode, {})
BaseNode._plain_copy = True
BaseNode._needs_loop = False


class _ConditionalTransition:
    __slots__ = ("action", "src")

    def __init__(self, src: BaseNode, action: str) -> None:
        self.src, self.action = src, action

    def __rshift__(self, tgt: BaseNode) -> BaseNode:
        return self.src.next(tgt, self.action)


class Node(BaseNode):
    """A node whose ``exec`` is retried: ``max_retries`` attempts, then ``exec_fallback``.

    Beyond PocketFlow's fixed ``wait``: ``backoff`` multiplies the wait after each failed attempt,
    ``max_wait`` caps it, ``jitter`` randomises it by ±that fraction, ``retry_on`` limits which
    exceptions are retried (others go straight to ``exec_fallback``), and ``timeout`` bounds each
    attempt of an ``exec`` run in an async flow (a timed-out attempt is a failed attempt).
    All of them can also be set as class attributes.
    """

    backoff: float = 1.0
    max_wait: float | None = None
    jitter: float = 0.0
    retry_on: tuple[type[BaseException], ...] = (Exception,)
    timeout: float | None = None
    cur_retry: int
    #: the class keeps Node's middle, so a visit may run the common exec inline (see _run_async)
    _exec_middle: ClassVar[bool] = True

    def __init__(
        self,
        max_retries: int = 1,
        wait: float = 0,
        *,
        backoff: float | None = None,
        max_wait: float | None = None,
        jitter: float | None = None,
        retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
        timeout: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        if not isinstance(max_retries, int) or max_retries < 1:
            raise ValueError(f"max_retries must be an int >= 1 (the number of attempts), got {max_retries!r}")
        if wait < 0:
            raise ValueError(f"wait must be >= 0 seconds, got {wait!r}")
        self.max_retries, self.wait = max_retries, wait
        # Only non-defaults become instance attributes, which keeps the per-visit copy small.
        if backoff is not None:
            if backoff < 1:
                raise ValueError(f"backoff must be >= 1, got {backoff!r}")
            self.backoff = backoff
        if max_wait is not None:
            if max_wait < 0:
                raise ValueError(f"max_wait must be >= 0 seconds, got {max_wait!r}")
            self.max_wait = max_wait
        if jitter is not None:
            if not 0 <= jitter <= 1:
                raise ValueError(f"jitter must be a fraction between 0 and 1, got {jitter!r}")
            self.jitter = jitter
        if retry_on is not None:
            self.retry_on = retry_on if isinstance(retry_on, tuple) else (retry_on,)
        if timeout is not None:
            if timeout <= 0:
                raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
            self.timeout = timeout

    @default_phase
    def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
        raise exc

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0-based) before the next one."""
        delay = self.wait * self.backoff**attempt
        if self.jitter:
            delay *= 1 + random.uniform(-self.jitter, self.jitter)
        if self.max_wait is not None:
            delay = min(delay, self.max_wait)
        return max(delay, 0.0)

    def _report_failure(self, exc: Exception, retry_delay: float | None) -> None:
        """Tell the run's hooks (if any) about a failed attempt: a retry, or the fallback (None)."""
        hooks = HOOKS.get()
        if hooks is not None:
            if retry_delay is None:
                hooks.on_fallback(node=self, path=PATH.get(), error=exc)
            else:
                hooks.on_retry(
                    node=self, path=PATH.get(), attempt=self.cur_retry, error=exc, delay=retry_delay
                )

    def _gives_up(self, exc: Exception) -> bool:
        return self.cur_retry >= self.max_retries - 1 or not isinstance(exc, self.retry_on)

    def _middle(self, shared: Any, prep_res: Any) -> Any:
        if self.timeout is not None:
            warnings.warn(
                f"{label(self)}: timeout is enforced only when the node runs on the event loop (run_async)",
                stacklevel=2,
            )
        for attempt in range(self.max_retries):
            self.cur_retry = attempt
            try:
                return self.exec(prep_res)
            except Exception as exc:
                if self._gives_up(exc):
                    self._report_failure(exc, None)
                    return self.exec_fallback(prep_res, exc)
                delay = self.retry_delay(self.cur_retry)
                self._report_failure(exc, delay)
                if delay > 0:
                    time.sleep(delay)
        raise ValueError(f"max_retries must be >= 1, got {self.max_retries!r}")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._exec_middle = cls._middle_async is Node._middle_async

    async def _run_async(self, shared: Any) -> Any:
        # The common visit (an async exec, one attempt, no timeout) awaits exec here rather than in
        # _middle_async: one coroutine frame less per step on the hot path. Same semantics.
        plan = self._active_plan()
        (prep, prep_kind), (exec_name, exec_kind), _, (post, post_kind) = plan
        p = getattr(self, prep)(shared)
        if prep_kind == ASYNC:
            p = await p
        if self._exec_middle and exec_kind == ASYNC and self.max_retries == 1 and self.timeout is None:
            self.cur_retry = 0
            try:
                e = await getattr(self, exec_name)(p)
            except Exception as exc:
                self._report_failure(exc, None)
                e = await self._call_async(plan.fallback, p, exc)
        else:
            e = await self._middle_async(shared, p, plan)
        r = getattr(self, post)(shared, p, e)
        if post_kind == ASYNC:
            r = await r
        return r

    async def _middle_async(self, shared: Any, prep_res: Any, plan: Plan) -> Any:
        """``exec`` with its retries (``shared`` is unused: exec gets only prep's result)."""
        exec_name, exec_kind = plan.exec
        if exec_kind == DEFAULT:  # the framework's no-op exec: nothing to call, nothing can fail
            self.cur_retry = 0
            return None
        for attempt in range(self.max_retries):
            self.cur_retry = attempt
            try:
                if self.timeout is not None:
                    return await self._attempt_with_timeout(plan.exec, prep_res, self.timeout)
                if exec_kind == ASYNC:  # the common case, awaited here to save a frame per item
                    return await getattr(self, exec_name)(prep_res)
                return await self._call_async(plan.exec, prep_res)
            except Exception as exc:
                if self._gives_up(exc):
                    self._report_failure(exc, None)
                    return await self._call_async(plan.fallback, prep_res, exc)
                delay = self.retry_delay(self.cur_retry)
                self._report_failure(exc, delay)
                if delay > 0:
                    await asyncio.sleep(delay)
        raise ValueError(f"max_retries must be >= 1, got {self.max_retries!r}")

    async def _attempt_with_timeout(self, phase: Phase, prep_res: Any, seconds: float) -> Any:
        try:
            async with asyncio.timeout(seconds) as scope:
                return await self._call_async(phase, prep_res)
        except TimeoutError as exc:
            if not scope.expired():
                raise  # the exec itself raised TimeoutError
            raise TimeoutError(
                f"{label(self)}: exec attempt {self.cur_retry + 1} timed out after {seconds}s"
            ) from exc

    def _exec_one_async(self, prep_res: Any, plan: Plan) -> Coroutine[Any, Any, Any]:
        """One batch item's exec with its retries (what a visit's middle is for a single node)."""
        return Node._middle_async(self, None, prep_res, plan)


class BatchNode(Node):
    """``prep`` returns a list of items; ``exec`` (with its retries) runs once per item, in order."""

    def _middle(self, shared: Any, items: Any) -> list[Any]:
        def exec_one(item: Any) -> Any:
            return Node._middle(self, shared, item)

        hooks = HOOKS.get()
        if hooks is not None:
            return batch_hooked(self, items or (), hooks, exec_one, flow=False)
        results = []
        for i, item in enumerate(items or ()):
            try:
                results.append(exec_one(item))
            except Exception as exc:
                add_path_segment(exc, describe_item(i, None))
                raise
        return results

    async def _middle_async(self, shared: Any, items: Any, plan: Plan) -> Any:
        hooks = HOOKS.get()
        if hooks is not None:
            return await batch_hooked_async(
                self, items or (), hooks, lambda item: self._exec_one_async(item, plan), flow=False
            )
        results = []
        for i, item in enumerate(items or ()):
            try:
                results.append(await self._exec_one_async(item, plan))
            except Exception as exc:
                add_path_segment(exc, describe_item(i, None))
                raise
        return results
