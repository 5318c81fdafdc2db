"""Running the tool calls a model asks for: validated, off the loop, time-bounded, errors as messages."""

from __future__ import annotations

import asyncio
import enum
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.context import current_hooks, emit
from ..core.fanout import check_concurrency, run_items
from ..llm.calls import TOOL_CALL, ToolRun
from ..llm.types import ToolCall
from .tool import Tool, ToolArgumentsError, ToolLike, as_tool


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one tool call. ``output`` is the text the model is shown (an error says so).

    ``arguments`` are the checked arguments (or the model's raw text when they did not check);
    ``value`` is what the function returned; ``exception`` what it raised, if anything (for logs);
    ``sent`` the arguments' JSON text as the model sent it.
    """

    call_id: str
    name: str
    arguments: Any
    output: str
    ok: bool
    value: Any = None
    exception: BaseException | None = None
    sent: str = ""
    # ``sent`` as parsed when the call ran, kept when only scalars, which nothing can have changed since:
    # record() then need not decode the JSON again.
    _sent_data: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def failure(
        cls, call: ToolCall, message: str, arguments: Any = None, exception: BaseException | None = None
    ) -> ToolResult:
        shown = call.arguments if arguments is None else arguments
        return cls(
            call.id, call.name, shown, f"Error: {message}", False, exception=exception, sent=call.arguments
        )

    def record(self) -> dict[str, Any]:
        """The result as plain JSON data (what an agent keeps in ``shared`` and checkpoints save):
        ``arguments`` as the model sent them, parsed from JSON when they were valid JSON."""
        return _record(self.call_id, self.name, self.sent, self._sent_data, self.ok, self.output)


def _record(
    call_id: str, name: str, sent: str, sent_data: dict[str, Any] | None, ok: bool, output: str
) -> dict[str, Any]:
    arguments: Any = sent
    if sent_data is not None:
        arguments = dict(sent_data)
    else:
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            pass  # kept as the raw text the model sent
    return {"id": call_id, "tool": name, "arguments": arguments, "ok": ok, "output": output}


# A call that ran: the checked arguments, the value, the output text and the sent arguments if kept.
_Ran = tuple[dict[str, Any], Any, str, "dict[str, Any] | None"]


class Toolbox:
    """A set of tools, and how to run the calls a model makes to them.

    Sync tools run in worker threads and async tools are awaited, so neither stalls the event loop.
    ``timeout`` (seconds) bounds every call unless the tool sets its own; a sync tool that times out
    keeps its thread until the function returns (Python cannot stop a thread), but the caller moves on.
    An unknown tool, invalid arguments, an exception or a timeout becomes a :class:`ToolResult` with
    ``ok=False`` and a message for the model: :meth:`run` never raises for them.
    """

    def __init__(self, tools: Iterable[ToolLike] = (), *, timeout: float | None = None) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        self.timeout = timeout
        self.tools: dict[str, Tool] = {}
        for item in tools:
            one = as_tool(item)
            if one.name in self.tools:
                raise ValueError(f"two tools are named {one.name!r}")
            self.tools[one.name] = one
        self._specs: tuple[tuple[Tool, ...], list[dict[str, Any]]] = ((), [])

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools.values())

    def __len__(self) -> int:
        return len(self.tools)

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def specs(self) -> list[dict[str, Any]]:
        """Every tool in the OpenAI ``tools`` format (a new list; treat its dicts as read-only)."""
        # Built once and reused by every model call while the tools stay the same ones (a tool added to
        # ``tools`` later, as multi-agent specs do, rebuilds them).
        tools, specs = self._specs
        current = tuple(self.tools.values())
        if current != tools:  # tools compare by identity
            specs = [one.spec() for one in current]
            self._specs = current, specs
        return list(specs)

    def needs_confirmation(self, call: ToolCall) -> bool:
        """True when ``call`` names a tool marked ``confirm=True``."""
        found = self.tools.get(call.name)
        return found is not None and found.confirm

    async def run(self, call: ToolCall) -> ToolResult:
        """Run one call; every failure is returned as a result, never raised. With run hooks attached it
        reports a ``"tool_call"`` event (:class:`~rillflow.llm.calls.ToolRun`)."""
        if current_hooks() is None:
            return _result(call, await self._attempt(call))
        started, clock = time.time(), time.perf_counter()
        result = _result(call, await self._attempt(call))
        found = self.tools.get(call.name)
        source = found.source if found is not None else ""
        duration = time.perf_counter() - clock
        emit(
            TOOL_CALL,
            ToolRun(call.name, call.id, call.arguments, result.output, result.ok, started, duration,
                    result.exception, source),
        )  # fmt: skip
        return result

    async def _run_to_record(self, call: ToolCall) -> dict[str, Any]:
        """``(await self.run(call)).record()``, without the ToolResult when no hooks need one."""
        if current_hooks() is not None:
            return (await self.run(call)).record()
        outcome = await self._attempt(call)
        if isinstance(outcome, ToolResult):
            return outcome.record()
        return _record(call.id, call.name, call.arguments, outcome[3], True, outcome[2])

    async def _attempt(self, call: ToolCall) -> ToolResult | _Ran:
        """Run one call: a failure as its ToolResult, a success as what ``_result`` makes one of."""
        found = self.tools.get(call.name)
        if found is None:
            known = ", ".join(self.tools) or "none"
            return ToolResult.failure(call, f"there is no tool named {call.name!r} (available: {known})")
        try:
            parsed = found._parse(call.arguments)
            arguments = found._convert(parsed)
        except ToolArgumentsError as exc:
            return ToolResult.failure(call, f"invalid arguments for {call.name}: {exc}", exception=exc)
        timeout = found.timeout if found.timeout is not None else self.timeout
        try:
            if timeout is None:  # no timeout scope to enter (it costs more than a fast tool's call)
                value = await found.call_async(arguments)
            else:
                async with asyncio.timeout(timeout) as scope:
                    value = await found.call_async(arguments)
        except TimeoutError as exc:
            expired = timeout is not None and scope.expired()
            message = f"{call.name} timed out after {timeout}s" if expired else _describe(exc)
            return ToolResult.failure(call, message, arguments, exc)
        except Exception as exc:
            return ToolResult.failure(call, f"{call.name} failed: {_describe(exc)}", arguments, exc)
        kept = parsed if isinstance(call.arguments, str) and _only_scalars(parsed) else None
        return arguments, value, format_output(value), kept

    async def run_all(
        self, calls: Sequence[ToolCall], *, max_concurrency: int | None = None
    ) -> list[ToolResult]:
        """Run several calls concurrently (at most ``max_concurrency`` at once); results in call order."""
        check_concurrency(max_concurrency)
        # run() returns every failure as a result, so nothing here fails fast.
        return await run_items(calls, self.run, max_concurrency=max_concurrency, fail_fast=True)


def _result(call: ToolCall, outcome: ToolResult | _Ran) -> ToolResult:
    if isinstance(outcome, ToolResult):
        return outcome
    arguments, value, output, kept = outcome
    return ToolResult(call.id, call.name, arguments, output, True, value, None, call.arguments, kept)


def format_output(value: Any) -> str:
    """The text a model is shown for a tool's return value: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=_jsonable)


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _only_scalars(data: dict[str, Any]) -> bool:
    for value in data.values():
        if type(value) not in _SCALAR_TYPES:
            return False
    return True


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):  # a pydantic model
        return value.model_dump(mode="json")
    if isinstance(value, enum.Enum):
        return value.value
    return str(value)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
