"""``UsageMeter``: run hooks that add up what LLM calls and tool calls use, and enforce a budget.

The LLM layer reports each call through ``emit`` (see :mod:`rillflow.llm.calls`); the meter adds them
up three ways: everything it watched (:attr:`UsageMeter.totals`, summed over nested flows, batches,
``run_many`` and successive runs), per node path (:attr:`UsageMeter.by_node`), and per top-level run
(a ContextVar set at the run's start, so concurrent runs of ``run_many`` each have their own). The
per-run totals are what the budget limits, what a durable run keeps in its record (and resumes from),
and what the run reports at its end as a ``"usage"`` event (for listeners and ``stream_async``; only
when it made LLM or tool calls).

This is the one RunHooks subclass of the feature; everything else is plain functions and data.
"""

from __future__ import annotations

import copy
import threading
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, TextIO

from ..core.context import Path, current_hooks, emit
from ..core.hooks import MultiHooks, RunHooks
from ..durable.recorder import DurableHooks
from ..llm.calls import LLM_CALL, LLM_START, TOOL_CALL, LLMCall, ToolRun
from .budget import Budget
from .totals import Prices, Totals, price_of

USAGE = "usage"  # the kind of the event a run emits at its end, and the name of its durable record


@dataclass
class _Run:
    totals: Totals
    durable: DurableHooks | None
    token: Token[_Run | None] | None = None


_RUN: ContextVar[_Run | None] = ContextVar("rillflow_usage_run", default=None)


class UsageMeter(RunHooks):
    """Counts LLM calls, tokens, cost and tool calls of the runs it is attached to, and stops a run
    that reaches a limit::

        meter = UsageMeter(prices={"gpt-4o-mini": Price(0.15, 0.60)}, max_llm_calls=20)
        flow.run(shared, hooks=[meter])
        print(meter.totals.summary())

    Limits (``max_llm_calls``, ``max_tokens``, ``max_cost``) apply to each top-level run separately
    (each run of ``run_many`` has its own), and are checked before every LLM call: a run at a limit
    raises :class:`~rillflow.usage.BudgetExceeded` there, naming the limit and the node.
    """

    def __init__(
        self,
        *,
        prices: Prices | None = None,
        max_llm_calls: int | None = None,
        max_tokens: int | None = None,
        max_cost: float | None = None,
        budget: Budget | None = None,
    ) -> None:
        if budget is not None and (max_llm_calls, max_tokens, max_cost) != (None, None, None):
            raise ValueError("give either budget= or the max_* limits, not both")
        self.budget = budget or Budget(max_llm_calls, max_tokens, max_cost)
        if self.budget.max_cost is not None and prices is None:
            raise ValueError("max_cost needs prices= (model name -> Price), or every call costs 0")
        self.prices = prices
        self.totals = Totals()
        self.by_node: dict[Path, Totals] = {}  # node path (batch items merged) -> its calls
        self._by_path: dict[Path, Totals] = {}  # exact path (items included) -> its node's totals
        self.runs = 0
        self._lock = threading.Lock()  # a sync exec in a worker thread reports from that thread

    # --- runs ---------------------------------------------------------------------------------------
    def on_run_start(self, **_: Any) -> None:
        durable = _find_durable(current_hooks())
        run = _Run(Totals(), durable)
        if durable is not None:
            stored = durable.extra(USAGE)
            if stored is not None:  # a resume: the run goes on counting from what it had used
                run.totals = Totals.from_json(stored)
            durable.set_extra(USAGE, run.totals.to_json(), run.totals)
        run.token = _RUN.set(run)
        with self._lock:
            self.runs += 1

    def on_run_end(self, **_: Any) -> None:
        run = _RUN.get()
        if run is None:
            return
        if run.totals.llm_calls or run.totals.tool_calls:  # a run that called nothing has nothing to say
            emit(USAGE, copy.copy(run.totals))
        if run.token is not None:
            try:
                _RUN.reset(run.token)
            except ValueError:  # ended in another context than it started in: just forget the run
                _RUN.set(None)

    def run_totals(self) -> Totals | None:
        """The totals of the run the calling code is part of (None outside a watched run)."""
        run = _RUN.get()
        return None if run is None else run.totals

    # --- calls --------------------------------------------------------------------------------------
    def on_emit(self, *, path: Path, kind: str, data: Any, **_: Any) -> None:
        if kind == LLM_START:
            if self.budget.active:
                run = _RUN.get()
                used = run.totals if run is not None else self.totals
                with self._lock:
                    snapshot = copy.copy(used)
                self.budget.check(snapshot, path)
        elif kind == LLM_CALL and isinstance(data, LLMCall):
            cost, unpriced = price_of(data, self.prices)
            run = _RUN.get()
            with self._lock:
                for totals in self._targets(path, run):
                    totals.add_call(data, cost, unpriced)
                self._keep(run)
        elif kind == TOOL_CALL and isinstance(data, ToolRun):
            run = _RUN.get()
            with self._lock:
                for totals in self._targets(path, run):
                    totals.add_tool(data)
                self._keep(run)

    def _targets(self, path: Path, run: _Run | None) -> tuple[Totals, ...]:
        """The totals a call adds to: the meter's, its node's and its run's."""
        node = self._by_path.get(path)
        if node is None:
            key = _node_key(path)
            node = self.by_node.get(key)
            if node is None:
                node = self.by_node[key] = Totals()
            self._by_path[path] = node
        return (self.totals, node) if run is None else (self.totals, node, run.totals)

    def _keep(self, run: _Run | None) -> None:
        """A durable run keeps its totals in its record (saved with its next step)."""
        if run is not None and run.durable is not None:
            run.durable.set_extra(USAGE, run.totals.to_json(), run.totals)

    def print_report(self, file: TextIO) -> None:
        """Print :meth:`report` to ``file`` when the meter saw any LLM or tool call (the ``rillflow``
        command does, on standard error)."""
        if self.totals.llm_calls or self.totals.tool_calls:
            print(self.report(), file=file)

    def report(self) -> str:
        """The totals and a line per node that made calls (paths of concurrent runs are merged)."""
        lines = [f"usage: {self.totals.summary()}"]
        for path, totals in sorted(self.by_node.items()):
            lines.append(f"  {' > '.join(path) or '(outside a flow)'}: {totals.summary()}")
        return "\n".join(lines)


def _node_key(path: Path) -> Path:
    """The path without batch item segments (``#3``): items of one batch node add up together."""
    return tuple(p for p in path if not p.startswith("#")) if "#" in "".join(path) else path


def _find_durable(hooks: RunHooks | None) -> DurableHooks | None:
    if isinstance(hooks, DurableHooks):
        return hooks
    if isinstance(hooks, MultiHooks):
        for inner in hooks.hooks:
            found = _find_durable(inner)
            if found is not None:
                return found
    return None
