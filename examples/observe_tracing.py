"""Tracing a run with OpenTelemetry (``pip install 'rillflow[otel]'``), printed as a span tree.

In production, give ``TracingHooks`` your tracer provider (or set the global one) with an OTLP exporter;
here spans go to the SDK's in-memory exporter so the example runs offline.

    python examples/observe_tracing.py
"""

from __future__ import annotations

import asyncio
from typing import Any

from observe_pipeline import build_flow
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rillflow.observe.otel import TracingHooks


def outline(spans: tuple[ReadableSpan, ...]) -> list[str]:
    """Spans as an indented tree with their rillflow attributes."""
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        children.setdefault(span.parent.span_id if span.parent else None, []).append(span)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in children.get(parent, []):
            attrs = dict(span.attributes or {})
            shown = {k.removeprefix("rillflow."): v for k, v in attrs.items() if k != "rillflow.path"}
            ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
            lines.append(f"{'  ' * depth}{span.name:<{30 - 2 * depth}} {ms:7.2f} ms  {shown}")
            walk(span.get_span_context().span_id, depth + 1)

    walk(None, 0)
    return lines


async def main() -> list[str]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    shared: dict[str, Any] = {"topics": ["tides", "lighthouses"]}
    await build_flow().run_async(shared, hooks=TracingHooks(tracer_provider=provider))
    lines = outline(exporter.get_finished_spans())
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    asyncio.run(main())
