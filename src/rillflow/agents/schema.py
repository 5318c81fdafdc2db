"""JSON schemas from Python type hints, and a validator for the subset of JSON schema they use.

The validator keeps tools free of dependencies: it understands ``type``, ``enum``, ``const``,
``properties``, ``required``, ``additionalProperties``, ``items`` and ``anyOf``, which is everything
:func:`schema_for` generates (pydantic-typed values are checked by pydantic itself). Each hint also gets
a converter that turns validated JSON into the Python value the function expects (an ``Enum`` member,
a pydantic model instance).
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from .._support.pydantic import is_pydantic_model

Schema = dict[str, Any]
Convert = Callable[[Any], Any]

_SCALARS: dict[Any, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def schema_for(hint: Any) -> tuple[Schema, Convert | None]:
    """The JSON schema of a type hint and the converter from JSON to that type (None: use as is)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        schema, convert = schema_for(args[0])
        text = next((a for a in args[1:] if isinstance(a, str)), None)
        return ({**schema, "description": text} if text else schema), convert
    if hint is Any:
        return {}, None
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}, None
    if hint is None:
        return {"type": "null"}, None
    if origin is Literal:
        return _enum_schema(list(args)), None
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_schema([member.value for member in hint]), hint
    if is_pydantic_model(hint):
        return hint.model_json_schema(), hint.model_validate
    if origin in (Union, types.UnionType):
        return _union_schema(args)
    if hint in (list, tuple, set, frozenset, Sequence) or origin in (list, tuple, set, frozenset, Sequence):
        return _array_schema(hint, origin, args)
    if hint in (dict, Mapping) or origin in (dict, Mapping):
        return _object_schema(args)
    raise TypeError(f"unsupported type for a tool parameter: {hint!r}")


def _enum_schema(values: list[Any]) -> Schema:
    schema: Schema = {"enum": values}
    kinds = {_SCALARS.get(type(v)) for v in values}
    if len(kinds) == 1 and None not in kinds:
        schema = {"type": kinds.pop(), **schema}
    return schema


def _union_schema(args: tuple[Any, ...]) -> tuple[Schema, Convert | None]:
    parts = [schema_for(arg) for arg in args]
    converters = [(arg, convert) for arg, (_, convert) in zip(args, parts, strict=True) if convert]

    def convert(value: Any) -> Any:
        # Only an Optional[Enum] or Optional[Model] needs converting: the non-null member owns the value.
        return value if value is None else converters[0][1](value)

    usable = len(converters) == 1 and len(args) == 2 and type(None) in args
    if converters and not usable:
        raise TypeError(f"unsupported union for a tool parameter (use X | None): {args!r}")
    return {"anyOf": [schema for schema, _ in parts]}, (convert if converters else None)


def _array_schema(hint: Any, origin: Any, args: tuple[Any, ...]) -> tuple[Schema, Convert | None]:
    item_hint = args[0] if args and (origin is not tuple or (len(args) == 2 and args[1] is ...)) else Any
    if origin is tuple and args and not (len(args) == 2 and args[1] is ...):
        raise TypeError(f"fixed-length tuples are not supported as tool parameters: {hint!r}")
    item_schema, convert_item = schema_for(item_hint)
    schema: Schema = {"type": "array", "items": item_schema} if item_schema else {"type": "array"}
    if convert_item is None:
        return schema, None
    return schema, lambda values: [convert_item(value) for value in values]


def _object_schema(args: tuple[Any, ...]) -> tuple[Schema, Convert | None]:
    if args and args[0] is not str:
        raise TypeError("dict keys of a tool parameter must be str (JSON object keys)")
    value_schema, convert_value = schema_for(args[1]) if args else ({}, None)
    schema: Schema = {"type": "object"}
    if value_schema:
        schema["additionalProperties"] = value_schema
    if convert_value is None:
        return schema, None
    return schema, lambda mapping: {key: convert_value(value) for key, value in mapping.items()}


def type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """The function's resolved type hints, keeping ``Annotated`` metadata."""
    return typing.get_type_hints(func, include_extras=True)


