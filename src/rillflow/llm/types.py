"""Plain data exchanged with a model: chat messages, generation options, replies and token usage."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypedDict

Message: TypeAlias = dict[str, Any]
"""One chat message in the OpenAI format, e.g. ``{"role": "user", "content": "Hi"}``."""

Prompt: TypeAlias = str | Sequence[Message]
"""What a model accepts: a plain string (sent as one user message) or a list of chat messages."""


class Options(TypedDict, total=False):
    """Generation options accepted by every model face (``generate``, ``generate_async``, ``stream_async``).

    ``json_schema`` is a JSON schema (dict) the reply must match, where the backend can enforce it;
    ``grammar`` is a llama.cpp GBNF grammar the reply must match (only for backends whose
    ``capabilities.supports_grammar`` is true, such as the embedded server); ``json_mode`` asks for any
    JSON object; ``tools`` and ``tool_choice`` use the OpenAI format.
    """

    temperature: float
    max_tokens: int
    stop: str | list[str]
    seed: int
    json_schema: dict[str, Any]
    grammar: str
    json_mode: bool
    tools: list[dict[str, Any]]
    tool_choice: str | dict[str, Any]


FinishReason: TypeAlias = Literal["stop", "length", "tool_calls", "content_filter", "error"] | str


@dataclass(frozen=True)
class Usage:
    """Token counts of one request, as reported by the server. ``cached_tokens`` is the part of the
    prompt the server read from its prompt cache, where it reports it (0 otherwise)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens: what a tokens-per-minute budget is charged."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ToolCall:
    """A function call requested by the model; ``arguments`` is the raw JSON text it produced."""

    id: str
    name: str
    arguments: str

    def parsed_arguments(self) -> Any:
        """The arguments decoded from JSON."""
        return json.loads(self.arguments or "{}")


@dataclass(frozen=True)
class Reply:
    """What a model answered: text, tool calls, why it stopped, token usage and where it came from."""

    text: str
    finish_reason: FinishReason = "stop"
    usage: Usage = field(default_factory=Usage)
    tool_calls: tuple[ToolCall, ...] = ()
    model: str = ""
    request_id: str | None = None


def as_messages(prompt: Prompt) -> list[Message]:
    """Normalize a prompt to a fresh list of chat messages (a string becomes one user message)."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [dict(message) for message in prompt]


def prompt_text(messages: Sequence[Message]) -> str:
    """The text content of all messages joined by newlines (for scripted replies and token estimates)."""
    parts: list[str] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):  # OpenAI content parts
            parts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "\n".join(parts)
