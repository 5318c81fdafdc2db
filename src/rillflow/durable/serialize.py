"""How checkpoints turn values into bytes: JSON by default, pickle only when asked for by name.

:class:`JSONSerializer` round-trips what JSON has plus, tagged so they come back as themselves: tuples,
sets, dicts with non-string keys, bytes, datetimes, dates, times, timedeltas, Decimals, UUIDs, paths,
enums, dataclasses and pydantic models (whole: every attribute, including those set in ``__post_init__``,
slots, a model's extra and private attributes), and any type you :meth:`~JSONSerializer.register`.
Anything else is refused when it is saved (never silently turned into something else). Classes are
restored by their import name, so they must be importable (not defined inside a function).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import importlib
import json
import pickle
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any, Protocol, runtime_checkable

from .._support.pydantic import is_pydantic_instance, is_pydantic_model
from .errors import CheckpointMismatchError, SerializationError

TAG = "__rf__"
_SCALARS = frozenset({str, int, float, bool, type(None)})
_STR = frozenset({str})


@runtime_checkable
class Serializer(Protocol):
    """Turns one value into bytes and back. ``name`` is stored with each run and checked on resume."""

    name: str

    def dumps(self, value: Any) -> bytes: ...
    def loads(self, data: bytes) -> Any: ...


def _class_name(cls: type) -> str:
    """``module:qualname``, checked to import back to ``cls`` (so a restore cannot fail later)."""
    name = f"{cls.__module__}:{cls.__qualname__}"
    if "<locals>" in cls.__qualname__ or _find_class(name) is not cls:
        raise TypeError(f"class {name} cannot be imported by name, so it could not be restored")
    return name


def _find_class(name: str) -> Any:
    module, _, qualname = name.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class JSONSerializer:
    """The default: compact JSON, with the tagged extra types listed in the module docstring.

    >>> s = JSONSerializer()
    >>> s.register(Money, lambda m: [m.amount, m.currency], lambda v: Money(*v))  # doctest: +SKIP
    """

    name = "json"

    def __init__(self) -> None:
        self._encoders: dict[type, tuple[str, Callable[[Any], Any]]] = {}
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        self._class_names: dict[type, str] = {}
        self._encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

    def register(
        self,
        cls: type,
        encode: Callable[[Any], Any],
        decode: Callable[[Any], Any],
        *,
        name: str | None = None,
    ) -> None:
        """Save instances of exactly ``cls`` as ``encode(value)`` (savable); load with ``decode``."""
        tag = name or f"{cls.__module__}:{cls.__qualname__}"
        self._encoders[cls] = (tag, encode)
        self._decoders[tag] = decode

    # --- saving -------------------------------------------------------------------------------------
    def dumps(self, value: Any) -> bytes:
        try:
            return self._encoder.encode(self._tree(value)).encode()
        except RecursionError:
            raise TypeError("the value contains itself (a reference cycle) or is nested too deeply") from None
        except ValueError as exc:  # json reports a cycle it finds as ValueError
            raise TypeError(str(exc)) from None

    def _tree(self, v: Any) -> Any:
        """``v`` as plain JSON data; containers that are already plain are returned as they are (fast)."""
        t = type(v)
        if t in _SCALARS:
            return v
        if t is list:
            return v if _SCALARS.issuperset(map(type, v)) else [self._tree(x) for x in v]
        if t is dict:
            if _STR.issuperset(map(type, v)) and TAG not in v:
                if _SCALARS.issuperset(map(type, v.values())):
                    return v
                return {k: self._tree(x) for k, x in v.items()}
            return {TAG: "map", "v": [[self._tree(k), self._tree(x)] for k, x in v.items()]}
        return self._tagged(t, v)

    def _tagged(self, t: type, v: Any) -> dict[str, Any]:
        custom = self._encoders.get(t)
        if custom is not None:
            return {TAG: "x", "t": custom[0], "v": self._tree(custom[1](v))}
        if t is tuple:
            return {TAG: "tuple", "v": [self._tree(x) for x in v]}
        if t is set or t is frozenset:
            return {TAG: t.__name__, "v": [self._tree(x) for x in _stable_order(v)]}
        if t is bytes:
            return {TAG: "bytes", "v": base64.b64encode(v).decode()}
        simple = _SIMPLE_ENCODE.get(t)
        if simple is not None:
            return {TAG: t.__name__, "v": simple(v)}
        if isinstance(v, PurePath):
            return {TAG: "path", "v": str(v)}
        if isinstance(v, enum.Enum):
            return {TAG: "enum", "t": self._name_of(t), "v": self._tree(v.value)}
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            # The whole instance (fields, attributes set in __post_init__ or later, slots), since it is
            # restored without running __init__.
            name = self._name_of(t)
            return {TAG: "dataclass", "t": name, "v": self._attributes(name, _instance_state(v))}
        if is_pydantic_instance(v):
            name = self._name_of(t)
            saved = {"f": self._attributes(name, dict(v.__dict__)), "set": sorted(v.model_fields_set)}
            extra, private = v.__pydantic_extra__, v.__pydantic_private__
            if extra:
                saved["x"] = self._attributes(name, extra)
            if private:
                saved["p"] = self._attributes(name, private)
            return {TAG: "pydantic", "t": name, "v": saved}
        raise TypeError(
            f"{t.__module__}.{t.__qualname__} is not JSON-serializable: use plain data, a dataclass or a "
            "pydantic model, register the type with JSONSerializer.register(...), or opt in to "
            "serializer=PickleSerializer()"
        )

    def _attributes(self, owner: str, attributes: dict[str, Any]) -> dict[str, Any]:
        """The attributes of an instance as JSON data; a failure names the attribute."""
        out = {}
        for key, value in attributes.items():
            try:
                out[key] = self._tree(value)
            except TypeError as exc:
                raise TypeError(f"attribute {key!r} of {owner}: {exc}") from None
        return out

    def _name_of(self, cls: type) -> str:
        name = self._class_names.get(cls)
        if name is None:
            name = self._class_names[cls] = _class_name(cls)
        return name

    # --- restoring ----------------------------------------------------------------------------------
    def loads(self, data: bytes) -> Any:
        return json.loads(data, object_hook=self._untag)

    def _untag(self, d: dict[str, Any]) -> Any:
        tag = d.get(TAG)
        if tag is None:
            return d
        v = d["v"]
        if tag == "map":
            return {_hashable(k): x for k, x in v}
        if tag == "x":
            decode = self._decoders.get(d["t"])
            if decode is None:
                raise CheckpointMismatchError(
                    f"a saved value uses the registered type {d['t']!r}: resume with a JSONSerializer "
                    "that registers it"
                )
            return decode(v)
        simple = _SIMPLE_DECODE.get(tag)
        if simple is not None:
            return simple(v)
        cls = _find_class(d["t"])
        if tag == "enum" and issubclass(cls, enum.Enum):
            return cls(v)
        if tag == "dataclass" and isinstance(cls, type) and dataclasses.is_dataclass(cls):
            obj = object.__new__(cls)
            for key, value in v.items():  # no __init__/__post_init__: the saved fields are the state
                object.__setattr__(obj, key, value)
            return obj
        if tag == "pydantic" and is_pydantic_model(cls):
            if "f" not in v:  # saved by an earlier rillflow: the model's JSON dump
                return cls.model_validate(v)
            obj = cls.model_construct(set(v["set"]), **v["f"], **v.get("x", {}))
            if v.get("p"):
                object.__setattr__(obj, "__pydantic_private__", v["p"])
            return obj
        raise SerializationError(f"unknown or unsafe saved type tag {tag!r} for {d.get('t')!r}")


def _instance_state(obj: Any) -> dict[str, Any]:
    """Every attribute an instance holds: its ``__dict__`` and its slots (through the class hierarchy)."""
    state = dict(getattr(obj, "__dict__", {}))
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot not in ("__dict__", "__weakref__") and hasattr(obj, slot):
                state[slot] = getattr(obj, slot)
    return state


def _stable_order(values: Any) -> list[Any]:
    """Sets in sorted order when possible, so an unchanged set always saves to the same bytes."""
    try:
        return sorted(values)
    except TypeError:
        return list(values)


def _hashable(k: Any) -> Any:
    return tuple(k) if type(k) is list else k


def _clock(v: dt.datetime | dt.time) -> Any:
    """ISO text; with a named zone (``zoneinfo``) or ``fold=1``: ``[text, zone key or None, fold]``."""
    zone = v.tzinfo
    if zone is None or type(zone) is dt.timezone:
        return v.isoformat() if not v.fold else [v.isoformat(), None, 1]
    key = getattr(zone, "key", None)
    if not isinstance(key, str) or type(zone).__module__ != "zoneinfo":
        raise TypeError(
            f"a {type(v).__name__} in time zone {zone!r} ({type(zone).__module__}.{type(zone).__qualname__}) "
            "cannot be restored as it is: use datetime.timezone or zoneinfo.ZoneInfo"
        )
    return [v.replace(tzinfo=None).isoformat(), key, v.fold]


def _unclock(kind: type[dt.datetime] | type[dt.time]) -> Callable[[Any], Any]:
    def load(v: Any) -> Any:
        if isinstance(v, str):
            return kind.fromisoformat(v)
        text, key, fold = v
        value = kind.fromisoformat(text)
        if key is not None:
            import zoneinfo  # only here: importing it loads sysconfig data, which a plain run never needs

            value = value.replace(tzinfo=zoneinfo.ZoneInfo(key))
        return value.replace(fold=fold)

    return load


_SIMPLE_ENCODE: dict[type, Callable[[Any], Any]] = {
    dt.datetime: _clock,
    dt.date: lambda v: v.isoformat(),
    dt.time: _clock,
    dt.timedelta: lambda v: [v.days, v.seconds, v.microseconds],
    Decimal: str,
    uuid.UUID: str,
}
_SIMPLE_DECODE: dict[str, Callable[[Any], Any]] = {
    "tuple": tuple,
    "set": set,
    "frozenset": frozenset,
    "bytes": base64.b64decode,
    "path": Path,
    "datetime": _unclock(dt.datetime),
    "date": dt.date.fromisoformat,
    "time": _unclock(dt.time),
    "timedelta": lambda v: dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "Decimal": Decimal,
    "UUID": uuid.UUID,
}


class PickleSerializer:
    """Saves anything picklable. Opt-in only: loading a pickle runs code, so use it on trusted files only."""

    name = "pickle"

    def dumps(self, value: Any) -> bytes:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def loads(self, data: bytes) -> Any:
        return pickle.loads(data)


def serializer_for(stored_name: str, given: Serializer | None) -> Serializer:
    """The serializer to restore a run saved with ``stored_name``; pickle is never chosen implicitly."""
    if given is not None:
        if given.name != stored_name:
            raise CheckpointMismatchError(
                f"this run was saved with the {stored_name!r} serializer, not {given.name!r}"
            )
        return given
    if stored_name == "json":
        return JSONSerializer()
    hint = "serializer=PickleSerializer()" if stored_name == "pickle" else "the serializer it was saved with"
    raise CheckpointMismatchError(f"this run was saved with the {stored_name!r} serializer: pass {hint}")
