"""OpenInference attributes for OpenTelemetry spans, so Phoenix, Langfuse and other LLM tracing tools
show rillflow runs as LLM traces: flows and nodes are ``CHAIN`` spans (an agent an ``AGENT`` span), and
each model call and tool call becomes an ``LLM`` / ``TOOL`` child span of the node that made it, with the
model name, messages, token counts, tool name and arguments. ``hide_content=True`` leaves prompts,
outputs and tool arguments out (the counts and names stay).

Used by :class:`rillflow.otel.TracingHooks`; the OpenTelemetry API is passed in, never imported here.
Attribute names follow the OpenInference semantic conventions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..agents.agent import Agent
from ..core.node import BaseNode
from ..llm.calls import LLM_CALL, TOOL_CALL, LLMCall, ToolRun
from ..llm.types import Message

SPAN_KIND = "openinference.span.kind"
CHAIN, LLM, TOOL, AGENT = "CHAIN", "LLM", "TOOL", "AGENT"


def node_kind(node: BaseNode) -> str:
    """The span kind of a node or flow: ``AGENT`` for an :class:`~rillflow.agents.Agent`, else ``CHAIN``."""
    return AGENT if isinstance(node, Agent) else CHAIN


def record_call(tracer: Any, trace: Any, parent: Any, kind: str, data: Any, *, hide_content: bool) -> None:
    """Record an emitted ``llm_call`` / ``tool_call`` as a finished child span of ``parent`` (a span or
    None); other kinds are ignored. ``trace`` is the ``opentelemetry.trace`` module."""
    if kind == LLM_CALL and isinstance(data, LLMCall):
        name, attributes, error = f"llm {data.model}", llm_attributes(data, hide_content), data.error
    elif kind == TOOL_CALL and isinstance(data, ToolRun):
        name, attributes, error = f"tool {data.tool}", tool_attributes(data, hide_content), data.error
        if error is None and not data.ok:
            error = RuntimeError(data.output)
    else:
        return
    context = trace.set_span_in_context(parent) if parent is not None else None
    start = int(data.started * 1e9)
    span = tracer.start_span(name, context=context, start_time=start, attributes=attributes)
    if error is not None:
        span.set_status(trace.Status(trace.StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        if isinstance(error, BaseException) and not (kind == TOOL_CALL and data.error is None):
            span.record_exception(error)
    span.end(end_time=start + int(data.duration * 1e9))


def llm_attributes(call: LLMCall, hide_content: bool = False) -> dict[str, Any]:
    """The OpenInference attributes of one model call."""
    usage = call.usage
    reply = call.reply
    attributes: dict[str, Any] = {
        SPAN_KIND: LLM,
        "llm.model_name": reply.model if reply is not None and reply.model else call.model,
        "llm.token_count.prompt": usage.prompt_tokens,
        "llm.token_count.completion": usage.completion_tokens,
        "llm.token_count.total": usage.total_tokens,
        "rillflow.streamed": call.streamed,
    }
    if usage.cached_tokens:
        attributes["llm.token_count.prompt_details.cache_read"] = usage.cached_tokens
    parameters = {k: v for k, v in call.options.items() if k not in ("tools", "json_schema")}
    attributes["llm.invocation_parameters"] = json.dumps(parameters, default=str)
    for i, spec in enumerate(call.options.get("tools", ())):
        attributes[f"llm.tools.{i}.tool.json_schema"] = json.dumps(spec, default=str)
    if hide_content:
        return attributes
    _messages(attributes, "llm.input_messages", call.messages)
    attributes["input.value"] = json.dumps(call.messages, default=str, ensure_ascii=False)
    attributes["input.mime_type"] = "application/json"
    if reply is not None:
        out: Message = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "function": {"name": c.name, "arguments": c.arguments}} for c in reply.tool_calls
            ]
        _messages(attributes, "llm.output_messages", [out])
        attributes["output.value"] = reply.text
        attributes["output.mime_type"] = "text/plain"
    return attributes


def tool_attributes(run: ToolRun, hide_content: bool = False) -> dict[str, Any]:
    """The OpenInference attributes of one tool call."""
    attributes: dict[str, Any] = {
        SPAN_KIND: TOOL,
        "tool.name": run.tool,
        "tool_call.id": run.call_id,
        "rillflow.tool.ok": run.ok,
    }
    if run.source:
        attributes["rillflow.tool.source"] = run.source
    if not hide_content:
        attributes["tool.parameters"] = run.arguments
        attributes["input.value"] = run.arguments
        attributes["input.mime_type"] = "application/json"
        attributes["output.value"] = run.output
        attributes["output.mime_type"] = "text/plain"
    return attributes


def _messages(attributes: dict[str, Any], prefix: str, messages: Sequence[Message]) -> None:
    for i, message in enumerate(messages):
        base = f"{prefix}.{i}.message"
        attributes[f"{base}.role"] = str(message.get("role", ""))
        content = message.get("content")
        if isinstance(content, str):
            attributes[f"{base}.content"] = content
        elif content is not None:
            attributes[f"{base}.content"] = json.dumps(content, default=str, ensure_ascii=False)
        for j, call in enumerate(message.get("tool_calls") or ()):
            function = call.get("function", {}) if isinstance(call, dict) else {}
            attributes[f"{base}.tool_calls.{j}.tool_call.id"] = str(call.get("id", ""))
            attributes[f"{base}.tool_calls.{j}.tool_call.function.name"] = str(function.get("name", ""))
            arguments = function.get("arguments", "")
            attributes[f"{base}.tool_calls.{j}.tool_call.function.arguments"] = (
                arguments if isinstance(arguments, str) else json.dumps(arguments, default=str)
            )
        if message.get("tool_call_id"):
            attributes[f"{base}.tool_call_id"] = str(message["tool_call_id"])
