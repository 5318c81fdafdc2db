"""Structured output: ask for YAML or JSON, extract the fenced block, parse, validate, retry with feedback.

This is the pattern of PocketFlow's tutorials, packaged: on a parse or validation failure the model is
shown its answer and the error and asked again. When the reply must be JSON, a schema is given and the
backend can enforce a JSON schema (the local server can), the schema also constrains generation.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, Unpack

from .base import Model
from .errors import StructuredOutputError, missing_extra
from .types import Message, Options, Prompt, Reply, as_messages

Format = Literal["yaml", "json"]
Schema = dict[str, Any]

_FENCE = re.compile(r"```[ \t]*([A-Za-z]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)


def extract_block(text: str) -> str:
    """The content of the first fenced code block in ``text`` (an unclosed fence runs to the end), or the
    whole text stripped when there is no fence."""
    match = _FENCE.search(text)
    return match.group(2).strip() if match else text.strip()


def parse_block(text: str, fmt: Format) -> Any:
    """Extract the fenced block from ``text`` and parse it as YAML or JSON."""
    block = extract_block(text)
    if fmt == "json":
        return json.loads(block)
    try:
        import yaml
    except ImportError as exc:
        raise missing_extra("pyyaml", "structured") from exc
    return yaml.safe_load(block)


def _is_pydantic_model(schema: object) -> bool:
    # Duck-typed so that pydantic is imported only by users who already use it.
    return (
        isinstance(schema, type)
        and hasattr(schema, "model_validate")
        and hasattr(schema, "model_json_schema")
    )


def json_schema_of(schema: Schema | type[Any]) -> Schema:
    """The JSON schema of a pydantic model class, or ``schema`` itself when it is already a dict."""
    if _is_pydantic_model(schema):
        result: Schema = schema.model_json_schema()  # type: ignore[union-attr]
        return result
    if isinstance(schema, dict):
        return schema
    raise TypeError(f"schema must be a JSON schema dict or a pydantic model class, not {schema!r}")


def validate(data: Any, schema: Schema | type[Any] | None) -> Any:
    """Check ``data`` against a JSON schema dict (returns it) or a pydantic model class (returns an instance).
    Raises ``ValueError`` with a readable message on mismatch."""
    if schema is None:
        return data
    if _is_pydantic_model(schema):
        try:
            return schema.model_validate(data)  # type: ignore[union-attr]
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ValueError(str(exc)) from exc
    try:
        import jsonschema
    except ImportError as exc:
        raise missing_extra("jsonschema", "structured") from exc
    try:
        jsonschema.validate(data, json_schema_of(schema))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "the top level"
        raise ValueError(f"at {where}: {exc.message}") from exc
    return data


class StructuredOptions(Options, total=False):
    """The generation :class:`Options` plus what to ask for: ``schema`` (a JSON schema dict or a pydantic
    model class), ``format`` (``"yaml"``, the default, or ``"json"``) and ``max_attempts`` (default 3)."""

    schema: Schema | type[Any]
    format: Format
    max_attempts: int


_OWN_KEYS = frozenset({"schema", "format", "max_attempts"})


class _Conversation:
    """State shared by both faces: the growing message list and the checks of each reply."""

    def __init__(self, model: Model, prompt: Prompt, options: StructuredOptions) -> None:
        self.model = model
        self.schema = options.get("schema")
        self.fmt: Format = options.get("format", "yaml")
        self.max_attempts = options.get("max_attempts", 3)
        self.options: Options = {key: value for key, value in options.items() if key not in _OWN_KEYS}  # type: ignore[assignment]
        self.messages: list[Message] = as_messages(prompt)
        last = self.messages[-1] if self.messages else {}
        if last.get("role") == "user" and isinstance(last.get("content"), str):
            last["content"] += "\n\n" + self._instructions()  # small models follow one message best
        else:
            self.messages.append({"role": "user", "content": self._instructions()})
        if self.fmt == "json" and self.schema is not None and model.supports_json_schema:
            self.options["json_schema"] = json_schema_of(self.schema)
        self.last_text = ""
        self.last_error = ""

    def _instructions(self) -> str:
        text = f"Answer with a single fenced ```{self.fmt} code block and nothing else."
        if self.schema is not None:
            text += f" It must match this JSON schema:\n{json.dumps(json_schema_of(self.schema))}"
        return text

    def accept(self, reply: Reply) -> tuple[bool, Any]:
        """Parse and validate; on failure add the answer and the error to the conversation."""
        self.last_text = reply.text
        try:
            return True, validate(parse_block(reply.text, self.fmt), self.schema)
        except ValueError as exc:  # json, yaml and validation errors all derive from ValueError
            self.last_error = str(exc)
        except Exception as exc:  # yaml.YAMLError is not a ValueError
            if type(exc).__module__.split(".")[0] != "yaml":
                raise
            self.last_error = str(exc)
        self.messages.append({"role": "assistant", "content": reply.text})
        self.messages.append(
            {
                "role": "user",
                "content": f"That answer was invalid: {self.last_error}\nFix it and answer again with only "
                f"the fenced ```{self.fmt} block.",
            }
        )
        return False, None

    def failure(self) -> StructuredOutputError:
        return StructuredOutputError(
            f"no valid {self.fmt} after {self.max_attempts} attempts; last error: {self.last_error}",
            model=self.model.name,
            last_text=self.last_text,
            attempts=self.max_attempts,
        )


def generate_structured(model: Model, prompt: Prompt, **options: Unpack[StructuredOptions]) -> Any:
    """Ask ``model`` for YAML (default) or JSON and return the parsed data, validated against ``schema``
    (a JSON schema dict, or a pydantic model class: then an instance is returned). Invalid answers are
    sent back with the error, up to ``max_attempts`` tries; then :class:`StructuredOutputError` is raised."""
    conversation = _Conversation(model, prompt, options)
    for _ in range(conversation.max_attempts):
        ok, value = conversation.accept(model.generate(conversation.messages, **conversation.options))
        if ok:
            return value
    raise conversation.failure()


async def generate_structured_async(
    model: Model, prompt: Prompt, **options: Unpack[StructuredOptions]
) -> Any:
    """The async twin of :func:`generate_structured`."""
    conversation = _Conversation(model, prompt, options)
    for _ in range(conversation.max_attempts):
        reply = await model.generate_async(conversation.messages, **conversation.options)
        ok, value = conversation.accept(reply)
        if ok:
            return value
    raise conversation.failure()
