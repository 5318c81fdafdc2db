"""The example runs offline on the scripted model; ``rillflow run config.yaml`` runs a config."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest
from agentspec_helpers import EXAMPLES, REPO

from rillflow.cli import main

TOOLS_MODULE = """
def get_synonyms(word: str) -> list:
    return [word + "-ish"]

registry = {"get_synonyms": get_synonyms}
"""


def test_example_round_trips_and_runs_the_hand_written_config(capsys: pytest.CaptureFixture[str]) -> None:
    example = runpy.run_path(str(REPO / "examples" / "agentspec_roundtrip.py"), run_name="example")
    results: dict[str, Any] = example["main"](example["scripted_model"]())
    assert results["Where is my refund?"]["reply"] == "A refund was opened for you."
    assert results["The app crashes"]["team"] == "support"
    assert results["I want my money back for order 7"]["branch"] is None
    assert results["I want my money back for order 7"]["reply"].startswith("Refund opened for")
    assert results["How do I change my password?"]["branch"] == "other"
    assert "same result after the round trip" in capsys.readouterr().out


TOOL_FLOW = """
component_type: Flow
id: f
name: synonyms
inputs: [{title: word, type: string}]
outputs: [{title: synonyms, type: array}]
start_node: {$component_ref: start}
nodes: [{$component_ref: start}, {$component_ref: call}, {$component_ref: end}]
control_flow_connections:
- {component_type: ControlFlowEdge, id: e1, name: e1,
   from_node: {$component_ref: start}, to_node: {$component_ref: call}}
- {component_type: ControlFlowEdge, id: e2, name: e2,
   from_node: {$component_ref: call}, to_node: {$component_ref: end}}
$referenced_components:
  start: {component_type: StartNode, id: start, name: start, inputs: [{title: word, type: string}]}
  end: {component_type: EndNode, id: end, name: end, inputs: [{title: synonyms, type: array}]}
  call:
    component_type: ToolNode
    id: call
    name: call
    tool: {component_type: ServerTool, id: t, name: get_synonyms, inputs: [{title: word, type: string}],
           outputs: [{title: synonyms, type: array}]}
    inputs: [{title: word, type: string}]
    outputs: [{title: synonyms, type: array}]
"""


def test_cli_runs_a_config_file_with_a_tools_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "synonyms.yaml"
    config.write_text(TOOL_FLOW, encoding="utf-8")
    (tmp_path / "mytools.py").write_text(TOOLS_MODULE, encoding="utf-8")
    shared = tmp_path / "in.json"
    shared.write_text(json.dumps({"word": "blue"}), encoding="utf-8")
    tools = f"{tmp_path / 'mytools.py'}:registry"
    assert main(["run", str(config), "--shared", str(shared), "--tools", tools]) == 0
    assert json.loads(capsys.readouterr().out) == {"word": "blue", "synonyms": ["blue-ish"]}
    assert main(["run", str(config), "--shared", str(shared), "--tools", "nowhere.py:registry"]) == 2
    assert "nowhere" in capsys.readouterr().err


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="the shared Agent Spec examples are not here")
def test_cli_runs_a_listed_config_with_a_tools_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = EXAMPLES / "pyagentspec-tests" / "example_serialized_flow_with_branching_node.yaml"
    shared = tmp_path / "in.json"
    shared.write_text(json.dumps({"Input_1": "yes"}), encoding="utf-8")
    assert main(["run", str(config), "--shared", str(shared)]) == 0
    assert json.loads(capsys.readouterr().out) == {"Input_1": "yes", "Input_2": "no"}


def test_cli_reports_an_unknown_tool_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("the shared Agent Spec examples are not here")
    (tmp_path / "mytools.py").write_text(TOOLS_MODULE, encoding="utf-8")
    config = EXAMPLES / "configs" / "math_homework_agent.yaml"
    assert main(["run", str(config), "--tools", f"{tmp_path / 'mytools.py'}:registry"]) == 2
    err = capsys.readouterr().err
    assert "ServerTool" in err and "is not in the tool registry" in err and err.count("\n") == 1
