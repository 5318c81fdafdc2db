"""What changed in ``shared`` since the last save: top-level keys compared by their saved bytes.

Each key is serialized on its own and compared with the bytes saved for it last time, so a step stores
only the keys it changed (or deleted). A key still holding the very same immutable object (a ``str``,
``bytes`` or number that was not reassigned) is skipped without serializing it. Mutable values (lists,
dicts) may have been changed in place, so they are checked at every save: first with ``marshal`` (a
C-speed, exact encoding of plain Python data, several times cheaper than JSON), and serialized only if
those bytes differ from the last time. Values ``marshal`` cannot encode (dataclasses, models) are
serialized at every save.
"""

from __future__ import annotations

import marshal
from collections.abc import Mapping
from typing import Any

from .errors import SerializationError
from .serialize import Serializer

_IMMUTABLE = frozenset({str, bytes, int, float, bool, type(None)})
_MISSING = object()


def dump_value(serializer: Serializer, value: Any, what: str) -> bytes:
    """``serializer.dumps(value)``; a failure becomes a :class:`SerializationError` naming ``what``."""
    try:
        return serializer.dumps(value)
    except SerializationError:
        raise
    except Exception as exc:
        raise SerializationError(f"{what} cannot be saved: {exc}") from exc


class SharedTracker:
    """Remembers the bytes last saved per key of ``shared`` and reports the keys that differ."""

    def __init__(self, serializer: Serializer) -> None:
        self.serializer = serializer
        self.saved: dict[str, bytes] = {}
        self._objects: dict[str, Any] = {}
        self._marshaled: dict[str, bytes] = {}  # the marshal bytes of each value when it was last saved

    def restore(self, saved: Mapping[str, bytes], values: Mapping[str, Any]) -> None:
        """Start from a loaded checkpoint: ``saved`` bytes and the ``values`` decoded from them."""
        self.saved = dict(saved)
        self._objects = dict(values)
        self._marshaled = {}

    def changes(self, shared: Any) -> dict[str, bytes | None]:
        """Changed keys -> new bytes, deleted keys -> None; afterwards they count as saved."""
        if not isinstance(shared, Mapping):
            raise SerializationError(
                f"a durable run needs `shared` to be a dict (its keys are saved one by one), got "
                f"{type(shared).__name__}"
            )
        out: dict[str, bytes | None] = {}
        saved, objects, marshaled = self.saved, self._objects, self._marshaled
        for key, value in shared.items():
            if objects.get(key, _MISSING) is value and type(value) in _IMMUTABLE:
                continue
            try:
                # Equal marshal bytes mean the same data as when last saved; a differing encoding of the
                # same data (marshal shares repeated objects) only costs a JSON serialization.
                fast: bytes | None = marshal.dumps(value)
            except ValueError:
                fast = None
            if fast is not None and marshaled.get(key) == fast:
                continue
            if type(key) is not str:
                raise SerializationError(f"shared key {key!r} cannot be saved: keys of `shared` must be str")
            data = dump_value(self.serializer, value, f"shared[{key!r}]")
            objects[key] = value
            if fast is None:
                marshaled.pop(key, None)
            else:
                marshaled[key] = fast
            if saved.get(key) != data:
                saved[key] = out[key] = data
        for key in saved.keys() - shared.keys():
            del saved[key]
            objects.pop(key, None)
            marshaled.pop(key, None)
            out[key] = None
        return out
