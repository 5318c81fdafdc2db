"""OpenTelemetry tracing (``pip install 'rillflow[otel]'``): one span per flow run and per node visit.

    from rillflow.observe.otel import TracingHooks
    flow.run(shared, hooks=TracingHooks())            # uses the global tracer provider
    flow.run(shared, hooks=TracingHooks(tracer_provider=provider))

Spans nest as the flows do: the run's span holds one span per node visit; a nested flow's span holds its
nodes' spans; nodes inside a batch flow item are children of the batch flow's span and carry the item
index. A node's span is the current span while it runs, so spans your own code (or an instrumented HTTP
client) starts inside ``exec`` are its children. Attributes: ``rillflow.path``, ``rillflow.node_type``,
``rillflow.action``, ``rillflow.retries``, ``rillflow.items`` (batch size), ``rillflow.item`` (batch
flow item); retries and fallbacks are span events; an error sets the span's status to ERROR and the node
where it was raised records the exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.context import Path
from ..core.hooks import RunHooks
from ..core.node import BaseNode
from ..errors import Interrupt
from ..usage import openinference

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = ["TracingHooks"]


def _otel() -> Any:
    try:
        from opentelemetry import context, trace
    except ImportError as exc:
        raise ImportError(
            "rillflow.observe.otel needs the 'opentelemetry-api' package: pip install 'rillflow[otel]'"
        ) from exc
    return trace, context


class TracingHooks(RunHooks):
    """Run hooks that record OpenTelemetry spans. ``tracer_provider`` defaults to the global one."""

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        tracer_name: str = "rillflow",
        *,
        hide_content: bool = False,
    ) -> None:
        self.hide_content = hide_content  # OpenInference: leave prompts, outputs and tool arguments out
        self._trace, self._context = _otel()
        self.tracer: Tracer = self._trace.get_tracer(tracer_name, tracer_provider=tracer_provider)
        self._spans: dict[Path, Span] = {}
        self._tokens: dict[Path, object] = {}
        self._recorded: dict[int, BaseException] = {}

    def _start(self, path: Path, name: str, node: BaseNode, kind: str) -> None:
        parent = self._parent(path)
        ctx: Context | None = self._trace.set_span_in_context(parent) if parent is not None else None
        span = self.tracer.start_span(name, context=ctx)
        span.set_attribute("rillflow.path", " > ".join(path))
        span.set_attribute("rillflow.node_type", type(node).__name__)
        span.set_attribute("rillflow.kind", kind)
        span.set_attribute(openinference.SPAN_KIND, openinference.node_kind(node))
        item = next((p for p in reversed(path) if p.startswith("#")), None)
        if item is not None:
            span.set_attribute("rillflow.item", int(item[1:]))
        self._spans[path] = span
        # Current while the node runs, so spans started inside it nest under it.
        self._tokens[path] = self._context.attach(self._trace.set_span_in_context(span))

    def _parent(self, path: Path) -> Span | None:
        """The span of the nearest enclosing flow (batch item segments ``#i`` have no span of their own)."""
        for end in range(len(path) - 1, 0, -1):
            span = self._spans.get(path[:end])
            if span is not None:
                return span
        return None

    def _end(self, path: Path, error: BaseException | None) -> Span | None:
        span = self._spans.pop(path, None)
        token = self._tokens.pop(path, None)
        if token is not None:
            self._context.detach(token)
        if span is None:
            return None
        if isinstance(error, Interrupt):
            span.set_attribute("rillflow.paused", True)
        elif error is not None:
            status = self._trace.Status(self._trace.StatusCode.ERROR, f"{type(error).__name__}: {error}")
            span.set_status(status)
            if id(error) not in self._recorded:  # the innermost span records it; outer ones just fail
                self._recorded[id(error)] = error
                span.record_exception(error)
        span.end()
        return span

    def on_run_start(self, *, node: BaseNode, path: Path, **_: Any) -> None:
        self._recorded.clear()
        self._start(path, f"run {path[-1]}", node, "run")

    def on_run_end(self, *, path: Path, result: Any, error: BaseException | None, **_: Any) -> None:
        span = self._spans.get(path)
        if span is not None and error is None:
            span.set_attribute("rillflow.action", "default" if result is None else str(result))
        self._end(path, error)
        self._recorded.clear()

    def on_node_start(self, *, node: BaseNode, path: Path, **_: Any) -> None:
        self._start(path, path[-1], node, "flow" if hasattr(node, "start_node") else "node")

    def on_node_end(
        self, *, node: BaseNode, path: Path, action: Any, error: BaseException | None, **_: Any
    ) -> None:
        span = self._spans.get(path)
        if span is not None:
            span.set_attribute("rillflow.retries", int(getattr(node, "cur_retry", 0)))
            if error is None:
                span.set_attribute("rillflow.action", "default" if action is None else str(action))
        self._end(path, error)

    def on_retry(self, *, path: Path, attempt: int, error: BaseException, delay: float, **_: Any) -> None:
        span = self._span_for(path)
        if span is not None:
            span.add_event(
                "retry",
                {"attempt": attempt, "delay": delay, "error": f"{type(error).__name__}: {error}"},
            )

    def on_fallback(self, *, path: Path, error: BaseException, **_: Any) -> None:
        span = self._span_for(path)
        if span is not None:
            span.add_event("fallback", {"error": f"{type(error).__name__}: {error}"})

    def on_items(self, *, path: Path, total: int, **_: Any) -> None:
        span = self._spans.get(path)
        if span is not None:
            span.set_attribute("rillflow.items", total)

    def _span_for(self, path: Path) -> Span | None:
        return self._spans.get(path) or self._parent(path)

    def on_emit(self, *, path: Path, kind: str, data: Any, **_: Any) -> None:
        """LLM and tool calls become OpenInference child spans of their node's span."""
        parent = self._span_for(path)
        openinference.record_call(
            self.tracer, self._trace, parent, kind, data, hide_content=self.hide_content
        )
