"""An example value built from a JSON schema: what a small model is shown instead of the schema itself.

Models copy examples far better than they read schemas; a 135M model shown a schema tends to copy the
schema back. Strings become ``"..."`` so that nothing in the example passes for real data.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
_SCALAR_EXAMPLES: dict[str, Any] = {
    "string": "...",
    "integer": 0,
    "number": 0.0,
    "boolean": True,
    "null": None,
}


def example_of(schema: Schema, *, describe: bool = False) -> Any:
    """A value shaped like ``schema``: every property, one item per array, the first enum/const value;
    with ``describe``, a string that has a description shows it as ``"<description>"``."""
    return _example(schema, schema.get("$defs", {}), 0, describe)


def _example(schema: Any, definitions: dict[str, Schema], depth: int, describe: bool = False) -> Any:
    if not isinstance(schema, dict) or depth > 8:  # a recursive model: stop somewhere
        return "..."
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        return _example(definitions.get(reference.rsplit("/", 1)[1], {}), definitions, depth + 1, describe)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key, ()) if not (isinstance(o, dict) and o.get("type") == "null")]
        if options:
            return _example(options[0], definitions, depth + 1, describe)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: _example(sub, definitions, depth + 1, describe) for name, sub in properties.items()}
    if kind == "array":
        return [_example(schema.get("items", {}), definitions, depth + 1, describe)]
    if kind == "string" and describe and schema.get("description"):
        return f"<{schema['description']}>"
    return _SCALAR_EXAMPLES.get(str(kind), "...")


def cap_arrays(schema: Any, max_items: int) -> Any:
    """``schema`` with ``maxItems: max_items`` on every array that has no upper bound of its own: a
    constrained small model otherwise may repeat items until ``max_tokens`` cuts the reply."""
    if isinstance(schema, list):
        return [cap_arrays(item, max_items) for item in schema]
    if not isinstance(schema, dict):
        return schema
    capped = {key: cap_arrays(value, max_items) for key, value in schema.items()}
    if capped.get("type") == "array" and "maxItems" not in capped:
        capped["maxItems"] = max_items
    return capped
