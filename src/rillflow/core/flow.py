"""Flows: follow actions from node to node, each visit on a fresh shallow copy of the node."""

from __future__ import annotations

import warnings
from typing import Any, NoReturn

from ..errors import FlowError, MaxStepsExceeded, MissingSuccessorError, add_path_segment, describe_item
from .context import HOOKS
from .graph import label, visit_copy
from .node import BaseNode, raise_needs_loop
from .phases import Plan, default_phase
from .walk import batch_hooked, batch_hooked_async, orch_hooked, orch_hooked_async


class Flow(BaseNode):
    """Runs ``start_node`` and then whichever successor each node's action names, until none does.

    ``max_steps`` (off by default) stops a runaway loop with :class:`MaxStepsExceeded`; ``strict=True``
    turns "no successor for this action" from a warning into :class:`MissingSuccessorError`.
    A flow has no ``exec``: its ``post`` gets the last action and returns it, so nested flows route.
    """

    max_steps: int | None = None
    strict: bool = False

    def __init__(
        self,
        start: BaseNode | None = None,
        *,
        max_steps: int | None = None,
        strict: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        if start is not None and not isinstance(start, BaseNode):
            raise TypeError(f"a flow's start must be a node, got {type(start).__name__}")
        self.start_node = start
        if max_steps is not None:
            if not isinstance(max_steps, int) or max_steps < 1:
                raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
            self.max_steps = max_steps
        if strict:
            self.strict = True

    def start(self, start: BaseNode) -> BaseNode:
        self.start_node = start
        return start

    @default_phase
    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return exec_res

    def get_next_node(self, curr: BaseNode, action: Any) -> BaseNode | None:
        try:
            nxt = curr.successors.get(action or "default")
        except TypeError:  # an unhashable action: checked only here, so the common path pays nothing
            raise TypeError(
                f"{label(curr)} returned {action!r} as its action: an action must be a string "
                "(or None for the default successor)"
            ) from None
        if nxt is None and curr.successors:
            if self.strict:
                raise MissingSuccessorError(
                    f"{label(curr)} returned action {action!r}, which is not among its successors "
                    f"{list(curr.successors)} (strict flow {label(self)})"
                )
            warnings.warn(f"Flow ends: '{action}' not found in {list(curr.successors)}", stacklevel=3)
        return nxt

    def _check_steps(self, steps: int, node: BaseNode) -> None:
        if self.max_steps is not None and steps > self.max_steps:
            raise MaxStepsExceeded(
                f"{label(self)} stopped before running {label(node)}: max_steps={self.max_steps} reached "
                "(a loop that never exits?)"
            )

    def _no_start(self) -> NoReturn:
        raise FlowError(
            f"flow {label(self)} has no start node: give it one with {type(self).__name__}(start=node) "
            "or flow.start(node)"
        )

    def _orch(self, shared: Any, params: dict[str, Any] | None = None) -> Any:
        if self.start_node is None:
            self._no_start()
        hooks = HOOKS.get()  # once per flow run: with no hooks attached, the plain loop below
        if hooks is not None:
            return orch_hooked(self, shared, params, hooks)
        curr, p, last_action, steps = visit_copy(self.start_node), (params or {**self.params}), None, 0
        check_steps = self.max_steps is not None
        while curr is not None:
            if check_steps:
                steps += 1
                self._check_steps(steps, curr)
            curr.set_params({**p})  # each node gets its own dict: writes to self.params stay local
            try:
                last_action = curr._run(shared)
            except Exception as exc:
                add_path_segment(exc, label(curr))
                raise
            curr = visit_copy(self.get_next_node(curr, last_action))
        return last_action

    async def _orch_async(self, shared: Any, params: dict[str, Any] | None = None) -> Any:
        if self.start_node is None:
            self._no_start()
        hooks = HOOKS.get()
        if hooks is not None:
            return await orch_hooked_async(self, shared, params, hooks)
        curr, p, last_action, steps = visit_copy(self.start_node), (params or {**self.params}), None, 0
        check_steps = self.max_steps is not None
        while curr is not None:
            if check_steps:
                steps += 1
                self._check_steps(steps, curr)
            curr.set_params({**p})
            try:
                last_action = await curr._run_async(shared)
            except Exception as exc:
                add_path_segment(exc, label(curr))
                raise
            curr = visit_copy(self.get_next_node(curr, last_action))
        return last_action

    def _middle(self, shared: Any, prep_res: Any) -> Any:
        return self._orch(shared)

    async def _middle_async(self, shared: Any, prep_res: Any, plan: Plan) -> Any:
        return await self._orch_async(shared)


class BatchFlow(Flow):
    """Runs the whole flow once per item of ``prep``'s list, with params ``{**flow.params, **item}``."""

    @staticmethod
    def _prep_value(prep_res: Any) -> Any:
        return prep_res or []

    def _run(self, shared: Any) -> Any:
        if self._needs_loop:
            raise_needs_loop(self)
        items = self._prep_value(self.prep(shared))
        self._middle(shared, items)
        return self.post(shared, items, None)

    async def _run_async(self, shared: Any) -> Any:
        plan = self._active_plan()
        items = self._prep_value(await self._call_inline(plan.prep, shared))
        await self._middle_async(shared, items, plan)
        return await self._call_inline(plan.post, shared, items, None)

    def _middle(self, shared: Any, items: Any) -> None:
        hooks = HOOKS.get()
        if hooks is not None:
            batch_hooked(self, items, hooks, lambda bp: self._orch(shared, {**self.params, **bp}), flow=True)
            return
        for i, item_params in enumerate(items):
            try:
                self._orch(shared, {**self.params, **item_params})
            except Exception as exc:
                add_path_segment(exc, describe_item(i, None, item_params))
                raise

    async def _middle_async(self, shared: Any, items: Any, plan: Plan) -> None:
        hooks = HOOKS.get()
        if hooks is not None:
            await batch_hooked_async(
                self, items, hooks, lambda bp: self._orch_async(shared, {**self.params, **bp}), flow=True
            )
            return
        for i, item_params in enumerate(items):
            try:
                await self._orch_async(shared, {**self.params, **item_params})
            except Exception as exc:
                add_path_segment(exc, describe_item(i, None, item_params))
                raise
