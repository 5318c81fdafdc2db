"""rillflow: PocketFlow-compatible LLM workflows, made production-grade.

``import rillflow as pocketflow`` runs PocketFlow programs unchanged. The kernel (``rillflow.core``)
imports nothing outside the standard library; LLM, durable runs, observability and other features live in
their own packages above it and are loaded only when used.
"""

from .core import (
    AsyncBatchFlow,
    AsyncBatchNode,
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchFlow,
    AsyncParallelBatchNode,
    BaseNode,
    BatchAsyncFlow,
    BatchFlow,
    BatchNode,
    Flow,
    Node,
    RunResult,
    run_many,
)
from .core.extensions import provide
from .errors import (
    AsyncNodeInSyncFlowError,
    FlowError,
    Interrupt,
    MaxStepsExceeded,
    MissingSuccessorError,
    node_path,
)

# Where the features behind run options live; each is imported by the first run that uses it.
provide("listeners", "rillflow.observe.listeners", "listener_hooks", "listeners=")
provide("durable", "rillflow.durable.session", "Session", "a durable run (run_id=, checkpointer=...)")
provide("fork", "rillflow.durable", "fork", "flow.fork")
provide("fork_async", "rillflow.durable", "fork_async", "flow.fork_async")

__all__ = [
    "AsyncBatchFlow",
    "AsyncBatchNode",
    "AsyncFlow",
    "AsyncNode",
    "AsyncNodeInSyncFlowError",
    "AsyncParallelBatchFlow",
    "AsyncParallelBatchNode",
    "BaseNode",
    "BatchAsyncFlow",
    "BatchFlow",
    "BatchNode",
    "Flow",
    "FlowError",
    "Interrupt",
    "MaxStepsExceeded",
    "MissingSuccessorError",
    "Node",
    "RunResult",
    "node_path",
    "run_many",
]
__version__ = "0.2.1"
