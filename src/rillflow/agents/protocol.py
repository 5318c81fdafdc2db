"""How an agent talks to its model about tools: native tool calling, or JSON/YAML actions.

Both turn one model reply into a :class:`Turn` (tool calls, or a final answer) and tool results into
chat messages, so the agent's nodes do not care which one is used.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..llm.base import Model
from ..llm.errors import StructuredOutputError
from ..llm.example import example_of
from ..llm.structured import generate_structured_async
from ..llm.types import Message, Options, ToolCall
from .toolbox import Toolbox, format_output

ANSWER = "answer"
Must = Literal["tool", "answer"] | None
"""What a turn must produce: a tool call, a final answer, or (None) whichever the model chooses."""


@dataclass(frozen=True)
class Turn:
    """What the model did in one turn: the assistant message to keep, and either tool calls, a final
    answer, or (structured protocol) ``feedback`` telling it what was wrong with its reply."""

    message: Message
    calls: tuple[ToolCall, ...] = ()
    answer: str | None = None
    feedback: Message | None = field(default=None)


class Protocol(ABC):
    """One way of offering tools to a model and reading its requests."""

    @abstractmethod
    def system_prompt(self, instructions: str, toolbox: Toolbox) -> str:
        """The system message that starts a conversation."""

    @abstractmethod
    async def ask(
        self, model: Model, messages: list[Message], toolbox: Toolbox, options: Options, *, must: Must = None
    ) -> Turn:
        """One model turn over ``messages``; ``must`` asks for a tool call or a final answer this turn."""

    @abstractmethod
    def result_messages(self, results: Sequence[Mapping[str, Any]]) -> list[Message]:
        """The messages that give the model the results of its tool calls (``ToolResult.record()``s)."""


class NativeProtocol(Protocol):
    """OpenAI-style tool calling: tools go in the ``tools`` option, calls come back in
    ``Reply.tool_calls``."""

    def system_prompt(self, instructions: str, toolbox: Toolbox) -> str:
        return instructions

    async def ask(
        self, model: Model, messages: list[Message], toolbox: Toolbox, options: Options, *, must: Must = None
    ) -> Turn:
        if toolbox.tools:
            options = {**options, "tools": toolbox.specs()}
            if must is not None:
                options["tool_choice"] = "required" if must == "tool" else "none"
        reply = await model.generate_async(messages, **options)
        calls = reply.tool_calls
        if not calls:
            return Turn({"role": "assistant", "content": reply.text}, answer=reply.text)
        for call in calls:
            if not call.id:  # some servers leave ids empty; results are matched to calls by id
                calls = _with_ids(calls, len(messages))
                break
        message: Message = {
            "role": "assistant",
            "content": reply.text or None,
            "tool_calls": [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in calls
            ],
        }
        return Turn(message, calls)

    def result_messages(self, results: Sequence[Mapping[str, Any]]) -> list[Message]:
        return [{"role": "tool", "tool_call_id": r["id"], "content": r["output"]} for r in results]


def _with_ids(calls: tuple[ToolCall, ...], serial: int) -> tuple[ToolCall, ...]:
    """``calls`` with an id unique in the conversation for each call that has none."""
    return tuple(
        call if call.id else ToolCall(f"call_{serial}_{i}", call.name, call.arguments)
        for i, call in enumerate(calls)
    )


class StructuredProtocol(Protocol):
    """For models without tool calling (such as the embedded SmolLM2): each turn the model answers one
    JSON (or YAML) action, ``{"action": "<tool>", "input": {...}}`` or ``{"action": "answer", "answer":
    "..."}``. With JSON on a backend that supports it, a schema constrains generation to valid actions,
    and ``max_answer_chars`` (the answer) and ``max_input_chars`` (each string argument) keep a
    rambling small model from being cut off mid-string by ``max_tokens``.

    A reply that still does not parse after ``max_attempts`` tries becomes a failed turn: the model is
    told what was wrong and the agent goes on (within its ``max_iterations``).
    """

    def __init__(
        self,
        fmt: Literal["json", "yaml"] = "json",
        *,
        max_attempts: int = 2,
        max_answer_chars: int | None = 400,
        max_input_chars: int | None = 120,
    ) -> None:
        self.fmt = fmt
        self.max_attempts = max_attempts
        self.max_answer_chars = max_answer_chars
        self.max_input_chars = max_input_chars

    def system_prompt(self, instructions: str, toolbox: Toolbox) -> str:
        # Small models copy examples far better than they read schemas: each tool is shown as a call.
        lines = [instructions.strip(), ""] if instructions.strip() else []
        lines.append("You can use these tools:")
        for one in toolbox:
            call = {"action": one.name, "input": example_of(one.parameters, describe=True)}
            lines.append(f"- {one.name}: {one.description or '(no description)'}")
            described = [
                f"{name} ({spec['description']})"
                for name, spec in one.parameters.get("properties", {}).items()
                if isinstance(spec, dict) and spec.get("description")
            ]
            if described:
                lines.append(f"  arguments: {', '.join(described)}")
            lines.append(f"  call it with: {json.dumps(call, ensure_ascii=False)}")
        lines += [
            "",
            f"Answer every turn with one {self.fmt.upper()} object: a tool call as above, or the answer:",
            json.dumps({"action": ANSWER, "answer": "<a full sentence that answers the question>"}),
        ]
        return "\n".join(lines)

    def action_schema(
        self, toolbox: Toolbox, *, allow_tools: bool = True, allow_answer: bool = True
    ) -> dict[str, Any]:
        """The JSON schema of a valid action (used to constrain generation)."""
        options: list[dict[str, Any]] = []
        for one in toolbox if allow_tools else ():
            parameters = {k: v for k, v in one.parameters.items() if k != "$defs"}
            if self.max_input_chars is not None:
                parameters = _cap_strings(parameters, self.max_input_chars)
            branch: dict[str, Any] = {
                "type": "object",
                "properties": {"action": {"const": one.name}, "input": parameters},
                "required": ["action", "input"],
            }
            options.append(branch)
        if allow_answer or not options:
            text: dict[str, Any] = {"type": "string"}
            if self.max_answer_chars is not None:
                text["maxLength"] = self.max_answer_chars
            answer = {"action": {"const": ANSWER}, "answer": text}
            options.append({"type": "object", "properties": answer, "required": ["action", "answer"]})
        schema: dict[str, Any] = {"anyOf": options}
        definitions = {k: v for one in toolbox for k, v in one.parameters.get("$defs", {}).items()}
        if definitions:
            schema["$defs"] = definitions
        return schema

    async def ask(
        self, model: Model, messages: list[Message], toolbox: Toolbox, options: Options, *, must: Must = None
    ) -> Turn:
        if model.capabilities.supports_json_schema:
            # Constrained, the reply is JSON in both formats (JSON is YAML's flow style).
            schema = self.action_schema(toolbox, allow_tools=must != "answer", allow_answer=must != "tool")
            options = {**options, "json_schema": schema}
        try:
            data = await generate_structured_async(
                model, messages, format=self.fmt, max_attempts=self.max_attempts, **options
            )
        except StructuredOutputError as exc:
            reply: Message = {"role": "assistant", "content": exc.last_text}
            if exc.finish_reason == "length":
                return Turn(reply, feedback=self._feedback("it was cut off: it is too long, be brief"))
            return Turn(reply, feedback=self._feedback(f"it is not valid {self.fmt.upper()}"))
        return self.read_action(data, len(messages), must=must)

    def read_action(self, data: Any, serial: int, *, must: Must = None) -> Turn:
        """Interpret one parsed action; ``serial`` makes the call id unique within the conversation."""
        message: Message = {"role": "assistant", "content": self.render(data)}
        action = data.get("action") if isinstance(data, dict) else None
        if not isinstance(action, str) or not action:
            return Turn(message, feedback=self._feedback('the reply needs a string "action" field'))
        if action == ANSWER:
            if must == "tool":
                return Turn(message, feedback=self._feedback("use a tool before answering"))
            answer = data.get(ANSWER, data.get("input", ""))
            return Turn(message, answer=answer if isinstance(answer, str) else format_output(answer))
        arguments = data.get("input", {})
        call = ToolCall(f"call_{serial}", action, json.dumps(arguments, ensure_ascii=False))
        return Turn(message, calls=(call,))

    def render(self, data: Any) -> str:
        """An action as the model would have written it, for the conversation history."""
        if self.fmt == "yaml":
            try:
                import yaml
            except ImportError:  # a constrained (JSON) reply needed no YAML parser: JSON is YAML too
                return json.dumps(data, ensure_ascii=False)
            return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True)).strip()
        return json.dumps(data, ensure_ascii=False)

    def _feedback(self, problem: str) -> Message:
        return {"role": "user", "content": f"Invalid action: {problem}. Answer again with one action."}

    def result_messages(self, results: Sequence[Mapping[str, Any]]) -> list[Message]:
        text = "\n".join(f"Result of {r['tool']}: {r['output']}" for r in results)
        text += f'\nUse this result: give the final answer with it ("action": "{ANSWER}"), or use a tool.'
        return [{"role": "user", "content": text}]


def _cap_strings(schema: Any, limit: int) -> Any:
    """``schema`` with ``maxLength: limit`` on every string that has no length limit of its own."""
    if isinstance(schema, list):
        return [_cap_strings(item, limit) for item in schema]
    if not isinstance(schema, dict):
        return schema
    capped = {key: _cap_strings(value, limit) for key, value in schema.items()}
    if capped.get("type") == "string" and "maxLength" not in capped and "enum" not in capped:
        capped["maxLength"] = limit
    return capped
