"""Structured output: ask for YAML or JSON, extract the fenced block, parse, validate, retry with feedback.

This is the pattern of PocketFlow's tutorials, packaged: on a parse or validation failure the model is
shown its answer and every error, and asked again. When a schema is given and the backend can enforce a
JSON schema (``model.capabilities.supports_json_schema``; the embedded server can), the schema constrains
generation, in both formats: the reply is then JSON, which is also YAML (its flow style). The model is
shown an example built from the schema, not the schema itself.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, Unpack

from .._support.pydantic import is_pydantic_model
from .base import Model
from .errors import StructuredOutputError, missing_extra
from .example import cap_arrays, example_of
from .types import Message, Options, Prompt, Reply, as_messages, prompt_text

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


def json_schema_of(schema: Schema | type[Any]) -> Schema:
    """The JSON schema of a pydantic model class, or ``schema`` itself when it is already a dict."""
    if is_pydantic_model(schema):
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
    if is_pydantic_model(schema):
        try:
            return schema.model_validate(data)  # type: ignore[union-attr]
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ValueError(str(exc)) from exc
    try:
        import jsonschema
    except ImportError as exc:
        raise missing_extra("jsonschema", "structured") from exc
    checker = jsonschema.Draft202012Validator(json_schema_of(schema))
    problems = sorted(_describe(error) for error in checker.iter_errors(data))
    if problems:  # every problem at once: one retry can fix them all
        raise ValueError("; ".join(problems))
    return data


def _describe(error: Any) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "the top level"
    return f"at {where}: {error.message}"


class StructuredOptions(Options, total=False):
    """The generation :class:`Options` plus what to ask for: ``schema`` (a JSON schema dict or a pydantic
    model class), ``format`` (``"yaml"``, the default, or ``"json"``), ``max_attempts`` (default 3) and
    ``max_items`` (default 20: when generation is constrained, the most items an array of the schema
    without a ``maxItems`` of its own may get, so that a small model cannot repeat items forever)."""

    schema: Schema | type[Any]
    format: Format
    max_attempts: int
    max_items: int


_OWN_KEYS = frozenset({"schema", "format", "max_attempts", "max_items"})
DEFAULT_MAX_ITEMS = 20
# Estimating whether a retry fits the model's context: few characters per token on purpose (JSON and
# code tokenize densely), so that the estimate errs towards trimming.
CHARS_PER_TOKEN = 3
REPLY_TOKENS_WITHOUT_MAX = 512
MAX_ERROR_CHARS = 1500


class _Conversation:
    """State shared by both faces: the messages of the next attempt and the checks of each reply.

    A retry is the original prompt, the last invalid answer and its errors (earlier failed attempts
    are not kept, so the conversation does not grow); when that would not fit the model's context,
    the answer is left out and only its errors are shown.
    """

    def __init__(self, model: Model, prompt: Prompt, options: StructuredOptions) -> None:
        self.model = model
        self.schema = options.get("schema")
        self.fmt: Format = options.get("format", "yaml")
        self.max_attempts = options.get("max_attempts", 3)
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts!r}")
        self.options: Options = {key: value for key, value in options.items() if key not in _OWN_KEYS}  # type: ignore[assignment]
        if model.capabilities.needs_guidance and "temperature" not in model.default_options:
            self.options.setdefault("temperature", 0.0)  # a small model copies names exactly when greedy
        # Constrained by our schema, or by the caller's own ``json_schema`` option (an agent's actions).
        self.constrained = "json_schema" in self.options or (
            self.schema is not None and model.capabilities.supports_json_schema
        )
        # Constrained, the reply is JSON in both formats: JSON is YAML's flow style, and the server
        # constrains to JSON schemas.
        self.wire: Format = "json" if self.constrained else self.fmt
        if self.constrained and self.schema is not None and "json_schema" not in self.options:
            schema = json_schema_of(self.schema)
            self.options["json_schema"] = cap_arrays(schema, options.get("max_items", DEFAULT_MAX_ITEMS))
        self.base: list[Message] = as_messages(prompt)
        last = self.base[-1] if self.base else {}
        if last.get("role") == "user" and isinstance(last.get("content"), str):
            # One message, instructions first: a small model then reads the data (a resume, a question)
            # right before it answers, and copies it far more exactly (emails: 12 -> 17 of 20).
            last["content"] = self._instructions() + "\n\n" + last["content"]
        else:
            self.base.append({"role": "user", "content": self._instructions()})
        self.messages: list[Message] = list(self.base)
        self.attempts = 0
        self.last_text = ""
        self.last_error = ""
        self.finish_reason = "stop"

    def _instructions(self) -> str:
        if self.schema is None:
            if self.constrained:
                return "Answer in JSON."
            return f"Answer with a single fenced ```{self.fmt} code block and nothing else."
        example = example_of(json_schema_of(self.schema))
        if self.constrained:
            shown = json.dumps(example, ensure_ascii=False)
            return f"Answer in JSON shaped like this example, with your own values:\n{shown}"
        return (
            f"Answer with a single fenced ```{self.fmt} code block and nothing else, shaped like this "
            f"example, with your own values:\n```{self.fmt}\n{_render(example, self.fmt)}\n```"
        )

    def accept(self, reply: Reply) -> tuple[bool, Any]:
        """Parse and validate; on failure prepare the next attempt's messages with the errors."""
        self.attempts += 1
        self.last_text, self.finish_reason = reply.text, reply.finish_reason
        if reply.finish_reason == "length":
            raise self.cut()  # the same request would be cut again
        try:
            return True, validate(parse_block(reply.text, self.wire), self.schema)
        except ValueError as exc:  # json, yaml and validation errors all derive from ValueError
            self.last_error = str(exc)
        except Exception as exc:  # yaml.YAMLError is not a ValueError
            if type(exc).__module__.split(".")[0] != "yaml":
                raise
            self.last_error = str(exc)
        self.messages = self.base + self._feedback(reply.text)
        return False, None

    def _feedback(self, text: str) -> list[Message]:
        error = self.last_error
        if len(error) > MAX_ERROR_CHARS:
            error = error[:MAX_ERROR_CHARS] + " ..."
        again = "Fix it and answer again" + (
            "." if self.constrained else f" with only the ```{self.wire} block."
        )
        shown: list[Message] = [
            {"role": "assistant", "content": text},
            {"role": "user", "content": f"That answer was invalid: {error}\n{again}"},
        ]
        if self._fits(self.base + shown):
            return shown
        summary = (
            f"Your previous answer ({len(text)} characters, not repeated here) was invalid: {error}\n{again}"
        )
        return [{"role": "user", "content": summary}]

    def _fits(self, messages: list[Message]) -> bool:
        context = self.model.capabilities.context_tokens
        if context is None:
            return True
        reply = self.options.get("max_tokens", self.model.default_options.get("max_tokens"))
        needed = len(prompt_text(messages)) // CHARS_PER_TOKEN + (reply or REPLY_TOKENS_WITHOUT_MAX)
        return needed <= context

    def cut(self) -> StructuredOutputError:
        limit = self.options.get("max_tokens", self.model.default_options.get("max_tokens"))
        where = f"max_tokens={limit}" if limit else "the server's token limit"
        return self._error(
            f"the reply was cut at {where} (finish_reason 'length') before the {self.fmt} was complete; "
            "raise max_tokens, or ask for less (a maxItems or maxLength in the schema, a shorter prompt)"
        )

    def failure(self) -> StructuredOutputError:
        return self._error(
            f"no valid {self.fmt} after {self.attempts} attempts; last error: {self.last_error}"
        )

    def _error(self, message: str) -> StructuredOutputError:
        return StructuredOutputError(
            message,
            model=self.model.name,
            last_text=self.last_text,
            attempts=self.attempts,
            finish_reason=self.finish_reason,
        )


def _render(example: Any, fmt: Format) -> str:
    if fmt == "json":
        return json.dumps(example, ensure_ascii=False, indent=2)
    try:
        import yaml
    except ImportError as exc:
        raise missing_extra("pyyaml", "structured") from exc
    return str(yaml.safe_dump(example, sort_keys=False, allow_unicode=True)).strip()


def generate_structured(model: Model, prompt: Prompt, **options: Unpack[StructuredOptions]) -> Any:
    """Ask ``model`` for YAML (default) or JSON and return the parsed data, validated against ``schema``
    (a JSON schema dict, or a pydantic model class: then an instance is returned). Invalid answers are
    sent back with every error, up to ``max_attempts`` tries; then :class:`StructuredOutputError` is
    raised. A reply cut at ``max_tokens`` raises at once (retrying would cut it again)."""
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
