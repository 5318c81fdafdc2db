"""rillflow: PocketFlow-compatible LLM workflows, made production-grade.

``import rillflow as pocketflow`` runs PocketFlow programs unchanged. The core imports nothing outside
the standard library; LLM, tracing and other integrations live in optional subpackages.
"""

from ._async import (
    AsyncBatchFlow,
    AsyncBatchNode,
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchFlow,
    AsyncParallelBatchNode,
)
from ._flow import BatchFlow, Flow
from ._node import BaseNode, BatchNode, Node
from .errors import (
    AsyncNodeInSyncFlowError,
    FlowError,
    Interrupt,
    MaxStepsExceeded,
    MissingSuccessorError,
    node_path,
)

__all__ = [
    "AsyncBatchFlow",
    "AsyncBatchNode",
    "AsyncFlow",
    "AsyncNode",
    "AsyncNodeInSyncFlowError",
    "AsyncParallelBatchFlow",
    "AsyncParallelBatchNode",
    "BaseNode",
    "BatchFlow",
    "BatchNode",
    "Flow",
    "FlowError",
    "Interrupt",
    "MaxStepsExceeded",
    "MissingSuccessorError",
    "Node",
    "node_path",
]
__version__ = "0.1.0"
