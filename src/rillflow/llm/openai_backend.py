"""Backend for any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, llama.cpp) via the official SDK."""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .base import Model, Request
from .capabilities import Capabilities
from .errors import LLMError, missing_extra
from .limiter import Limiter
from .retry import RetryPolicy
from .types import Options, Reply, ToolCall, Usage

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletion

# The SDK refuses an empty key; local servers ignore whatever is sent.
PLACEHOLDER_API_KEY = "not-needed"
TRANSIENT_STATUS = frozenset({408, 409, 429})


def import_openai() -> Any:
    """The ``openai`` module, or an ImportError naming the extra that installs it."""
    try:
        import openai
    except ImportError as exc:
        raise missing_extra("openai", "openai") from exc
    return openai


class _Secret:
    """Holds an API key so that it never shows in reprs, tracebacks' locals or logs."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "'***'"

    def redact(self, text: str) -> str:
        return text.replace(self.value, "***") if len(self.value) >= 4 else text


class OpenAICompatibleModel(Model):
    """A model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    ``base_url`` and ``api_key`` default to ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``. The SDK's own
    retries are off: retries follow ``retry`` so that they are counted by the shared ``limiter``.
    ``supports_tools``, ``supports_json_schema`` and ``supports_grammar`` (a llama.cpp server) describe
    the server; ``capabilities`` replaces all three when given.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        supports_tools: bool = True,
        supports_json_schema: bool = True,
        supports_grammar: bool = False,
        capabilities: Capabilities | None = None,
        limiter: Limiter | None = None,
        retry: RetryPolicy | None = None,
        default_options: Options | None = None,
    ) -> None:
        described = capabilities or Capabilities(
            supports_tools=supports_tools,
            supports_json_schema=supports_json_schema,
            supports_grammar=supports_grammar,
        )
        super().__init__(
            model, limiter=limiter, retry=retry, default_options=default_options, capabilities=described
        )
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self._api_key = _Secret(api_key or os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_API_KEY)
        self.timeout = timeout
        self._client_lock = threading.Lock()
        self._sync_client: openai.OpenAI | None = None
        # httpx async connection pools belong to one event loop, so each loop gets its own client.
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.base_url!r})"

    def _resolve_base_url(self) -> str | None:
        """Where requests go; a subclass may start a server here."""
        return self.base_url

    def _server_ready(self) -> bool:
        """False when ``_resolve_base_url`` must run again before a request (a stopped local server)."""
        return True

    def _client_options(self) -> dict[str, Any]:
        return {
            "base_url": self._resolve_base_url(),
            "api_key": self._api_key.value,
            "timeout": self.timeout,
            "max_retries": 0,
        }

    def _client(self) -> openai.OpenAI:
        if not self._server_ready():
            self._resolve_base_url()  # restarts a stopped local server on its old port
        with self._client_lock:
            if self._sync_client is None:
                self._sync_client = import_openai().OpenAI(**self._client_options())
            return self._sync_client

    async def _async_client(self) -> openai.AsyncOpenAI:
        loop = asyncio.get_running_loop()
        if not self._server_ready():
            await asyncio.to_thread(self._resolve_base_url)
        client = self._async_clients.get(loop)
        if client is None:
            client = self._async_clients[loop] = import_openai().AsyncOpenAI(**self._client_options())
            closer = loop.create_task(_close_when_loop_ends(client), name="rillflow-llm-client-closer")
            _closers.add(closer)
            closer.add_done_callback(_closers.discard)
        return client

    def request_body(self, request: Request) -> dict[str, Any]:
        """The JSON body sent to ``chat.completions.create`` for ``request``."""
        options = request.options
        body: dict[str, Any] = {"model": self.name, "messages": request.messages}
        for key in ("temperature", "max_tokens", "stop", "seed", "tools", "tool_choice"):
            if key in options:
                body[key] = options[key]
        if "json_schema" in options:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": options["json_schema"]},
            }
        elif options.get("json_mode"):
            body["response_format"] = {"type": "json_object"}
        if "grammar" in options:
            # Not an OpenAI parameter: llama.cpp servers read it from the request body.
            body["extra_body"] = {"grammar": options["grammar"]}
        return body

    def _send(self, request: Request) -> Reply:
        return self._parse(self._client().chat.completions.create(**self.request_body(request)))

    async def _send_async(self, request: Request) -> Reply:
        client = await self._async_client()
        return self._parse(await client.chat.completions.create(**self.request_body(request)))

    async def _stream_async(self, request: Request) -> AsyncIterator[str | Usage]:
        client = await self._async_client()
        body = self.request_body(request) | {"stream": True, "stream_options": {"include_usage": True}}
        stream = await client.chat.completions.create(**body)
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
                if chunk.usage is not None:
                    yield _usage(chunk.usage)

    def _parse(self, completion: ChatCompletion) -> Reply:
        choice = completion.choices[0]
        calls = tuple(
            ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments)
            for call in choice.message.tool_calls or ()
            if call.type == "function"
        )
        usage = completion.usage
        return Reply(
            text=choice.message.content or "",
            finish_reason=choice.finish_reason or "stop",
            usage=_usage(usage) if usage else Usage(),
            tool_calls=calls,
            model=completion.model or self.name,
            request_id=getattr(completion, "_request_id", None) or completion.id,
        )

    def _translate_error(self, exc: Exception) -> LLMError | None:
        openai = import_openai()
        if not isinstance(exc, openai.OpenAIError):
            return None
        message = self._api_key.redact(f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}")
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            return LLMError(
                message,
                model=self.name,
                request_id=exc.request_id,
                status_code=status,
                transient=status in TRANSIENT_STATUS or status >= 500,
                retry_after=_retry_after(exc.response.headers.get("retry-after")),
            )
        transient = isinstance(exc, openai.APIConnectionError)  # includes timeouts
        return LLMError(message, model=self.name, transient=transient)


def _usage(usage: Any) -> Usage:
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0
    return Usage(usage.prompt_tokens, usage.completion_tokens, int(cached))


_closers: set[asyncio.Task[None]] = set()  # strong references: the loop keeps only weak ones


async def _close_when_loop_ends(client: openai.AsyncOpenAI) -> None:
    """Close ``client`` when its loop shuts down: ``asyncio.run`` cancels pending tasks before closing
    the loop, so its connections are closed cleanly instead of warning at garbage collection."""
    try:
        await asyncio.Event().wait()
    finally:
        await client.close()


def _retry_after(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:  # an HTTP date: rare for LLM servers, fall back to our own backoff
        return None
