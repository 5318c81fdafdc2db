"""The diagram marks the right box, in nested flows too, drawn from the flow or from the stored shape."""

from __future__ import annotations

import json

from rillflow import Flow, Node
from rillflow.durable.shape import shape_of
from rillflow.ui.diagram import box_id, diagram_svg, graph_from_shape


class Add(Node): ...


class Tail(Node): ...


def nested_flow() -> Flow:
    add, tail = Add(), Tail()
    add - "again" >> add
    add - "out" >> tail
    head, last = Tail(), Tail()
    head >> Flow(start=add, name="Sub") >> last
    return Flow(start=head, name="Top")


def test_the_stored_shape_rebuilds_the_diagram() -> None:
    flow = nested_flow()
    graph = graph_from_shape(json.dumps(shape_of(flow)))
    assert graph is not None
    assert [b.key for b in graph.boxes] == ["Tail", "Sub", "Tail#2"]
    sub = graph.boxes[1].inner
    assert sub is not None and [b.key for b in sub.boxes] == ["Add", "Tail"]
    assert {(e.src, e.dst, e.action) for e in sub.edges} == {
        (sub.boxes[0].id, sub.boxes[0].id, "again"),
        (sub.boxes[0].id, sub.boxes[1].id, "out"),
    }
    assert box_id(graph, ("Top", "Sub", "Add")) == sub.boxes[0].id
    assert box_id(graph, ("Top", "Sub", "#3", "Add")) == sub.boxes[0].id  # item segments are skipped
    assert graph_from_shape("not json") is None


def test_marks_land_on_the_named_node_or_flow() -> None:
    flow = nested_flow()
    shape = json.dumps(shape_of(flow))
    for source in (flow, None):
        svg = diagram_svg(source, shape, {"current": ["Top", "Sub", "Add"]})
        assert svg.count('class="node current"') == 1
        svg = diagram_svg(source, shape, {"failed": ["Top", "Sub"]})
        assert svg.count('class="flow failed"') == 1
    assert diagram_svg(None, shape, {"<script>": ["Top", "Sub", "Add"]}).count("<script>") == 0
