"""The model interface: one object with a sync face (``generate``) and async faces (``generate_async``,
``stream_async``) that share request building, the retry policy and limiter accounting.

A backend implements only the transport: ``_send``, ``_send_async`` and optionally ``_stream_async``, plus
``_translate_error`` to turn its library's exceptions into :class:`LLMError`.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import NoReturn, Unpack

from ..core.bridge import in_running_loop, warn_blocking_call
from ..core.context import current_hooks, emit
from .calls import LLM_CALL, LLM_START, LLMCall, LLMCallStart
from .capabilities import Capabilities
from .errors import LLMError
from .limiter import Limiter
from .retry import RetryPolicy
from .types import Message, Options, Prompt, Reply, Usage, as_messages, prompt_text

# Charged to a tokens-per-minute budget until the server reports real usage, when no max_tokens is set.
ESTIMATED_COMPLETION_TOKENS = 256


@dataclass(frozen=True)
class Request:
    """A prepared request: normalized messages, merged options and the token estimate for the limiter."""

    messages: list[Message]
    options: Options
    estimated_tokens: int


class Model(ABC):
    """A chat model. Use ``generate`` from sync code, ``generate_async``/``stream_async`` from async code.

    Every call goes through ``self.limiter`` (shared by all nodes that use this model object) and is retried
    on transient failures according to ``self.retry``. ``default_options`` apply to every call unless the
    call overrides them. ``capabilities`` says what the model supports (tool calling, constrained
    generation, context size); structured output and agents choose their defaults from it.
    """

    def __init__(
        self,
        name: str,
        *,
        limiter: Limiter | None = None,
        retry: RetryPolicy | None = None,
        default_options: Options | None = None,
        capabilities: Capabilities | None = None,
    ) -> None:
        self.name = name
        self._capabilities = capabilities if capabilities is not None else Capabilities()
        self.limiter = limiter if limiter is not None else Limiter()
        self.retry = retry if retry is not None else RetryPolicy()
        self.default_options: Options = default_options or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    @property
    def capabilities(self) -> Capabilities:
        """What this model supports (see :class:`Capabilities`)."""
        return self._capabilities

    @property
    def supports_json_schema(self) -> bool:
        """Shorthand for ``capabilities.supports_json_schema``."""
        return self.capabilities.supports_json_schema

    def generate(self, prompt: Prompt, **options: Unpack[Options]) -> Reply:
        """Send ``prompt`` and wait for the whole reply (blocking).

        Inside a running event loop this warns, naming ``generate_async``, and still completes: it does
        not wait for in-flight slots there, since only the blocked loop could free them.
        """
        blocking_loop = in_running_loop()
        if blocking_loop:
            warn_blocking_call(f"{type(self).__name__}.generate", "generate_async")
        request = self.prepare(prompt, options)
        if current_hooks() is None:
            return self._generate(request, blocking_loop)
        started, clock = self._report_start(request)
        try:
            reply = self._generate(request, blocking_loop)
        except Exception as exc:
            self._report_end(request, started, clock, None, exc)
            raise
        self._report_end(request, started, clock, reply)
        return reply

    def _generate(self, request: Request, blocking_loop: bool) -> Reply:
        attempt = 0
        while True:
            attempt += 1
            with self.limiter.hold(request.estimated_tokens, ignore_in_flight=blocking_loop) as lease:
                try:
                    reply = self._send(request)
                except Exception as exc:
                    delay = self._delay_or_raise(attempt, exc)
                else:
                    lease.settle(reply.usage.total_tokens)
                    return reply
            time.sleep(delay)

    async def generate_async(self, prompt: Prompt, **options: Unpack[Options]) -> Reply:
        """Send ``prompt`` and await the whole reply."""
        request = self.prepare(prompt, options)
        if current_hooks() is None:
            return await self._generate_async(request)
        started, clock = self._report_start(request)
        try:
            reply = await self._generate_async(request)
        except Exception as exc:
            self._report_end(request, started, clock, None, exc)
            raise
        self._report_end(request, started, clock, reply)
        return reply

    async def _generate_async(self, request: Request) -> Reply:
        attempt = 0
        while True:
            attempt += 1
            async with self.limiter.hold_async(request.estimated_tokens) as lease:
                try:
                    reply = await self._send_async(request)
                except Exception as exc:
                    delay = self._delay_or_raise(attempt, exc)
                else:
                    lease.settle(reply.usage.total_tokens)
                    return reply
            await asyncio.sleep(delay)

    async def stream_async(self, prompt: Prompt, **options: Unpack[Options]) -> AsyncIterator[str]:
        """Send ``prompt`` and yield the reply's text as it is generated, chunk by chunk.

        A failure before the first chunk is retried like ``generate_async``; after it, it is raised.
        """
        request = self.prepare(prompt, options)
        if current_hooks() is None:
            async for piece in self._stream(request, None):
                yield piece
            return
        started, clock = self._report_start(request)
        parts: list[str] = []
        usage: list[Usage] = []
        try:
            async for piece in self._stream(request, usage):
                parts.append(piece)
                yield piece
        except BaseException as exc:  # a consumer leaving early (GeneratorExit) ends the call too
            reply = Reply("".join(parts), usage=usage[-1] if usage else Usage(), model=self.name)
            error = exc if isinstance(exc, Exception) else None
            self._report_end(request, started, clock, None if error else reply, error, streamed=True)
            raise
        reply = Reply("".join(parts), usage=usage[-1] if usage else Usage(), model=self.name)
        self._report_end(request, started, clock, reply, streamed=True)

    async def _stream(self, request: Request, usage: list[Usage] | None) -> AsyncIterator[str]:
        attempt = 0
        while True:
            attempt += 1
            started = False
            async with self.limiter.hold_async(request.estimated_tokens) as lease:
                try:
                    async for piece in self._stream_async(request):
                        if isinstance(piece, Usage):
                            lease.settle(piece.total_tokens)
                            if usage is not None:
                                usage.append(piece)
                        elif piece:
                            started = True
                            yield piece
                    return
                except Exception as exc:
                    delay = self._delay_or_raise(attempt, exc, retryable=not started)
            await asyncio.sleep(delay)

    def _report_start(self, request: Request) -> tuple[float, float]:
        """Report a call about to start (a budget may raise here, before anything is sent)."""
        emit(LLM_START, LLMCallStart(self.name, request.messages, request.options))
        return time.time(), time.perf_counter()

    def _report_end(
        self,
        request: Request,
        started: float,
        clock: float,
        reply: Reply | None,
        error: Exception | None = None,
        *,
        streamed: bool = False,
    ) -> None:
        duration = time.perf_counter() - clock
        call = LLMCall(
            self.name, request.messages, request.options, started, duration, reply, error, streamed
        )
        emit(LLM_CALL, call)

    def prepare(self, prompt: Prompt, options: Options) -> Request:
        """Normalize the prompt, merge ``default_options`` and estimate the tokens the call will use."""
        messages = as_messages(prompt)
        merged: Options = {**self.default_options, **options}
        completion = merged.get("max_tokens", ESTIMATED_COMPLETION_TOKENS)
        # About four characters per token is close enough for budgeting; real usage is settled afterwards.
        estimated = len(prompt_text(messages)) // 4 + completion
        return Request(messages=messages, options=merged, estimated_tokens=estimated)

    @abstractmethod
    def _send(self, request: Request) -> Reply:
        """Perform one request synchronously (no retry, no limiter)."""

    @abstractmethod
    async def _send_async(self, request: Request) -> Reply:
        """Perform one request asynchronously (no retry, no limiter)."""

    async def _stream_async(self, request: Request) -> AsyncIterator[str | Usage]:
        """Yield text chunks and, at most once, the Usage; by default the whole reply as one chunk."""
        reply = await self._send_async(request)
        yield reply.text
        yield reply.usage

    def _translate_error(self, exc: Exception) -> LLMError | None:
        """Map a backend library's exception to an LLMError; None lets it propagate unchanged."""
        return None

    def _delay_or_raise(self, attempt: int, exc: Exception, *, retryable: bool = True) -> float:
        error = exc if isinstance(exc, LLMError) else self._translate_error(exc)
        if error is None:
            raise exc
        if not error.model:
            error.model = self.name
        delay = self.retry.delay_before_retry(attempt, error) if retryable else None
        if delay is None:
            _raise(error, exc)
        return delay


def _raise(error: LLMError, cause: Exception) -> NoReturn:
    if error is cause:
        raise error
    # The translated error already names the original type and message (with secrets redacted); chaining
    # the library's exception would print its unredacted text again.
    raise error from None
