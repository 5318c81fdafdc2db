"""Extension points: features that take run options, registered by name and loaded when a run needs them.

The kernel never imports a feature. The package (``rillflow/__init__.py``) registers where each feature
lives; a run that passes ``listeners=`` or a durable option loads it then, so a run without them, and
``import rillflow``, pay nothing for features they do not use.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from .hooks import ResumeSource, RunHooks


class DurableSession(Protocol):
    """One durable run as the runner drives it (see ``rillflow.durable``)."""

    #: set when there is nothing to run (resuming a finished run): returned as the run's outcome
    outcome: Any
    shared: Any
    hooks: RunHooks
    source: ResumeSource | None

    def done(self, result: Any) -> Any:
        """The run returned ``result``: save it and return the run's outcome."""

    def stop(self, exc: BaseException) -> Any:
        """The run raised ``exc`` (being handled): save it; re-raise it or return a paused outcome."""

    def close(self) -> None:
        """The run is over, whatever its outcome: release what it holds."""

    # The async face (async runs): the same, without blocking the event loop on checkpoint I/O.
    async def done_async(self, result: Any) -> Any: ...

    async def stop_async(self, exc: BaseException) -> Any: ...

    async def close_async(self) -> None: ...


_PROVIDERS: dict[str, tuple[str, str, str]] = {}


def provide(name: str, module: str, attribute: str, what: str) -> None:
    """Register ``module.attribute`` as the feature ``name`` (``what`` names it in errors)."""
    _PROVIDERS[name] = (module, attribute, what)


def load(name: str) -> Any:
    """The registered feature ``name``, imported on first use."""
    try:
        module, attribute, what = _PROVIDERS[name]
    except KeyError:
        raise ImportError(
            f"no rillflow feature provides {name!r}; is the rillflow package complete?"
        ) from None
    try:
        return getattr(importlib.import_module(module), attribute)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise ImportError(f"{what} needs the {module} module, which is not available") from exc
        raise
