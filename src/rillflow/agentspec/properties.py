"""Agent Spec properties: JSON schemas with a ``title``, the name of an input or output."""

from __future__ import annotations

from typing import Any

Property = dict[str, Any]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}


def titles(properties: Any) -> list[str]:
    return [str(p["title"]) for p in properties or () if isinstance(p, dict) and "title" in p]


def by_title(properties: Any) -> dict[str, Property]:
    return {str(p["title"]): p for p in properties or () if isinstance(p, dict) and "title" in p}


def type_problem(value: Any, schema: Property) -> str | None:
    """Why ``value`` does not match the JSON ``type`` of ``schema`` (one level deep), or None."""
    if "anyOf" in schema:
        options = [type_problem(value, option) for option in schema["anyOf"]]
        return None if any(o is None for o in options) else options[0]
    kinds = schema.get("type")
    if kinds is None:
        return None
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    for kind in kinds:
        expected = _JSON_TYPES.get(kind)
        if expected is None or isinstance(value, expected):
            if kind in ("integer", "number") and isinstance(value, bool):
                continue
            return None
    return f"expected {' or '.join(kinds)}, got {type(value).__name__} {value!r:.60}"


def coerce(value: Any, schema: Property) -> Any:
    """Best-effort conversion of a model's text to the property's type (``"3"`` -> 3 for an integer)."""
    kind = schema.get("type")
    if not isinstance(value, str) or kind in (None, "string"):
        return value
    try:
        if kind == "integer":
            return int(value.strip())
        if kind == "number":
            return float(value.strip())
        if kind == "boolean":
            return value.strip().lower() in ("true", "yes", "1")
    except ValueError:
        return value
    return value


def json_schema(properties: list[Property]) -> dict[str, Any]:
    """An object schema with one field per property (structured LLM outputs, tool parameters)."""
    fields = {str(p["title"]): {k: v for k, v in p.items() if k != "title"} for p in properties}
    required = [str(p["title"]) for p in properties if "default" not in p]
    return {"type": "object", "properties": fields, "required": required}