# --- validation -------------------------------------------------------------------------------------
def validate(value: Any, schema: Schema, where: str = "") -> list[str]:
    """Every way ``value`` breaks ``schema``, as readable messages (an empty list: it is valid)."""
    here = where or "the arguments"
    if "anyOf" in schema:
        if any(not validate(value, option, where) for option in schema["anyOf"]):
            return []
        typed = [o for o in schema["anyOf"] if "type" in o and _has_type(value, o["type"])]
        if len(typed) == 1:  # e.g. a list given for `list[str] | None`: say what is wrong inside it
            return validate(value, typed[0], where)
        allowed = " or ".join(_describe(option) for option in schema["anyOf"])
        return [f"{here}: expected {allowed}, got {_show(value)}"]
    if "const" in schema and value != schema["const"]:
        return [f"{here}: must be {schema['const']!r}, got {_show(value)}"]
    expected = schema.get("type")
    if expected is not None and not _has_type(value, expected):
        return [f"{here}: expected {expected}, got {_show(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{here}: must be one of {schema['enum']!r}, got {_show(value)}"]
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [e for i, item in enumerate(value) for e in validate(item, schema["items"], f"{here}[{i}]")]
    if isinstance(value, dict):
        return _validate_object(value, schema, where)
    return []


def compile_check(schema: Schema) -> Callable[[Any], bool]:
    """A predicate true exactly when ``validate(value, schema)`` finds nothing, built once per schema.

    Tools check every call with it and run :func:`validate` only for a value it rejects (for the
    messages), so a valid call does not pay for walking the schema and naming each place in it.
    """
    if "anyOf" in schema:
        options = [compile_check(option) for option in schema["anyOf"]]
        return lambda value: any(check(value) for check in options)
    checks: list[Callable[[Any], bool]] = []
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda value: value == const)
    if schema.get("type") is not None:
        checks.append(_type_check(schema["type"]))
    if "enum" in schema:
        allowed = schema["enum"]
        checks.append(lambda value: value in allowed)
    items = schema.get("items")
    if isinstance(items, dict) and items:
        item_ok = compile_check(items)
        checks.append(lambda value: not isinstance(value, list) or all(map(item_ok, value)))
    if (
        schema.get("properties")
        or schema.get("required")
        or schema.get("additionalProperties", True) is not True
    ):
        object_ok = _compile_object(schema)
        checks.append(lambda value: not isinstance(value, dict) or object_ok(value))
    return _all_of(checks)


def _all_of(checks: list[Callable[[Any], bool]]) -> Callable[[Any], bool]:
    if not checks:
        return lambda value: True
    if len(checks) == 1:
        return checks[0]
    first, rest = checks[0], _all_of(checks[1:])
    return lambda value: first(value) and rest(value)


def _compile_object(schema: Schema) -> Callable[[dict[str, Any]], bool]:
    properties = {name: compile_check(item) for name, item in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_ok = compile_check(extra) if isinstance(extra, dict) else None
    closed = extra is False

    def check(value: dict[str, Any]) -> bool:
        for name in required:
            if name not in value:
                return False
        for name, item in value.items():
            inner = properties.get(name)
            if inner is not None:
                if not inner(item):
                    return False
            elif closed or (extra_ok is not None and not extra_ok(item)):
                return False
        return True

    return check


def _validate_object(value: dict[str, Any], schema: Schema, where: str) -> list[str]:
    errors = []
    properties: dict[str, Schema] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            errors.append(f"missing required argument {_join(where, name)!r}")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        inner = _join(where, name)
        if name in properties:
            errors.extend(validate(item, properties[name], inner))
        elif extra is False:
            known = ", ".join(properties) or "none"
            errors.append(f"unknown argument {inner!r} (expected: {known})")
        elif isinstance(extra, dict):
            errors.extend(validate(item, extra, inner))
    return errors


_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "null": type(None),
    "array": list,
    "object": dict,
}


def _has_type(value: Any, expected: str | list[str]) -> bool:
    if isinstance(expected, list):
        return any(_has_type(value, one) for one in expected)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)  # strict: 3.0 is not an int
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES.get(expected, object))


def _type_check(expected: str | list[str]) -> Callable[[Any], bool]:
    """``_has_type`` for one ``expected``, with the common single types as one check."""
    if expected in ("integer", "number"):
        numeric: type | tuple[type, ...] = int if expected == "integer" else (int, float)
        return lambda value: isinstance(value, numeric) and not isinstance(value, bool)
    if isinstance(expected, str):
        kind = _TYPES.get(expected, object)
        return lambda value: isinstance(value, kind)
    return lambda value: _has_type(value, expected)


def _describe(schema: Schema) -> str:
    if "type" in schema:
        return str(schema["type"])
    if "enum" in schema:
        return f"one of {schema['enum']!r}"
    return "a value matching the schema"


def _show(value: Any) -> str:
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{kinds.get(type(value), 'null' if value is None else type(value).__name__)} {shown}"


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
