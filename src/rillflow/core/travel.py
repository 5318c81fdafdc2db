"""How values travel to an executor's workers and back: cloudpickle when installed, else pickle.

cloudpickle sends lambdas, closures and classes defined in ``__main__`` by value, so a script's own node
classes run on workers that never imported the script. Without it the standard ``pickle`` sends them by
reference, which a fresh worker cannot resolve; the errors say so. Executors met on the way (a node that
holds the executor it runs on) are sent as None: an executor never travels to its own workers.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from ..errors import FlowError

_INSTALL = "pip install 'rillflow[dask]' (it brings cloudpickle, which sends them by value)"


class CannotTravelError(FlowError, TypeError):
    """A node, item, input or result could not be sent to (or back from) an executor's worker."""


def _no_executor() -> None:
    return None


def _pickler_class() -> type[pickle.Pickler]:
    try:
        import cloudpickle  # type: ignore[import-untyped]
    except ImportError:
        base: type[pickle.Pickler] = pickle.Pickler
    else:
        base = cloudpickle.Pickler

    class TravelPickler(base):  # type: ignore[valid-type,misc]
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, Executor):
                return _no_executor, ()
            parent = getattr(super(), "reducer_override", None)
            return NotImplemented if parent is None else parent(obj)

    return TravelPickler


_PICKLER: type[pickle.Pickler] | None = None


def has_cloudpickle() -> bool:
    try:
        import cloudpickle  # noqa: F401
    except ImportError:
        return False
    return True


def dumps(value: Any) -> bytes:
    """``value`` as bytes for a worker (cloudpickle if installed, else pickle)."""
    global _PICKLER
    if _PICKLER is None:
        _PICKLER = _pickler_class()
    buffer = io.BytesIO()
    _PICKLER(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def loads(data: bytes) -> Any:
    return pickle.loads(data)


def pack(value: Any, owner: str, what: str | Callable[[], str]) -> bytes:
    """``dumps(value)``, or a :class:`CannotTravelError` naming ``owner``, ``what`` (a callable is called
    only on failure, so describing a big item costs nothing on success) and the culprit."""
    try:
        return dumps(value)
    except Exception as exc:
        named = what if isinstance(what, str) else what()
        raise CannotTravelError(
            f"{owner}: {named} cannot be sent to the executor: {_culprit(value)} cannot be pickled ({exc}); "
            + _advice()
        ) from exc


def _advice() -> str:
    if not has_cloudpickle():
        return f"to send lambdas and classes defined in __main__, {_INSTALL}"
    return "create such a value inside exec (or keep it in a module-level cache) instead of sending it"


def _culprit(value: Any) -> str:
    """The part of ``value`` that does not pickle: an attribute or key when one can be named."""
    fields = vars(value) if hasattr(value, "__dict__") and not isinstance(value, type) else value
    if isinstance(fields, dict):
        for key, field in fields.items():
            try:
                dumps(field)
            except Exception:
                kind = "attribute" if fields is not value else "key"
                return f"{kind} {key!r} ({_describe(field)})"
    return _describe(value)


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:80] + '...' if len(text) > 80 else text}"


def load_error(what: str, exc: BaseException) -> CannotTravelError:
    """The error a worker returns when it cannot load what was sent (usually pickle without cloudpickle)."""
    hint = "" if has_cloudpickle() else f"; to send classes defined in __main__, {_INSTALL}"
    return CannotTravelError(f"the executor's worker could not load {what}: {exc}{hint}")
