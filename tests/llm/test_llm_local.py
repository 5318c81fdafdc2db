"""Integration tests against the real embedded model (SmolLM2-135M). They assert structure, not wording."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import TYPE_CHECKING

import jsonschema
import pydantic
import pytest

from rillflow.llm import (
    LLMError,
    LocalModel,
    LocalServer,
    OpenAICompatibleModel,
    Reply,
    generate_structured,
    generate_structured_async,
)

if TYPE_CHECKING:
    from conftest import MixedFlow

PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


def assert_complete_reply(reply: Reply, model: str = "SmolLM2-135M-Instruct") -> None:
    assert reply.text.strip()
    assert reply.finish_reason in {"stop", "length"}
    assert reply.usage.prompt_tokens > 0
    assert 0 < reply.usage.completion_tokens <= 16
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert reply.model == model
    assert reply.request_id


def test_server_listens_on_loopback(local_server: LocalServer) -> None:
    assert local_server.running
    assert local_server.base_url.startswith("http://127.0.0.1:")
    assert local_server.base_url.endswith("/v1")


def test_generate_sync(local_model: LocalModel) -> None:
    assert_complete_reply(local_model.generate("Name one fruit."))


async def test_generate_async(local_model: LocalModel) -> None:
    assert_complete_reply(await local_model.generate_async([{"role": "user", "content": "Name one color."}]))


async def test_stream_async_yields_chunks_and_settles_usage(local_model: LocalModel) -> None:
    chunks = [chunk async for chunk in local_model.stream_async("Count from one to ten.")]
    assert len(chunks) > 1
    assert all(isinstance(chunk, str) and chunk for chunk in chunks)
    assert "".join(chunks).strip()
    assert local_model.limiter.in_flight == 0


def test_max_tokens_stops_with_length(local_model: LocalModel) -> None:
    reply = local_model.generate("Write a long story about the sea.", max_tokens=4)
    assert reply.finish_reason == "length"
    assert reply.usage.completion_tokens == 4


async def test_json_schema_constrains_output(local_model: LocalModel) -> None:
    reply = await local_model.generate_async(
        "Invent a person.", json_schema=PERSON_SCHEMA, max_tokens=48, temperature=0.0
    )
    jsonschema.validate(json.loads(reply.text), PERSON_SCHEMA)


def test_structured_output_with_pydantic_model(local_model: LocalModel) -> None:
    class Person(pydantic.BaseModel):
        name: str
        age: int

    person = generate_structured(local_model, "Invent a person.", schema=Person, format="json", max_tokens=48)
    assert isinstance(person, Person)


async def test_structured_yaml_is_constrained_on_the_embedded_model(local_model: LocalModel) -> None:
    fruits = {
        "type": "object",
        "properties": {"fruits": {"type": "array", "items": {"type": "string", "maxLength": 20}}},
        "required": ["fruits"],
    }
    data = await generate_structured_async(
        local_model, "List three fruits.", schema=fruits, max_tokens=80, max_items=3, max_attempts=1
    )
    jsonschema.validate(data, fruits)
    assert 1 <= len(data["fruits"]) <= 3


def test_a_grammar_constrains_output(local_model: LocalModel) -> None:
    reply = local_model.generate("Is the sky blue? Answer yes or no.", grammar='root ::= "yes" | "no"')
    assert reply.text in {"yes", "no"}


def test_the_server_reports_the_context_one_request_may_use(local_server: LocalServer) -> None:
    # 4 slots x 1024 tokens in one shared cache: a single request may use all of it.
    assert local_server.context_tokens == 4096
    assert LocalModel(local_server).capabilities.context_tokens == 4096


def test_a_request_over_the_context_says_how_to_get_more(local_model: LocalModel) -> None:
    with pytest.raises(LLMError) as info:
        local_model.generate("word " * 5000)  # refused before any decoding
    message = str(info.value)
    assert "context size" in message and "this server gives a request 4096 tokens" in message
    assert "RILLFLOW_LLM_CONTEXT" in message and "request_id=?" not in message


async def test_parallel_requests_all_answered_within_the_slot_budget(local_server: LocalServer) -> None:
    model = LocalModel(local_server, default_options={"max_tokens": 8})
    replies = await asyncio.gather(*(model.generate_async(f"Say the number {i}.") for i in range(8)))
    assert len(replies) == 8
    for reply in replies:
        assert reply.text.strip()
        assert reply.usage.completion_tokens > 0
    assert len({reply.request_id for reply in replies}) == 8
    assert local_server.limiter.peak_in_flight <= 2 * local_server.slots


@pytest.fixture
def http_model(local_server: LocalServer) -> OpenAICompatibleModel:
    """The generic OpenAI backend pointed at the embedded server over real HTTP."""
    return OpenAICompatibleModel(
        "any-name", base_url=local_server.base_url, api_key="sk-test-key-not-real", timeout=60
    )


def test_openai_backend_sync_over_http(http_model: OpenAICompatibleModel) -> None:
    assert_complete_reply(http_model.generate("Say hello.", max_tokens=16))
    assert "sk-test-key-not-real" not in repr(http_model)


async def test_openai_backend_async_and_streaming_over_http(http_model: OpenAICompatibleModel) -> None:
    assert_complete_reply(await http_model.generate_async("Say goodbye.", max_tokens=16))
    chunks = [chunk async for chunk in http_model.stream_async("Say hi.", max_tokens=8)]
    assert len(chunks) > 1 and "".join(chunks).strip()


async def test_sync_generate_inside_a_running_loop_warns_and_completes(local_model: LocalModel) -> None:
    with pytest.warns(RuntimeWarning, match="use the asynchronous method equivalent: generate_async"):
        reply = local_model.generate("Say yes.")
    assert reply.text.strip()


async def test_flow_mixes_sync_and_parallel_async_nodes_on_one_model(
    local_server: LocalServer, mixed_flow: MixedFlow
) -> None:
    model = LocalModel(local_server, default_options={"max_tokens": 8})
    animals = ["cat", "dog", "owl", "fox", "cow", "bee"]
    prompts = [f"Describe a {animal} in five words." for animal in animals]
    result = await mixed_flow(model, "Give a title for a list of animals.", prompts, 3)
    assert result.first.strip()
    assert len(result.items) == 6
    assert all(text.strip() for text in result.items)
    assert result.sync_thread != threading.main_thread().name


async def test_a_stopped_server_restarts_on_its_port_for_existing_models() -> None:
    server = LocalServer(slots=1, context_per_slot=512)
    model = LocalModel(server, default_options={"max_tokens": 2})
    try:
        assert (await model.generate_async("Hi")).text
        address = server.base_url
        server.stop()
        assert not server.running
        port = int(address.rsplit(":", 1)[1].split("/")[0])
        with pytest.raises(ConnectionRefusedError):  # really stopped listening
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        assert (await model.generate_async("Hi again")).text
        assert server.base_url == address
        server.stop()
        with pytest.warns(RuntimeWarning):  # the sync face, from this running loop
            assert model.generate("Hi once more").text
    finally:
        server.stop()
    assert not server.running
