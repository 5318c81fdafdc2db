"""Writing a loaded config back: the resolved component tree with shared components as references again."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .document import REF, REFS


def _count(value: Any, seen: Counter[int]) -> None:
    if isinstance(value, list):
        for item in value:
            _count(item, seen)
    elif isinstance(value, dict):
        if "component_type" in value and "id" in value:
            seen[id(value)] += 1
            if seen[id(value)] > 1:
                return  # its insides were counted the first time
        for item in value.values():
            _count(item, seen)


def relink(root: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``root`` where every component used more than once is a ``$component_ref`` to one entry
    of the top-level ``$referenced_components``."""
    seen: Counter[int] = Counter()
    _count(root, seen)
    shared: dict[str, Any] = {}

    def copy(value: Any, top: bool = False) -> Any:
        if isinstance(value, list):
            return [copy(item) for item in value]
        if not isinstance(value, dict):
            return value
        if not top and seen.get(id(value), 0) > 1:
            key = str(value["id"])
            if key not in shared:
                shared[key] = None  # reserve first: a component may contain references to others
                shared[key] = {k: copy(v) for k, v in value.items()}
            return {REF: key}
        return {k: copy(v) for k, v in value.items()}

    out: dict[str, Any] = copy(root, top=True)
    if shared:
        out[REFS] = shared
    return out
