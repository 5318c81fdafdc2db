"""``run_many`` on an executor: each whole flow run, with its own ``shared``, goes to a worker."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

from .graph import label
from .node import BaseNode
from .remote_worker import run_flow
from .travel import loads, pack


class RemoteRuns:
    """Sends runs of one flow (packed once) with the same options to ``executor``."""

    def __init__(self, executor: Executor, flow: BaseNode, options: Mapping[str, Any]) -> None:
        self.executor, self.name = executor, label(flow)
        self.flow_blob = pack(flow, self.name, "the flow")
        self.options_blob = pack(dict(options), self.name, "the run options")

    async def run(self, shared: dict[str, Any], index: int) -> Any:
        """Run the flow on a worker; ``shared`` is updated in place with the worker's, as in a local run."""
        shared_blob = pack(shared, self.name, f"the shared dict of input {index}")
        future = self.executor.submit(run_flow, self.flow_blob, shared_blob, self.options_blob)
        ok, blob = await asyncio.wrap_future(future)
        value = loads(blob)
        if not ok:
            error, after = value if isinstance(value, tuple) else (value, None)
            if after is not None:
                _replace(shared, after)
            raise error
        after, result = value
        _replace(shared, after)
        return result


def _replace(shared: dict[str, Any], after: dict[str, Any]) -> None:
    shared.clear()
    shared.update(after)
