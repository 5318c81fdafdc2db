"""The kernel: nodes, flows, their async and batch forms, and the machinery that runs them.

Layers, each importing only those above it in this list (a test checks it):

1. ``context`` (run context variables, ``emit``), ``graph`` (naming, copying, listing nodes), ``bridge``
   (sync/async), ``phases`` (which method serves each phase), ``travel`` (pickling for executors) — leaves;
2. ``hooks`` (observing and steering interfaces), ``extensions`` (features by name);
3. ``walk`` (hooked loops), ``fanout`` (bounded concurrency), ``runner`` and ``stream`` (the way into a
   run), ``remote_*`` (batch items and runs on any ``concurrent.futures.Executor``);
4. ``node``, then ``flow``, ``graph_model``, ``async_nodes``, ``remote_runs``, then ``run_many``.
"""

from .async_nodes import (
    AsyncBatchFlow,
    AsyncBatchNode,
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchFlow,
    AsyncParallelBatchNode,
    BatchAsyncFlow,
)
from .flow import BatchFlow, Flow
from .node import BaseNode, BatchNode, Node
from .run_many import RunResult, run_many

__all__ = [
    "AsyncBatchFlow",
    "AsyncBatchNode",
    "AsyncFlow",
    "AsyncNode",
    "AsyncParallelBatchFlow",
    "AsyncParallelBatchNode",
    "BaseNode",
    "BatchAsyncFlow",
    "BatchFlow",
    "BatchNode",
    "Flow",
    "Node",
    "RunResult",
    "run_many",
]
