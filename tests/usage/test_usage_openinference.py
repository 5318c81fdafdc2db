"""OpenInference attributes on the OpenTelemetry spans of a real agent run (SDK in-memory exporter)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from usage_helpers import tool_script

from rillflow import AsyncFlow
from rillflow.agents import Agent, tool
from rillflow.llm import ScriptedModel
from rillflow.observe.otel import TracingHooks

FAILED: set[str] = set()


@tool
async def lookup(key: str) -> str:
    """Look a key up (fails the first time it is asked for k1)."""
    if key == "k1" and key not in FAILED:
        FAILED.add(key)
        raise KeyError(key)
    return f"value-{key}"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


def tracing(exporter: InMemorySpanExporter, **options: bool) -> TracingHooks:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return TracingHooks(tracer_provider=provider, **options)


def spans_of(exporter: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in exporter.get_finished_spans():
        found.setdefault(span.name, []).append(span)
    return found


async def run_agent(hooks: TracingHooks) -> None:
    FAILED.clear()
    agent = Agent(ScriptedModel(tool_script(2)), [lookup], protocol="native", name="Helper")
    await AsyncFlow(agent, name="Pipeline").run_async({"question": "what is k0?"}, hooks=[hooks])


async def test_agent_run_spans_carry_openinference_kinds_models_messages_tokens_and_tools(
    exporter: InMemorySpanExporter,
) -> None:
    await run_agent(tracing(exporter))
    spans = spans_of(exporter)
    kinds = {name: {s.attributes["openinference.span.kind"] for s in group} for name, group in spans.items()}
    assert kinds["run Pipeline"] == {"CHAIN"} and kinds["Helper"] == {"AGENT"} and kinds["Think"] == {"CHAIN"}
    assert kinds["llm scripted"] == {"LLM"} and kinds["tool lookup"] == {"TOOL"}

    llm = spans["llm scripted"]
    assert len(llm) == 4  # k0, k1 (fails), k1 again, the answer
    think_ids = {s.get_span_context().span_id for s in spans["Think"]}
    assert all(s.parent is not None and s.parent.span_id in think_ids for s in llm)  # child of its node
    first = llm[0].attributes
    assert first["llm.model_name"] == "m"  # as the reply names it
    assert (first["llm.token_count.prompt"], first["llm.token_count.completion"]) == (10, 5)
    assert first["llm.token_count.total"] == 15
    assert first["llm.input_messages.0.message.role"] == "user"
    assert first["llm.input_messages.0.message.content"] == "what is k0?"
    assert first["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"] == "lookup"
    assert json.loads(first["llm.tools.0.tool.json_schema"])["function"]["name"] == "lookup"
    last = llm[-1].attributes
    assert last["llm.output_messages.0.message.content"] == "answer after 2"
    assert last["llm.input_messages.2.message.role"] == "tool"

    tools = sorted(spans["tool lookup"], key=lambda s: s.start_time or 0)
    act_ids = {s.get_span_context().span_id for s in spans["Act"]}
    assert all(s.parent is not None and s.parent.span_id in act_ids for s in tools)
    assert tools[0].attributes["tool.name"] == "lookup"
    assert json.loads(tools[0].attributes["tool.parameters"]) == {"key": "k0"}
    assert tools[0].attributes["output.value"] == "value-k0"
    assert tools[1].status.status_code == StatusCode.ERROR  # the tool's KeyError, fed back to the model
    assert tools[0].end_time is not None and tools[0].start_time is not None
    assert tools[0].end_time >= tools[0].start_time


async def test_hide_content_leaves_prompts_outputs_and_arguments_out(exporter: InMemorySpanExporter) -> None:
    await run_agent(tracing(exporter, hide_content=True))
    for span in exporter.get_finished_spans():
        keys = set(span.attributes or {})
        assert not any(k.startswith(("llm.input_messages", "llm.output_messages")) for k in keys)
        assert not keys & {"input.value", "output.value", "tool.parameters"}
    spans = spans_of(exporter)
    assert spans["llm scripted"][0].attributes["llm.token_count.total"] == 15
    assert spans["tool lookup"][0].attributes["tool.name"] == "lookup"


async def test_a_failed_llm_call_is_an_error_span_under_its_node(exporter: InMemorySpanExporter) -> None:
    from rillflow import AsyncNode
    from rillflow.llm import NO_RETRY, LLMError

    model = ScriptedModel([LLMError("server down", transient=False)], retry=NO_RETRY)

    class Ask(AsyncNode):
        async def exec_async(self, prep_res: object) -> str:
            return (await model.generate_async("hi")).text

    with pytest.raises(LLMError):
        await AsyncFlow(Ask(), name="Flow").run_async({}, hooks=[tracing(exporter)])
    spans = spans_of(exporter)
    (llm,) = spans["llm scripted"]
    assert llm.status.status_code == StatusCode.ERROR and "server down" in (llm.status.description or "")
    assert llm.parent is not None and llm.parent.span_id == spans["Ask"][0].get_span_context().span_id
    assert "llm.output_messages.0.message.content" not in (llm.attributes or {})
