"""What the LLM layer reports about each model call and tool call, through :func:`rillflow.hooks.emit`.

With run hooks attached (listeners, a stream, tracing, a usage meter), every model call reports
``"llm_start"`` (an :class:`LLMCallStart`, before anything is sent: a budget can stop the call there) and
``"llm_call"`` (an :class:`LLMCall`, when it ended), and every tool call run by a ``Toolbox`` reports
``"tool_call"`` (a :class:`ToolRun`). Each carries the path of the node that made it, so accounting and
traces nest calls under their node. Without hooks nothing is built: the cost is one ContextVar read.
They are plain slotted dataclasses built positionally (not frozen: a frozen dataclass costs several
times more to build, and one is built per call); treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .types import Message, Options, Reply, Usage

LLM_START = "llm_start"
LLM_CALL = "llm_call"
TOOL_CALL = "tool_call"


@dataclass(slots=True)
class LLMCallStart:
    """A model call about to be sent (after the request was prepared, before the limiter and retries)."""

    model: str
    messages: list[Message]
    options: Options

    def __repr__(self) -> str:  # short: events are printed by listeners and the CLI's --stream
        return f"LLMCallStart(model={self.model!r}, messages={len(self.messages)})"


@dataclass(slots=True)
class LLMCall:
    """One model call as it ended: ``reply`` (None when it failed: then ``error``), when it started
    (``time.time()``), how long it took in seconds (retries and limiter waits included), and whether it
    was streamed. ``usage`` is what the server reported (zeros when it reported nothing)."""

    model: str
    messages: list[Message]
    options: Options
    started: float
    duration: float
    reply: Reply | None = None
    error: BaseException | None = None
    streamed: bool = False

    @property
    def usage(self) -> Usage:
        return self.reply.usage if self.reply is not None else _NO_USAGE

    def __repr__(self) -> str:
        u = self.usage
        outcome = f"error={type(self.error).__name__}" if self.error is not None else "ok"
        return (
            f"LLMCall(model={self.model!r}, prompt_tokens={u.prompt_tokens}, "
            f"completion_tokens={u.completion_tokens}, duration={self.duration:.4f}, {outcome})"
        )


@dataclass(slots=True)
class ToolRun:
    """One tool call run by a ``Toolbox``: the tool's name, the call id, the arguments as the model sent
    them (JSON text), the output shown to the model, ``ok=False`` for any failure (``error`` is the
    exception, if one was raised), when it started (``time.time()``) and how long it took."""

    tool: str
    call_id: str
    arguments: str
    output: str
    ok: bool
    started: float
    duration: float
    error: BaseException | None = None
    source: str = ""  # where the tool lives, e.g. "mcp:<server>" (empty: a Python tool)

    def __repr__(self) -> str:
        return f"ToolRun(tool={self.tool!r}, ok={self.ok}, duration={self.duration:.4f})"


_NO_USAGE = Usage()
