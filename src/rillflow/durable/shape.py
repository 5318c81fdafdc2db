"""A flow's shape (node keys, classes, successor actions, nested flows) and its fingerprint.

A checkpoint names nodes by key, so it may only be resumed by a flow of the same shape; otherwise the
stored position could point at a different node. The shape is saved with the run, so a mismatch can
say what differs.
"""

from __future__ import annotations

import hashlib
import json

from .._flow import Flow
from .._node import BaseNode, label
from ..hooks import graph_nodes
from .errors import CheckpointMismatchError


def describe(node: BaseNode) -> dict[str, str]:
    """``"Top > Sub > Node" -> "module.Class; action->Key, ..."`` for every node, nested flows included."""
    shape: dict[str, str] = {}
    _describe(node, label(node), shape)
    return shape


def _describe(node: BaseNode, where: str, shape: dict[str, str]) -> None:
    cls = type(node)
    shape[where] = f"{cls.__module__}.{cls.__qualname__}"
    if not isinstance(node, Flow):
        return
    nodes = graph_nodes(node)
    key_of = {id(n): key for key, n in nodes.items()}
    for key, child in nodes.items():
        _describe(child, f"{where} > {key}", shape)
        links = ", ".join(f"{a}->{key_of[id(t)]}" for a, t in sorted(child.successors.items()))
        if links:
            shape[f"{where} > {key}"] += f"; {links}"


def fingerprint(shape: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:32]


def check_same_shape(stored_json: str, stored_fingerprint: str, node: BaseNode, run_id: str) -> None:
    """Raise :class:`CheckpointMismatchError` naming the differences if ``node`` has another shape."""
    now = describe(node)
    if fingerprint(now) == stored_fingerprint:
        return
    try:
        before: dict[str, str] = json.loads(stored_json)
    except ValueError:
        before = {}
    diffs = [
        f"{where}: was {before.get(where, 'absent')!r}, now {now.get(where, 'absent')!r}"
        for where in sorted(before.keys() | now.keys())
        if before.get(where) != now.get(where)
    ]
    shown = "; ".join(diffs[:5]) + (f"; and {len(diffs) - 5} more" if len(diffs) > 5 else "")
    raise CheckpointMismatchError(
        f"run {run_id!r} was saved by a flow of another shape, so it cannot be resumed by this one: "
        f"{shown or 'fingerprints differ'}"
    )
