"""Transient failures are retried with backoff; errors name the model and request id, never the key."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rillflow.llm import NO_RETRY, LLMError, OpenAICompatibleModel, RetryPolicy, ScriptedModel

SECRET = "sk-super-secret-key-0123456789"
INSTANT = RetryPolicy(max_attempts=4, base_delay=0.0)


def completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


class FakeServer:
    """An OpenAI-style endpoint on 127.0.0.1 answering from a queue of (status, headers, body)."""

    def __init__(self) -> None:
        self.responses: list[tuple[int, dict[str, str], dict[str, Any]]] = []
        self.requests: list[dict[str, Any]] = []
        self.auth_headers: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                fake.requests.append(json.loads(self.rfile.read(length)))
                fake.auth_headers.append(self.headers.get("Authorization", ""))
                status, headers, body = fake.responses.pop(0)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer()
    yield server
    server.close()


def error_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "server_error"}}


def test_transient_scripted_failures_are_retried() -> None:
    flaky = [LLMError("busy", transient=True, status_code=503), LLMError("slow down", transient=True), "ok"]
    model = ScriptedModel(flaky, retry=INSTANT)
    assert model.generate("hi").text == "ok"
    assert len(model.calls) == 3
    assert model.limiter.in_flight == 0


async def test_permanent_failures_are_raised_at_once() -> None:
    model = ScriptedModel([LLMError("bad request", status_code=400), "never"], name="m", retry=INSTANT)
    with pytest.raises(LLMError, match="bad request") as info:
        await model.generate_async("hi")
    assert len(model.calls) == 1
    assert info.value.model == "m"


def test_giving_up_after_max_attempts_raises_the_last_error() -> None:
    failures = [LLMError(f"down {i}", transient=True, request_id=f"req-{i}") for i in range(3)]
    model = ScriptedModel(failures, name="flaky", retry=RetryPolicy(max_attempts=3, base_delay=0.0))
    with pytest.raises(LLMError) as info:
        model.generate("hi")
    assert str(info.value) == "down 2 (model=flaky, request_id=req-2)"
    assert NO_RETRY.delay_before_retry(1, info.value) is None


def test_programming_errors_are_not_wrapped_or_retried() -> None:
    model = ScriptedModel([KeyError("oops"), "ok"], retry=INSTANT)
    with pytest.raises(KeyError):
        model.generate("hi")
    assert len(model.calls) == 1


async def test_stream_is_retried_before_its_first_chunk() -> None:
    model = ScriptedModel([LLMError("busy", transient=True), "a b"], retry=INSTANT)
    assert [chunk async for chunk in model.stream_async("hi")] == ["a ", "b"]


def test_backoff_grows_exponentially_with_bounded_jitter_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=5.0, jitter=0.5)
    error = LLMError("busy", transient=True)
    for attempt, backoff in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (6, 5.0)]:
        delay = policy.delay_before_retry(attempt, error)
        assert delay is not None
        assert backoff * 0.5 <= delay <= backoff
    hinted = LLMError("rate limited", transient=True, retry_after=3.0)
    assert policy.delay_before_retry(1, hinted) == 3.0
    assert policy.delay_before_retry(10, error) is None
    assert policy.delay_before_retry(1, LLMError("bad request")) is None


def test_http_429_and_5xx_are_retried_and_logs_never_show_the_key(
    fake_server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    fake_server.responses = [
        (503, {"x-request-id": "req-503"}, error_body("overloaded")),
        (429, {"retry-after": "0", "x-request-id": "req-429"}, error_body("rate limited")),
        (200, {"x-request-id": "req-ok"}, completion("hello")),
    ]
    model = OpenAICompatibleModel("fake-model", base_url=fake_server.base_url, api_key=SECRET, retry=INSTANT)
    with caplog.at_level(logging.DEBUG):
        reply = model.generate("hi", max_tokens=3, temperature=0.0)
    assert reply.text == "hello"
    assert reply.request_id == "req-ok"
    assert reply.usage.total_tokens == 7
    assert len(fake_server.requests) == 3
    assert fake_server.requests[0]["max_tokens"] == 3
    assert fake_server.auth_headers[0] == f"Bearer {SECRET}"  # the key is sent, and only there
    assert "req-503" in caplog.text and "req-429" in caplog.text
    assert SECRET not in caplog.text
    assert SECRET not in repr(model) and SECRET not in repr(vars(model))


async def test_http_errors_carry_model_status_and_request_id_without_the_key(fake_server: FakeServer) -> None:
    fake_server.responses = [(401, {"x-request-id": "req-401"}, error_body(f"Incorrect API key: {SECRET}"))]
    model = OpenAICompatibleModel("fake-model", base_url=fake_server.base_url, api_key=SECRET, retry=INSTANT)
    with pytest.raises(LLMError) as info:
        await model.generate_async("hi")
    error = info.value
    assert (error.model, error.status_code, error.request_id, error.transient) == (
        "fake-model",
        401,
        "req-401",
        False,
    )
    assert "AuthenticationError" in str(error)
    assert SECRET not in str(error)
    assert error.__cause__ is None and error.__suppress_context__


def test_connection_errors_are_transient(fake_server: FakeServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    model = OpenAICompatibleModel(
        "fake-model",
        base_url=f"http://127.0.0.1:{closed_port}/v1",
        retry=RetryPolicy(max_attempts=2, base_delay=0.0),
        timeout=5,
    )
    with pytest.raises(LLMError, match="APIConnectionError") as info:
        model.generate("hi")
    assert info.value.transient


def test_tool_calls_and_options_travel_through_the_openai_backend(fake_server: FakeServer) -> None:
    body = completion("")
    body["choices"][0]["finish_reason"] = "tool_calls"
    body["choices"][0]["message"]["tool_calls"] = [
        {
            "id": "call-7",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        }
    ]
    fake_server.responses = [(200, {}, body)]
    weather = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    model = OpenAICompatibleModel("fake-model", base_url=fake_server.base_url)
    reply = model.generate(
        "Weather in Oslo?", tools=[weather], tool_choice="auto", stop=["\n"], json_mode=True
    )
    assert reply.finish_reason == "tool_calls"
    assert reply.tool_calls[0].name == "get_weather"
    assert reply.tool_calls[0].parsed_arguments() == {"city": "Oslo"}
    assert reply.request_id == "chatcmpl-fake"  # no x-request-id header: the completion id
    sent = fake_server.requests[0]
    assert sent["tools"] == [weather] and sent["tool_choice"] == "auto" and sent["stop"] == ["\n"]
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["messages"] == [{"role": "user", "content": "Weather in Oslo?"}]
