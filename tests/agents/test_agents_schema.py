"""@tool: JSON schemas from type hints, and validation of a model's arguments against them."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

import jsonschema
import pydantic
import pytest

from rillflow.agents import Tool, ToolArgumentsError, schema_for, tool, validate
from rillflow.agents.schema import compile_check


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(pydantic.BaseModel):
    x: int
    y: int


class Shape(pydantic.BaseModel):
    name: str
    corners: list[Point]


def params(one: Tool) -> dict[str, Any]:
    return one.parameters["properties"]  # type: ignore[no-any-return]


def test_name_description_and_required_come_from_the_function() -> None:
    @tool
    def search(query: Annotated[str, "what to look for"], limit: int = 3) -> str:
        """Search the documents.

        Returns the best matches."""
        return query * limit

    assert search.name == "search"
    assert search.description == "Search the documents.\n\nReturns the best matches."
    assert search.parameters["required"] == ["query"]
    assert search.parameters["additionalProperties"] is False
    assert params(search) == {
        "query": {"type": "string", "description": "what to look for"},
        "limit": {"type": "integer", "default": 3},
    }
    assert search.spec() == {
        "type": "function",
        "function": {"name": "search", "description": search.description, "parameters": search.parameters},
    }
    assert search("ab", limit=2) == "abab"  # still callable as the function


def test_decorator_options_override_the_defaults() -> None:
    @tool(name="lookup", description="Find a word.", timeout=2.5, confirm=True)
    async def find(word: str) -> str:
        return word

    assert (find.name, find.description, find.timeout, find.confirm, find.is_async) == (
        "lookup", "Find a word.", 2.5, True, True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("hint", "schema"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (Any, {}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (list, {"type": "array"}),
        (tuple[str, ...], {"type": "array", "items": {"type": "string"}}),
        (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
        (dict, {"type": "object"}),
        (Literal["asc", "desc"], {"type": "string", "enum": ["asc", "desc"]}),
        (Literal[1, "x"], {"enum": [1, "x"]}),
        (Color, {"type": "string", "enum": ["red", "blue"]}),
        (str | None, {"anyOf": [{"type": "string"}, {"type": "null"}]}),
        (Annotated[list[str], "tags"], {"type": "array", "items": {"type": "string"}, "description": "tags"}),
    ],
)
def test_schema_of_each_supported_type(hint: Any, schema: dict[str, Any]) -> None:
    assert schema_for(hint)[0] == schema


def test_pydantic_parameters_use_the_model_schema_with_definitions_at_the_root() -> None:
    @tool
    def draw(shape: Shape, color: Color = Color.RED) -> str:
        """Draw a shape."""
        return f"{shape.name}:{len(shape.corners)}:{color.value}"

    assert params(draw)["shape"]["properties"]["corners"]["items"] == {"$ref": "#/$defs/Point"}
    assert "Point" in draw.parameters["$defs"]
    assert params(draw)["color"] == {"type": "string", "enum": ["red", "blue"], "default": "red"}
    jsonschema.Draft202012Validator.check_schema(draw.parameters)
    args = draw.check({"shape": {"name": "tri", "corners": [{"x": 0, "y": 0}]}, "color": "blue"})
    assert isinstance(args["shape"], Shape) and args["color"] is Color.BLUE
    assert draw(**args) == "tri:1:blue"
    with pytest.raises(ToolArgumentsError, match="shape"):
        draw.check({"shape": {"name": "tri", "corners": [{"x": "left"}]}})


def test_enums_inside_lists_and_optionals_are_converted() -> None:
    @tool
    def paint(colors: list[Color], accent: Color | None = None) -> None:
        """Paint."""

    args = paint.check({"colors": ["red", "blue"], "accent": None})
    assert args == {"colors": [Color.RED, Color.BLUE], "accent": None}
    assert paint.check('{"colors": [], "accent": "red"}')["accent"] is Color.RED


@tool
def search(
    query: str,
    limit: int = 3,
    order: Literal["asc", "desc"] = "asc",
    tags: list[str] | None = None,
    weights: dict[str, float] | None = None,
) -> None:
    """A tool with one parameter of each kind, for the validation tests."""


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"query": 3}, "query: expected string, got integer 3"),
        ({}, "missing required argument 'query'"),
        ({"query": "x", "limt": 2}, "unknown argument 'limt' (expected: query, limit, order, tags, weights)"),
        ({"query": "x", "limit": True}, "limit: expected integer, got boolean True"),
        ({"query": "x", "limit": 2.5}, "limit: expected integer, got number 2.5"),
        ({"query": "x", "order": "up"}, "order: must be one of ['asc', 'desc'], got string 'up'"),
        ({"query": "x", "tags": ["a", 1]}, "tags[1]: expected string, got integer 1"),
        ({"query": "x", "weights": {"a": "heavy"}}, "weights.a: expected number, got string 'heavy'"),
        ('{"query": ', "the arguments are not valid JSON"),
        ("[1, 2]", "the arguments must be a JSON object, got list"),
    ],
)
def test_invalid_arguments_are_refused_with_a_readable_reason(arguments: Any, message: str) -> None:
    with pytest.raises(ToolArgumentsError) as caught:
        search.check(arguments)
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once_and_valid_arguments_pass() -> None:
    @tool
    def move(x: int, y: float, label: str = "") -> None:
        """Move."""

    with pytest.raises(ToolArgumentsError) as caught:
        move.check({"x": "1", "label": 2})
    assert str(caught.value).split("; ") == [
        "missing required argument 'y'",
        "x: expected integer, got string '1'",
        "label: expected string, got integer 2",
    ]
    assert move.check('{"x": 1, "y": 2}') == {"x": 1, "y": 2}  # an int is a valid number


SAMPLES: list[Any] = [
    {"query": "x"},
    {"query": "x", "limit": 1, "order": "desc", "tags": ["a"], "weights": {"a": 1.5}},
    {"query": None},
    {"query": "x", "tags": None, "weights": {"b": 2}},
    {"query": "x", "tags": "a"},
    {"query": "x", "order": "sideways"},
    {"query": "x", "extra": 1},
    {"limit": 2},
    {"query": "x", "weights": {"a": [1]}},
    {"query": "x", "limit": False},
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_validator_agrees_with_jsonschema_on_generated_schemas(sample: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(search.parameters)
    ours = not validate(sample, search.parameters)
    theirs = jsonschema.Draft202012Validator(search.parameters).is_valid(sample)
    assert ours == theirs


@pytest.mark.parametrize(
    ("define", "message"),
    [
        ("def f(x): ...", "parameter 'x' needs a type hint"),
        (r"def f(*args: int): ...", r"must be a named \(keyword\) parameter"),
        ("def f(x: dict[int, str]): ...", "dict keys of a tool parameter must be str"),
        ("def f(x: tuple[int, str]): ...", "fixed-length tuples are not supported"),
        ("def f(x: int | str | Color): ...", "unsupported union"),
        ("def f(x: set[object]): ...", "unsupported type"),
    ],
)
def test_unsupported_signatures_fail_when_the_tool_is_made(define: str, message: str) -> None:
    namespace: dict[str, Any] = {"Color": Color}
    exec(f"from __future__ import annotations\n{define}", namespace)
    with pytest.raises(TypeError, match=message):
        tool(namespace["f"])


def test_a_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout must be > 0"):
        tool(timeout=0)(lambda x: x)


# The compiled check tools run on every call must accept exactly what validate() accepts.
CHECKED_SCHEMAS: list[dict[str, Any]] = [
    search.parameters,
    {},
    {"type": "integer"},
    {"type": "number"},
    {"type": ["string", "null"]},
    {"type": "boolean"},
    {"const": 3},
    {"enum": [1, "a", None]},
    {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
    {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"enum": ["x"]}]}},
    {"items": {"type": "integer"}},
    {"required": ["a"]},
    {"type": "object", "additionalProperties": {"type": "number"}},
    {"properties": {"a": {"type": "object", "properties": {"b": {"const": 1}}, "required": ["b"]}}},
    {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
]
VALUES: list[Any] = [
    *SAMPLES, None, True, False, 0, 3, 3.0, -1.5, "", "a", "x", [], [1, 2], ["a", "b"], [1, "x"], [True],
    {}, {"a": 1}, {"a": "1"}, {"a": {"b": 1}}, {"a": {"b": 2}}, {"a": {}}, {"b": 1.5}, {"b": True},
]  # fmt: skip


@pytest.mark.parametrize("schema", CHECKED_SCHEMAS)
def test_the_compiled_check_agrees_with_validate(schema: dict[str, Any]) -> None:
    check = compile_check(schema)
    for value in VALUES:
        assert check(value) == (not validate(value, schema)), (schema, value)


def test_a_valid_call_skips_validate_and_an_invalid_one_still_names_every_problem() -> None:
    assert search.check('{"query": "x", "limit": 2}') == {"query": "x", "limit": 2}
    with pytest.raises(ToolArgumentsError) as caught:
        search.check('{"limit": true, "colour": 1}')
    assert "missing required argument 'query'" in str(caught.value)
    assert "limit: expected integer, got boolean True" in str(caught.value)
    assert "unknown argument 'colour'" in str(caught.value)
