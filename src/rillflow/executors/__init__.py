"""Run batch items and whole runs on any ``concurrent.futures.Executor``: processes, Dask, Ray.

``AsyncParallelBatchNode(executor=...)`` sends each item's ``exec`` to the executor;
``run_many(flow, inputs, executor=...)`` sends each whole run. :class:`DaskExecutor` (extra
``rillflow[dask]``) connects to a Dask scheduler or starts a local cluster. See docs/scale.md.
"""

from ..core.travel import CannotTravelError
from .dask import DaskExecutor

__all__ = ["CannotTravelError", "DaskExecutor"]
