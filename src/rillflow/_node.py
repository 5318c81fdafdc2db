"""Nodes: the prep -> exec -> post unit of work, its retry policy, and its batch form.

A node's phases may each be sync or ``async def`` under either spelling (``exec`` or ``exec_async``).
Which method serves each phase is worked out once per class (``_plan``), so running a node costs the same
as in PocketFlow; only nodes with instance-level method overrides pay for a second look.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import random
import time
import warnings
from typing import Any, ClassVar, NoReturn

from .errors import AsyncNodeInSyncFlowError, Interrupt, add_path_segment, describe_item
from .hooks import _HOOKS, _PATH

# How a phase is served: the base class's no-op default, a user's sync method, or a user's coroutine.
DEFAULT, SYNC, ASYNC = 0, 1, 2
PHASES = ("prep", "exec", "exec_fallback", "post")
_PHASE_ATTRS = frozenset(PHASES + tuple(f"{p}_async" for p in PHASES))
# Methods defined in these modules are the framework's defaults, not a user's override.
_CORE_MODULES = frozenset({"rillflow._node", "rillflow._flow", "rillflow._async"})

Phase = tuple[str, int]
Plan = tuple[Phase, Phase, Phase, Phase]  # prep, exec, exec_fallback, post


def _resolve_phase(cls: type, instance_dict: dict[str, Any], phase: str) -> Phase:
    names = (f"{phase}_async", phase)  # the async spelling wins, as in PocketFlow's AsyncNode
    for name in names:
        if name in instance_dict:
            return name, ASYNC if inspect.iscoroutinefunction(instance_dict[name]) else SYNC
    for name in names:
        owner = next((k for k in cls.__mro__ if name in k.__dict__), None)
        if owner is not None and owner.__module__ not in _CORE_MODULES:
            return name, ASYNC if inspect.iscoroutinefunction(getattr(cls, name)) else SYNC
    return phase, DEFAULT


def resolve_plan(cls: type, instance_dict: dict[str, Any]) -> Plan:
    prep, exec_, fallback, post = (_resolve_phase(cls, instance_dict, p) for p in PHASES)
    return prep, exec_, fallback, post


def _copies_plainly(cls: type) -> bool:
    """True when ``copy.copy`` of an instance is just a new object with the same ``__dict__``."""
    if hasattr(cls, "__copy__") or any("__slots__" in k.__dict__ for k in cls.__mro__):
        return False
    hooks = ("__reduce_ex__", "__reduce__", "__getstate__", "__setstate__")
    return all(getattr(cls, h, None) is getattr(object, h, None) for h in hooks)


def visit_copy(node: BaseNode | None) -> Any:
    """The shallow copy a flow runs for each visit (``copy.copy`` semantics, about 5x cheaper)."""
    if node is None:
        return None
    cls = node.__class__
    if cls._plain_copy:
        new = cls.__new__(cls)
        new.__dict__.update(node.__dict__)
        return new
    return copy.copy(node)


def label(node: BaseNode) -> str:
    """How errors, events and diagrams name a node: its ``name``, else its class name."""
    return node.name or type(node).__name__


def raise_needs_loop(node: BaseNode) -> NoReturn:
    raise AsyncNodeInSyncFlowError(
        f"{label(node)} is async and cannot run inside a sync Flow; "
        "use AsyncFlow and `await flow.run_async(shared)` (or AsyncFlow.run(shared))"
    )


class BaseNode:
    """A step with ``prep(shared) -> exec(prep_res) -> post(shared, prep_res, exec_res)``.

    ``post`` returns the action that picks the next node (``None`` means ``"default"``).
    """

    name: str | None = None
    #: Inside an async flow, a sync ``exec`` runs in a worker thread; set False to run it on the loop.
    exec_in_thread: bool = True
    _plan: ClassVar[Plan]
    _plain_copy: ClassVar[bool]
    _needs_loop: ClassVar[bool]

    def __init__(self, *, name: str | None = None) -> None:
        self.params: dict[str, Any] = {}
        self.successors: dict[str, BaseNode] = {}
        if name is not None:
            self.name = name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plan = resolve_plan(cls, {})
        cls._plain_copy = _copies_plainly(cls)
        cls._needs_loop = any(kind == ASYNC for _, kind in cls._plan)

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
    def prep(self, shared: Any) -> Any:
        return None

    def exec(self, prep_res: Any) -> Any:
        return None

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return None

    # --- running --------------------------------------------------------------------------------
    def run(self, shared: Any, **options: Any) -> Any:
        """Run this node (a flow: the whole graph). Options: ``hooks``, ``listeners``, and for durable
        runs ``run_id``, ``checkpointer``, ``durability``, ``serializer`` (see the docs)."""
        if options:
            from ._options import run_with_options

            return run_with_options(self, shared, options)
        return self._run_top(shared)

    async def run_async(self, shared: Any, **options: Any) -> Any:
        """Run on the event loop (a sync ``exec`` runs in a worker thread). Options as for ``run``."""
        if options:
            from ._options import run_with_options_async

            return await run_with_options_async(self, shared, options)
        return await self._run_top_async(shared)

    def resume(self, run_id: str, answer: Any = None, **options: Any) -> Any:
        """Continue a durable run (after a crash or a pause); ``answer`` goes to the paused node."""
        from ._options import resume_with_options

        return resume_with_options(self, run_id, answer, options)

    async def resume_async(self, run_id: str, answer: Any = None, **options: Any) -> Any:
        from ._options import resume_with_options_async

        return await resume_with_options_async(self, run_id, answer, options)

    def stream_async(self, shared: Any, **options: Any) -> Any:
        """``async for event in flow.stream_async(shared)``: the run's events as they happen."""
        from ._options import feature

        return feature("rillflow.events", "stream_async").stream_async(self, shared, **options)

    def interrupt(self, payload: Any = None) -> Any:
        """Pause the run for a human decision; on resume, returns the answer given to ``resume``."""
        hooks = _HOOKS.get()
        if hooks is not None:
            found, answer = hooks.take_answer(_PATH.get())
            if found:
                return answer
        raise Interrupt(payload, _PATH.get())

    def _run_top(self, shared: Any) -> Any:
        if self.successors:
            warnings.warn("Node won't run successors. Use Flow.", stacklevel=3)
        try:
            return self._run(shared)
        except Exception as exc:
            add_path_segment(exc, label(self))
            raise

    async def _run_top_async(self, shared: Any) -> Any:
        if self.successors:
            warnings.warn("Node won't run successors. Use AsyncFlow.", stacklevel=3)
        try:
            return await self._run_async(shared)
        except Exception as exc:
            add_path_segment(exc, label(self))
            raise

    def _exec(self, prep_res: Any) -> Any:
        return self.exec(prep_res)

    def _run(self, shared: Any) -> Any:
        if self._needs_loop:
            raise_needs_loop(self)
        p = self.prep(shared)
        e = self._exec(p)
        return self.post(shared, p, e)

    def _active_plan(self) -> Plan:
        if _PHASE_ATTRS.isdisjoint(self.__dict__):
            return self._plan
        return resolve_plan(type(self), self.__dict__)

    async def _run_async(self, shared: Any) -> Any:
        plan = self._active_plan()
        (prep, prep_kind), _, _, (post, post_kind) = plan
        p = getattr(self, prep)(shared)
        if prep_kind == ASYNC:
            p = await p
        e = await self._exec_stage_async(p, plan)
        r = getattr(self, post)(shared, p, e)
        if post_kind == ASYNC:
            r = await r
        return r

    async def _exec_stage_async(self, prep_res: Any, plan: Plan) -> Any:
        return await self._call_async(plan[1], prep_res)

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
        hooks = _HOOKS.get()
        if hooks is not None:
            if retry_delay is None:
                hooks.on_fallback(self, _PATH.get(), exc)
            else:
                hooks.on_retry(self, _PATH.get(), self.cur_retry, exc, retry_delay)

    def _gives_up(self, exc: Exception) -> bool:
        return self.cur_retry >= self.max_retries - 1 or not isinstance(exc, self.retry_on)

    def _exec(self, prep_res: Any) -> Any:
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

    async def _exec_one_async(self, prep_res: Any, plan: Plan) -> Any:
        exec_name, exec_kind = plan[1]
        for attempt in range(self.max_retries):
            self.cur_retry = attempt
            try:
                if self.timeout is not None:
                    return await self._attempt_with_timeout(plan[1], prep_res, self.timeout)
                if exec_kind == ASYNC:  # the common case, awaited here to save a frame per item
                    return await getattr(self, exec_name)(prep_res)
                return await self._call_async(plan[1], prep_res)
            except Exception as exc:
                if self._gives_up(exc):
                    self._report_failure(exc, None)
                    return await self._call_async(plan[2], prep_res, exc)
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

    async def _exec_stage_async(self, prep_res: Any, plan: Plan) -> Any:
        return await self._exec_one_async(prep_res, plan)


class BatchNode(Node):
    """``prep`` returns a list of items; ``exec`` (with its retries) runs once per item, in order."""

    def _exec(self, items: Any) -> list[Any]:
        exec_one = super()._exec
        hooks = _HOOKS.get()
        if hooks is not None:
            from ._walk import batch_hooked

            return batch_hooked(self, items or (), hooks, exec_one, flow=False)
        results = []
        for i, item in enumerate(items or ()):
            try:
                results.append(exec_one(item))
            except Exception as exc:
                add_path_segment(exc, describe_item(i, None))
                raise
        return results

    async def _exec_stage_async(self, items: Any, plan: Plan) -> Any:
        hooks = _HOOKS.get()
        if hooks is not None:
            from ._walk import batch_hooked_async

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
