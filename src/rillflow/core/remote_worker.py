"""What runs on an executor's worker: one exec attempt of a batch item, or one whole flow run.

Both take and return bytes made by :mod:`.travel`, so the executor's own pickling only moves bytes, and
both report an error as a value ``(False, error)`` rather than raising, so that exceptions of classes
that only cloudpickle can send come back intact.
"""

from __future__ import annotations

import asyncio
import copy
import os
import socket
from typing import Any

from ..errors import FlowError, Interrupt
from .travel import CannotTravelError, dumps, load_error, loads, pack

Reply = tuple[bool, bytes]
_NO_PAUSE = (
    "{node}: interrupt() was called in exec on an executor's worker, which cannot pause the run; "
    "ask in prep or post (they run in the calling process), or in a node without executor="
)


def exec_attempt(node_blob: bytes, exec_name: str, is_async: bool, item_blob: bytes, attempt: int) -> Reply:
    """Run ``node.<exec_name>(item)`` once (attempt ``attempt``, 0-based) on this worker."""
    try:
        node = loads(node_blob)
    except Exception as exc:
        return False, dumps(load_error("the node", exc))
    return _attempt(node, exec_name, is_async, item_blob, attempt)


def _attempt(node: Any, exec_name: str, is_async: bool, item_blob: bytes, attempt: int) -> Reply:
    try:
        item = loads(item_blob)
    except Exception as exc:
        return False, dumps(load_error(f"an item of {_name(node)}", exc))
    node.cur_retry = attempt
    try:
        method = getattr(node, exec_name)
        result = asyncio.run(method(item)) if is_async else method(item)
    except Exception as exc:
        return False, _error_blob(exc, node)
    except Interrupt:
        return False, dumps(FlowError(_NO_PAUSE.format(node=_name(node))))
    return _reply(result, f"{_name(node)}: the result of {exec_name}")


def exec_chunk(
    node_blob: bytes, exec_name: str, is_async: bool, items: list[tuple[bytes, int]]
) -> list[Reply]:
    """``exec_attempt`` for several ``(item bytes, attempt)``, one after another, on copies of one node."""
    try:
        node = loads(node_blob)
    except Exception as exc:
        failed = dumps(load_error("the node", exc))
        return [(False, failed)] * len(items)
    return [_attempt(copy.copy(node), exec_name, is_async, blob, attempt) for blob, attempt in items]


def run_flow(flow_blob: bytes, shared_blob: bytes, options_blob: bytes) -> Reply:
    """Run a whole flow on ``shared`` here; the reply carries ``(shared, result)`` or the error."""
    try:
        flow, shared, options = loads(flow_blob), loads(shared_blob), loads(options_blob)
    except Exception as exc:
        return False, dumps(load_error("the flow, its input or its options", exc))
    try:
        result = asyncio.run(flow.run_async(shared, **options))
    except (Exception, Interrupt) as exc:
        return False, _error_blob(exc, flow, shared)
    return _reply((shared, result), f"{_name(flow)}: the run's shared or result")


def _reply(value: Any, what: str) -> Reply:
    try:
        return True, pack(value, what.split(":")[0], what.split(": ", 1)[-1])
    except CannotTravelError as exc:
        return False, dumps(exc)


def _error_blob(exc: BaseException, node: Any, shared: Any = None) -> bytes:
    exc.add_note(f"rillflow: raised on the executor's worker (pid {os.getpid()} on {socket.gethostname()})")
    payload = exc if shared is None else (exc, shared)
    try:
        return dumps(payload)
    except Exception:
        stand_in = RuntimeError(f"{type(exc).__name__}: {exc} (the exception itself could not be pickled)")
        return dumps(stand_in if shared is None else (stand_in, shared))


def _name(node: Any) -> str:
    return getattr(node, "name", None) or type(node).__name__
