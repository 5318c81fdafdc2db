"""A model that answers from a script: for tests, examples and offline dry runs. It records every call."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

from .base import Model, Request
from .capabilities import Capabilities
from .errors import LLMError
from .limiter import Limiter
from .retry import RetryPolicy
from .types import Message, Options, Reply, Usage, prompt_text

ScriptStep = str | Reply | Exception
"""One scripted answer: reply text, a full Reply, or an exception to raise (e.g. a transient LLMError)."""


@dataclass(frozen=True)
class Call:
    """One request the scripted model received."""

    messages: list[Message]
    options: Options

    @property
    def prompt(self) -> str:
        """The text of all messages, joined by newlines."""
        return prompt_text(self.messages)


class ScriptedModel(Model):
    """Answers from ``script``: either a list of steps used in order, or a function of the prompt text
    (all message contents joined by newlines) returning a step.

    ``latency`` simulates server time (slept by both faces). ``calls`` records every request, and
    ``peak_concurrency`` how many were being answered at once. ``capabilities`` lets a test play any
    backend (``supports_json_schema=True`` is a shorthand for that one capability).
    """

    def __init__(
        self,
        script: Iterable[ScriptStep] | Callable[[str], ScriptStep],
        *,
        name: str = "scripted",
        latency: float = 0.0,
        supports_json_schema: bool = False,
        capabilities: Capabilities | None = None,
        limiter: Limiter | None = None,
        retry: RetryPolicy | None = None,
        default_options: Options | None = None,
    ) -> None:
        described = capabilities or Capabilities(supports_json_schema=supports_json_schema)
        super().__init__(
            name, limiter=limiter, retry=retry, default_options=default_options, capabilities=described
        )
        self._respond = script if callable(script) else None
        self._steps = [] if callable(script) else list(script)
        self.latency = latency
        self.calls: list[Call] = []
        self.peak_concurrency = 0
        self._active = 0
        self._lock = threading.Lock()

    @property
    def prompts(self) -> list[str]:
        """The prompt text of every call so far."""
        return [call.prompt for call in self.calls]

    def _send(self, request: Request) -> Reply:
        step = self._begin(request)
        try:
            time.sleep(self.latency)
        finally:
            self._end()
        return self._reply(step, request)

    async def _send_async(self, request: Request) -> Reply:
        step = self._begin(request)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self._end()
        return self._reply(step, request)

    async def _stream_async(self, request: Request) -> AsyncIterator[str | Usage]:
        reply = await self._send_async(request)
        for word in re.findall(r"\S+\s*|\s+", reply.text):
            yield word
        yield reply.usage

    def _begin(self, request: Request) -> ScriptStep:
        with self._lock:
            self.calls.append(Call(request.messages, request.options))
            self._active += 1
            self.peak_concurrency = max(self.peak_concurrency, self._active)
            if self._respond is not None:
                return self._respond(prompt_text(request.messages))
            if not self._steps:
                return LLMError("the scripted model has no replies left", model=self.name)
            return self._steps.pop(0)

    def _end(self) -> None:
        with self._lock:
            self._active -= 1

    def _reply(self, step: ScriptStep, request: Request) -> Reply:
        if isinstance(step, Exception):
            raise step
        if isinstance(step, Reply):
            return step
        usage = Usage(len(prompt_text(request.messages).split()), len(step.split()))
        return Reply(text=step, usage=usage, model=self.name, request_id=f"scripted-{len(self.calls)}")
