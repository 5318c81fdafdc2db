"""OpenTelemetry spans: one per run and node visit, nested as the flows are (SDK in-memory exporter)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import rillflow as rf
from rillflow.observe.otel import TracingHooks


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


@pytest.fixture
def hooks(exporter: InMemorySpanExporter) -> TracingHooks:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return TracingHooks(tracer_provider=provider)


def tree(spans: tuple[ReadableSpan, ...]) -> list[str]:
    """The spans as an indented outline, children in start order."""
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = span.parent.span_id if span.parent is not None else None
        by_parent.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in by_parent.get(parent, []):
            lines.append("  " * depth + span.name)
            walk(span.get_span_context().span_id, depth + 1)

    walk(None, 0)
    return lines


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    return next(s for s in spans if s.name == name)


class Route(rf.Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        return "next"


class Work(rf.Node):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_retries=3, **kwargs)

    def exec(self, prep_res: Any) -> str:
        if self.cur_retry == 0:
            raise ConnectionError("flaky")
        return "done"


def build() -> rf.Flow:
    route = Route()
    route - "next" >> rf.Flow(Work(), name="Inner")
    return rf.Flow(route, name="Outer")


def test_span_tree_follows_the_nesting_of_flows(exporter: InMemorySpanExporter, hooks: TracingHooks) -> None:
    build().run({}, hooks=hooks)
    spans = exporter.get_finished_spans()
    assert tree(spans) == ["run Outer", "  Route", "  Inner", "    Work"]
    route, work = by_name(spans, "Route"), by_name(spans, "Work")
    assert route.attributes is not None and work.attributes is not None
    assert route.attributes["rillflow.action"] == "next"
    assert route.attributes["rillflow.path"] == "Outer > Route"
    assert work.attributes["rillflow.retries"] == 1
    assert [e.name for e in work.events] == ["retry"]
    assert work.events[0].attributes is not None
    assert work.events[0].attributes["error"] == "ConnectionError: flaky"
    assert all(s.status.status_code == StatusCode.UNSET for s in spans)


@pytest.mark.parametrize("use_async", [False, True])
async def test_spans_started_inside_a_node_are_its_children(
    exporter: InMemorySpanExporter, use_async: bool
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    user_tracer = provider.get_tracer("user")

    class Traced(rf.Node):
        def exec(self, prep_res: Any) -> None:  # in a worker thread when the flow is async
            with user_tracer.start_as_current_span("user work"):
                pass

    hooks = TracingHooks(tracer_provider=provider)
    if use_async:
        await rf.AsyncFlow(Traced(), name="T").run_async({}, hooks=hooks)
    else:
        rf.Flow(Traced(), name="T").run({}, hooks=hooks)
    assert tree(exporter.get_finished_spans()) == ["run T", "  Traced", "    user work"]


class Boom(rf.Node):
    def exec(self, prep_res: Any) -> None:
        raise ValueError("broken")


def test_errors_mark_every_enclosing_span_and_are_recorded_where_raised(
    exporter: InMemorySpanExporter, hooks: TracingHooks
) -> None:
    with pytest.raises(ValueError):
        rf.Flow(rf.Flow(Boom(), name="Inner"), name="Outer").run({}, hooks=hooks)
    spans = exporter.get_finished_spans()
    assert tree(spans) == ["run Outer", "  Inner", "    Boom"]
    assert all(s.status.status_code == StatusCode.ERROR for s in spans)
    recorded = {s.name: [e.name for e in s.events] for s in spans}
    assert recorded["Boom"] == ["fallback", "exception"]
    assert recorded["Inner"] == [] and recorded["run Outer"] == []


class Greet(rf.AsyncNode):
    async def exec_async(self, prep_res: Any) -> str:
        return str(self.params["who"])


class EachPerson(rf.AsyncParallelBatchFlow):
    async def prep_async(self, shared: Any) -> list[dict[str, str]]:
        return [{"who": "ann"}, {"who": "bob"}]


class Lengths(rf.AsyncParallelBatchNode):
    async def prep_async(self, shared: Any) -> list[str]:
        return ["a", "bb", "ccc"]

    async def exec_async(self, item: str) -> int:
        return len(item)


async def test_parallel_batches_nest_item_nodes_under_the_batch(
    exporter: InMemorySpanExporter, hooks: TracingHooks
) -> None:
    people = EachPerson(Greet(), name="People")
    people >> Lengths()
    await rf.AsyncFlow(people, name="Top").run_async({}, hooks=hooks)
    spans = exporter.get_finished_spans()
    assert sorted(tree(spans)) == sorted(["run Top", "  People", "    Greet", "    Greet", "  Lengths"])
    items = sorted(s.attributes["rillflow.item"] for s in spans if s.name == "Greet" and s.attributes)
    assert items == [0, 1]
    lengths = by_name(spans, "Lengths")
    assert lengths.attributes is not None and lengths.attributes["rillflow.items"] == 3


def test_otel_module_names_the_extra_when_opentelemetry_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ImportError, match=r"pip install 'rillflow\[otel\]'"):
        TracingHooks()
