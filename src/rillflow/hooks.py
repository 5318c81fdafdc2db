"""Writing run hooks: the public face of the kernel's hook interface (see docs/core.md).

Subclass :class:`RunHooks` to observe a run (every method takes keyword arguments and ends with ``**_``,
so new fields never break your hooks); call :func:`emit` inside a node to report progress or streamed
text to listeners.
"""

from .core.context import Path, at_path, current_hooks, current_path, emit
from .core.graph import graph_nodes, label
from .core.hooks import HOOK_METHODS, MultiHooks, ResumePoint, ResumeSource, RunHooks, combine

__all__ = [
    "HOOK_METHODS",
    "MultiHooks",
    "Path",
    "ResumePoint",
    "ResumeSource",
    "RunHooks",
    "at_path",
    "combine",
    "current_hooks",
    "current_path",
    "emit",
    "graph_nodes",
    "label",
]
