"""Mermaid text and the offline HTML page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

import rillflow as rf
from rillflow.viz import to_html, to_mermaid


class Load(rf.Node):
    pass


class Think(rf.Node):
    pass


class Summarize(rf.BatchNode):
    pass


class Answer(rf.Node):
    pass


def research_flow() -> rf.Flow:
    think = Think()
    think - "search" >> think  # a loop
    think - "answer" >> Answer()
    agent = rf.Flow(think, name="Agent")
    load = Load()
    load >> Summarize() >> agent
    agent - "retry" >> Load()  # a second Load: its own key and id
    return rf.Flow(load, name="Research")


EXPECTED = """\
flowchart TD
    %% rillflow flow "Research"
    n0_start(("start")) --> n1
    n1["Load"]
    n2[["Summarize"]]
    subgraph n3 ["Agent"]
        n3_start(("start")) --> n5
        n5["Think"]
        n6["Answer"]
        n5 -->|"search"| n5
        n5 -->|"answer"| n6
    end
    n4["Load#35;2"]
    n1 --> n2
    n2 --> n3
    n3 -->|"retry"| n4
"""


def test_mermaid_for_a_nested_flow_matches_the_expected_text() -> None:
    assert to_mermaid(research_flow()) == EXPECTED


def test_labels_are_escaped_and_direction_is_configurable() -> None:
    odd = rf.Node(name='Say "hi" <b>#1')
    odd - 'go "now"' >> rf.Node(name="end")
    text = to_mermaid(rf.Flow(odd, name="Odd"), direction="LR")
    assert text.startswith("flowchart LR\n")
    assert 'n1["Say #quot;hi#quot; #lt;b#gt;#35;1"]' in text
    assert 'n1 -->|"go #quot;now#quot;"| n2' in text
    assert 'n2["end"]' in text  # a reserved word as a label is fine: ids are generated
    with pytest.raises(ValueError, match="direction"):
        to_mermaid(rf.Flow(odd), direction="XY")


def test_batch_flows_and_a_flow_nested_in_itself_are_drawn() -> None:
    class Each(rf.BatchFlow):
        pass

    inner = Each(Load(), name="Each")
    outer = rf.Flow(inner, name="Top")
    inner.start_node.successors["again"] = outer  # a pathological cycle of flows: drawn, not recursed forever
    text = to_mermaid(outer)
    assert 'subgraph n1 ["Each (batch flow)"]' in text
    assert 'n1_start(("start")) --> n2' in text


def test_to_mermaid_rejects_a_plain_node() -> None:
    with pytest.raises(TypeError, match="expected a Flow"):
        to_mermaid(Load())  # type: ignore[arg-type]


def test_html_page_is_self_contained_and_draws_every_node() -> None:
    page = to_html(research_flow())
    assert "<script" not in page.lower()
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls == {"http://www.w3.org/2000/svg"}  # the SVG namespace only: nothing is loaded
    svg = re.search(r"<svg.*?</svg>", page, re.S)
    assert svg is not None
    root = ET.fromstring(svg.group(0))  # well-formed XML
    ns = {"s": "http://www.w3.org/2000/svg"}
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for label in ("Research", "Load", "Summarize", "Agent", "Think", "Answer", "Load#2", "search", "retry"):
        assert label in texts
    agent = root.find(".//s:g[@data-id='n3']", ns)
    assert agent is not None and agent.get("class") == "flow"
    inside = {g.get("data-id") for g in agent.iter("{http://www.w3.org/2000/svg}g")}
    assert {"n5", "n6"} <= inside and "n1" not in inside  # the nested flow's box holds its own nodes
    assert "flowchart TD" in page  # the Mermaid source is on the page too, escaped
    assert "n4[&quot;Load#35;2&quot;]" in page


def test_html_title_is_escaped() -> None:
    page = to_html(rf.Flow(Load()), title="<b>mine</b>")
    assert "<title>&lt;b&gt;mine&lt;/b&gt;</title>" in page


def describe(flow: Any) -> list[str]:
    return [line.strip() for line in to_mermaid(flow).splitlines()]


def test_empty_flow_draws_just_its_header() -> None:
    assert describe(rf.Flow(name="Empty")) == ["flowchart TD", '%% rillflow flow "Empty"']
