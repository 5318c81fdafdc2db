"""``DaskExecutor``: a Dask cluster as a ``concurrent.futures.Executor`` (extra ``rillflow[dask]``)."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future
from types import TracebackType
from typing import Any, Self

_INSTALL = "DaskExecutor needs Dask: pip install 'rillflow[dask]'"


class DaskExecutor(Executor):
    """Runs submitted calls on a Dask cluster.

    With an ``address`` (``"tcp://scheduler:8786"``) it connects to that scheduler and leaves the cluster
    running when closed. Without one it starts a ``LocalCluster`` of ``n_workers`` worker processes with
    ``threads_per_worker`` threads each (CPU-bound Python wants one thread per process), and stops it when
    closed. Use it as a context manager, or call :meth:`shutdown`. ``client`` is the ``distributed.Client``.
    Every call is a new task (``pure=False``): two items that are equal still both run.

    The local workers' statistical profiler is off unless ``profile=True``: it samples the task's thread
    every 10 ms, holding the GIL, which made pure-Python items up to 2-3x slower on this machine.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        threads_per_worker: int = 1,
        profile: bool = False,
        **cluster_options: Any,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ImportError(_INSTALL) from exc
        self.cluster: Any = None
        if address is None:
            options: dict[str, Any] = {"dashboard_address": None, "host": "127.0.0.1", **cluster_options}
            if not profile:
                options.setdefault("config", _without_profiler())
            self.cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True, **options
            )
            self.client: Any = Client(self.cluster)  # type: ignore[no-untyped-call]
        else:
            if n_workers is not None or cluster_options:
                raise ValueError(
                    "n_workers and cluster options apply only when DaskExecutor starts a cluster"
                )
            self.client = Client(address)  # type: ignore[no-untyped-call]
        self._executor: Executor = self.client.get_executor(pure=False)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._executor.submit(fn, *args, **kwargs)

    def worker_pids(self) -> dict[str, int]:
        """Each worker's address and process id (to watch the workers, or to test a lost worker)."""

        return dict(self.client.run(os.getpid))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()


def _without_profiler() -> dict[str, Any]:
    """The workers' config: this process's, with the profiler off (Dask merges it one level deep only)."""
    import dask.config

    distributed = copy.deepcopy(dask.config.get("distributed"))
    dask.config.update(distributed, {"worker": {"profile": {"enabled": False}}})
    return {"distributed": distributed}
