"""``@tool``: a Python function (sync or async) that a model can call, with a schema from its type hints."""

from __future__ import annotations

import asyncio
import enum
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, get_args, overload

from .._support.pydantic import is_pydantic_model
from .schema import Convert, Schema, compile_check, schema_for, type_hints, validate


class ToolArgumentsError(ValueError):
    """The arguments a model produced do not match the tool's schema (the message says how)."""


@dataclass(frozen=True, eq=False)
class Tool:
    """A function a model can call. Calling the tool object calls the function itself.

    ``parameters`` is the JSON schema of its arguments; ``timeout`` (seconds) bounds each call when it is
    run by a :class:`~rillflow.agents.Toolbox`; ``confirm=True`` makes an agent ask a human before each
    call (see :class:`~rillflow.agents.Agent`).
    """

    func: Callable[..., Any]
    name: str
    description: str
    parameters: Schema
    timeout: float | None = None
    confirm: bool = False
    is_async: bool = False
    source: str = ""  # where the tool lives, e.g. "mcp:<server>"; empty for a Python function
    _converters: dict[str, Convert] = field(default_factory=dict, repr=False)
    _check_schema: Schema = field(default_factory=dict, repr=False)
    _valid: Callable[[Any], bool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_valid", _compiled(self._check_schema))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def spec(self) -> dict[str, Any]:
        """The tool in the OpenAI ``tools`` format."""
        function = {"name": self.name, "description": self.description, "parameters": self.parameters}
        return {"type": "function", "function": function}

    def check(self, arguments: Any) -> dict[str, Any]:
        """Validate ``arguments`` (a dict or its JSON text) and convert them to the function's types.

        Raises :class:`ToolArgumentsError` listing every problem.
        """
        return self._convert(self._parse(arguments))

    def _parse(self, arguments: Any) -> dict[str, Any]:
        """The arguments as a dict (decoded from JSON text), not yet checked."""
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError as exc:
                raise ToolArgumentsError(f"the arguments are not valid JSON ({exc})") from None
        if not isinstance(arguments, dict):
            raise ToolArgumentsError(f"the arguments must be a JSON object, got {type(arguments).__name__}")
        return arguments

    def _convert(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """A checked, converted copy of parsed ``arguments`` (``arguments`` itself is left as it is)."""
        errors = [] if self._valid(arguments) else validate(arguments, self._check_schema)
        converted = dict(arguments)
        for name, convert in self._converters.items():
            if name in converted:
                try:
                    converted[name] = convert(converted[name])
                except ValueError as exc:  # pydantic's ValidationError and Enum lookups are ValueErrors
                    errors.append(f"{name}: {exc}")
        if errors:
            raise ToolArgumentsError("; ".join(errors))
        return converted

    async def call_async(self, arguments: dict[str, Any]) -> Any:
        """Call with checked arguments: an async function is awaited, a sync one runs in a worker thread."""
        if self.is_async:
            return await self.func(**arguments)
        return await asyncio.to_thread(self.func, **arguments)


def make_tool(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    confirm: bool = False,
) -> Tool:
    """Build a :class:`Tool` from ``func`` (what ``@tool`` does)."""
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    tool_name = name or func.__name__
    hints = type_hints(func)
    properties: dict[str, Schema] = {}
    check_properties: dict[str, Schema] = {}
    definitions: dict[str, Schema] = {}
    required: list[str] = []
    converters: dict[str, Convert] = {}
    for param in inspect.signature(func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise TypeError(f"tool {tool_name}: parameter {param.name!r} must be a named (keyword) parameter")
        if param.name not in hints:
            raise TypeError(f"tool {tool_name}: parameter {param.name!r} needs a type hint")
        try:
            schema, convert = schema_for(hints[param.name])
        except TypeError as exc:
            raise TypeError(f"tool {tool_name}, parameter {param.name!r}: {exc}") from None
        definitions.update(schema.pop("$defs", {}))  # pydantic's nested models; refs point at the root
        if param.default is param.empty:
            required.append(param.name)
        else:
            schema = {**schema, "default": _json_default(param.default)}
        properties[param.name] = schema
        # pydantic-typed values are checked by pydantic (the converter), the rest by the schema.
        check_properties[param.name] = {} if _is_model_hint(hints[param.name]) else schema
        if convert is not None:
            converters[param.name] = convert
    parameters: Schema = {"type": "object", "properties": properties, "required": required}
    parameters["additionalProperties"] = False
    if definitions:
        parameters["$defs"] = definitions
    check_schema = {**parameters, "properties": check_properties}
    return Tool(
        func=func,
        name=tool_name,
        description=description or inspect.getdoc(func) or "",
        parameters=parameters,
        timeout=timeout,
        confirm=confirm,
        is_async=inspect.iscoroutinefunction(func),
        _converters=converters,
        _check_schema=check_schema,
    )


def _compiled(schema: Schema) -> Callable[[Any], bool]:
    try:
        return compile_check(schema)
    except (AttributeError, TypeError, ValueError):  # a malformed schema: validate() reports it per call
        return lambda arguments: not validate(arguments, schema)


def _is_model_hint(hint: Any) -> bool:
    return is_pydantic_model(hint) or any(_is_model_hint(arg) for arg in get_args(hint))


def _json_default(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


@overload
def tool(func: Callable[..., Any], /) -> Tool: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    confirm: bool = False,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    confirm: bool = False,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a function (sync or ``async def``) a tool: ``@tool`` or ``@tool(timeout=5, confirm=True)``.

    The name is the function's, the description its docstring, and the parameters' JSON schema comes
    from the type hints: ``str``, ``int``, ``float``, ``bool``, ``list[...]``, ``dict[str, ...]``,
    ``Literal[...]``, ``Enum`` classes, pydantic models and ``X | None``; ``Annotated[T, "text"]``
    describes a parameter, and a parameter with a default is optional.
    """
    if func is not None:
        return make_tool(func, name=name, description=description, timeout=timeout, confirm=confirm)

    def decorate(f: Callable[..., Any]) -> Tool:
        return make_tool(f, name=name, description=description, timeout=timeout, confirm=confirm)

    return decorate


ToolLike = Tool | Callable[..., Any] | Callable[..., Awaitable[Any]]
"""What a toolbox accepts: a :class:`Tool`, or a plain function (made a tool with the defaults)."""


def as_tool(item: ToolLike) -> Tool:
    """``item`` itself when it is a Tool, else ``make_tool(item)``."""
    return item if isinstance(item, Tool) else make_tool(item)
