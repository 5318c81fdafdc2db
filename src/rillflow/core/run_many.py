"""Run one flow (or agent) over many inputs at once, with one concurrency bound, results in input order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from ..errors import Interrupt
from .fanout import check_concurrency, run_items
from .node import BaseNode
from .remote_runs import RemoteRuns


@dataclass(frozen=True)
class RunResult:
    """One input's run: its own ``shared`` dict, what the run returned, or the error it raised."""

    index: int
    shared: dict[str, Any]
    result: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """True when the run finished without an error."""
        return self.error is None


async def run_many(
    flow: BaseNode,
    inputs: Iterable[Mapping[str, Any]],
    *,
    max_concurrency: int | None = None,
    executor: Executor | None = None,
    **options: Any,
) -> list[RunResult]:
    """Run ``flow`` once per input, at most ``max_concurrency`` at a time (None: all at once).

    Each run gets its own ``shared``: a (shallow) copy of its input dict. Results come back in input
    order; an exception (or an unanswered :class:`~rillflow.Interrupt`) in one run is kept in its
    result's ``error`` and does not stop the others. ``options`` are passed to every ``run_async``
    (``hooks``, ``listeners``). With an ``executor`` each run goes to it whole (docs/scale.md).
    """
    check_concurrency(max_concurrency)
    runs = list(enumerate(dict(item) for item in inputs))
    remote = RemoteRuns(executor, flow, options) if executor is not None else None

    async def run_one(run: tuple[int, dict[str, Any]]) -> RunResult:
        index, shared = run
        try:
            if remote is not None:
                return RunResult(index, shared, await remote.run(shared, index))
            return RunResult(index, shared, await flow.run_async(shared, **options))
        except (Exception, Interrupt) as exc:
            return RunResult(index, shared, error=exc)

    return await run_items(runs, run_one, max_concurrency=max_concurrency, fail_fast=True)
