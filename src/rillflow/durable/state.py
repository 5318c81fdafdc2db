"""A run's position as stored: flow positions, batch sizes and finished items, keyed by node path.

Paths become entry keys as JSON lists (``["Top", "Sub"]``); an item adds its index as a number
(``["Top", "Batch", 3]``). :class:`RunState` is the decoded form that the hooks keep up to date.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.context import Path
from .checkpointer import Key
from .errors import CorruptCheckpointError

SHARED, POSITION, TOTAL, ITEM, HASHES, ANSWER, PREPPED = "s", "p", "n", "i", "f", "a", "r"
EXTRA = "x"  # a small record a feature keeps with the run, by name (e.g. "usage": its token totals)


@functools.lru_cache(maxsize=4096)
def path_key(path: Path) -> str:
    """A path as an entry key (cached: a run saves the same few paths at every step)."""
    return json.dumps(path, ensure_ascii=False)


def item_key(path: Path, index: int) -> str:
    return json.dumps([*path, index], ensure_ascii=False)


@dataclass
class RunState:
    """Where every running (nested) flow is, how many items each batch has, which items finished."""

    positions: dict[Path, tuple[str, int]] = field(default_factory=dict)
    totals: dict[Path, int] = field(default_factory=dict)
    items: dict[Path, dict[int, bytes]] = field(default_factory=dict)
    #: visits that were past their prep when saved: path -> serialized prep result
    prepped: dict[Path, bytes] = field(default_factory=dict)
    #: per batch, a fingerprint of each item (so a resume can tell that finished items are still the same)
    hashes: dict[Path, list[str]] = field(default_factory=dict)
    #: answers given to paused nodes (serialized), kept until the node finishes
    answers: dict[Path, bytes] = field(default_factory=dict)
    extras: dict[str, bytes] = field(default_factory=dict)

    def drop_below(self, path: Path) -> list[Key]:
        """Forget everything at ``path`` and under it (the node finished); returns the deleted keys."""
        n, gone = len(path), []
        for p in [p for p in self.positions if p[:n] == path]:
            del self.positions[p]
            gone.append((POSITION, path_key(p)))
        for p in [p for p in self.totals if p[:n] == path]:
            del self.totals[p]
            gone.append((TOTAL, path_key(p)))
        for p in [p for p in self.items if p[:n] == path]:
            gone.extend((ITEM, item_key(p, i)) for i in self.items.pop(p))
        for p in [p for p in self.hashes if p[:n] == path]:
            del self.hashes[p]
            gone.append((HASHES, path_key(p)))
        return gone


def split_entries(entries: Mapping[Key, bytes], run_id: str) -> tuple[dict[str, bytes], RunState]:
    """Stored entries -> (shared key -> bytes, the run's state)."""
    shared: dict[str, bytes] = {}
    state = RunState()
    for (ns, key), value in entries.items():
        try:
            if ns == SHARED:
                shared[key] = value
            elif ns == POSITION:
                next_key, steps = json.loads(value)
                state.positions[_path(key)] = (str(next_key), int(steps))
            elif ns == TOTAL:
                state.totals[_path(key)] = int(value)
            elif ns == ITEM:
                *path, index = json.loads(key)
                state.items.setdefault(tuple(path), {})[int(index)] = value
            elif ns == PREPPED:
                state.prepped[_path(key)] = value
            elif ns == HASHES:
                hashes = json.loads(value)
                if not isinstance(hashes, list):
                    raise ValueError("not a list of item fingerprints")
                state.hashes[_path(key)] = [str(h) for h in hashes]
            elif ns == ANSWER:
                state.answers[_path(key)] = value
            elif ns == EXTRA:
                state.extras[key] = value
            else:
                raise ValueError(f"unknown entry kind {ns!r}")
        except (ValueError, TypeError) as exc:
            raise CorruptCheckpointError(
                f"run {run_id!r}: stored entry {ns}:{key} is damaged ({exc})"
            ) from exc
    return shared, state


def _path(key: str) -> Path:
    path = json.loads(key)
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        raise ValueError(f"not a node path: {key!r}")
    return tuple(path)


def position_value(next_key: str, steps: int) -> bytes:
    return f"[{json_str(next_key)},{int(steps)}]".encode()


@functools.lru_cache(maxsize=4096)
def json_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def decode(data: bytes, loads: Any, what: str, run_id: str) -> Any:
    """``loads(data)``, with a failure reported as a corrupt checkpoint naming ``what``."""
    try:
        return loads(data)
    except CorruptCheckpointError:
        raise
    except Exception as exc:
        if exc.__class__.__module__.startswith("rillflow"):
            raise
        raise CorruptCheckpointError(f"run {run_id!r}: {what} cannot be restored ({exc})") from exc
