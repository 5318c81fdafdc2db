"""Flows as data: export a rillflow flow to Agent Spec YAML, load it back, and run an Agent Spec config.

1. A support-ticket flow of Python nodes with declared inputs and outputs is exported with
   ``AgentSpecExporter`` (the YAML is what WayFlow and pyagentspec's adapters read), loaded back with
   ``AgentSpecLoader`` and run: the same graph, the same results, checked by ``IOContract``.
2. An Agent Spec config written by hand (an LlmNode that classifies, a BranchingNode, a ToolNode over a
   ServerTool from the registry) is loaded and run on the model given.

    [RILLFLOW_LLM=openai:<model>] python examples/agentspec_roundtrip.py [--dry-run] [--show-yaml]
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from rillflow import Flow, Node
from rillflow.agentspec import AgentSpecExporter, AgentSpecLoader, IOContract
from rillflow.llm import Model, ScriptedModel, default_model


class Classify(Node):
    """Pick the team for a ticket."""

    inputs: ClassVar[dict[str, Any]] = {"ticket": str}
    outputs: ClassVar[dict[str, Any]] = {"team": str}

    def prep(self, shared: dict[str, Any]) -> str:
        return str(shared["ticket"])

    def exec(self, ticket: str) -> str:
        return "billing" if "refund" in ticket.lower() or "invoice" in ticket.lower() else "support"

    def post(self, shared: dict[str, Any], prep_res: str, team: str) -> str:
        shared["team"] = team
        return team


class Refund(Node):
    inputs: ClassVar[dict[str, Any]] = {"ticket": str}
    outputs: ClassVar[dict[str, Any]] = {"reply": str}

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["reply"] = "A refund was opened for you."


class Troubleshoot(Node):
    inputs: ClassVar[dict[str, Any]] = {"ticket": str}
    outputs: ClassVar[dict[str, Any]] = {"reply": str}

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["reply"] = "Please restart the app and try again."


def ticket_flow() -> Flow:
    classify = Classify(max_retries=2)
    classify - "billing" >> Refund()
    classify - "support" >> Troubleshoot()
    return Flow(classify, name="Tickets")


HAND_WRITTEN = """
component_type: Flow
id: triage
name: triage
inputs: [{title: ticket, type: string}]
outputs: [{title: reply, type: string}]
start_node: {$component_ref: start}
nodes: [{$component_ref: start}, {$component_ref: classify}, {$component_ref: route},
        {$component_ref: refund}, {$component_ref: end}, {$component_ref: other}]
control_flow_connections:
- {component_type: ControlFlowEdge, id: c1, name: c1,
   from_node: {$component_ref: start}, to_node: {$component_ref: classify}}
- {component_type: ControlFlowEdge, id: c2, name: c2,
   from_node: {$component_ref: classify}, to_node: {$component_ref: route}}
- {component_type: ControlFlowEdge, id: c3, name: c3, from_node: {$component_ref: route}, from_branch: refund,
   to_node: {$component_ref: refund}}
- {component_type: ControlFlowEdge, id: c4, name: c4, from_node: {$component_ref: route},
   from_branch: default,
   to_node: {$component_ref: other}}
- {component_type: ControlFlowEdge, id: c5, name: c5,
   from_node: {$component_ref: refund}, to_node: {$component_ref: end}}
data_flow_connections:
- {component_type: DataFlowEdge, id: d1, name: d1, source_node: {$component_ref: start},
   source_output: ticket, destination_node: {$component_ref: classify}, destination_input: ticket}
- {component_type: DataFlowEdge, id: d2, name: d2, source_node: {$component_ref: classify},
   source_output: category, destination_node: {$component_ref: route}, destination_input: category}
- {component_type: DataFlowEdge, id: d3, name: d3, source_node: {$component_ref: start},
   source_output: ticket, destination_node: {$component_ref: refund}, destination_input: ticket}
- {component_type: DataFlowEdge, id: d4, name: d4, source_node: {$component_ref: refund},
   source_output: reply, destination_node: {$component_ref: end}, destination_input: reply}
$referenced_components:
  start: {component_type: StartNode, id: start, name: start, inputs: [{title: ticket, type: string}],
          outputs: [{title: ticket, type: string}]}
  classify:
    component_type: LlmNode
    id: classify
    name: classify
    inputs: [{title: ticket, type: string}]
    outputs: [{title: category, type: string}]
    prompt_template: "Answer with one word, refund or other. Is this ticket asking for a refund?\\n{{ticket}}"
    llm_config: {component_type: VllmConfig, id: llm, name: llm, model_id: my-model, url: "http://127.0.0.1:8000"}
  route: {component_type: BranchingNode, id: route, name: route, inputs: [{title: category, type: string}],
          mapping: {refund: refund, Refund: refund}}
  refund:
    component_type: ToolNode
    id: refund
    name: refund
    inputs: [{title: ticket, type: string}]
    outputs: [{title: reply, type: string}]
    tool: {component_type: ServerTool, id: open_refund, name: open_refund, description: Open a refund,
           inputs: [{title: ticket, type: string}], outputs: [{title: reply, type: string}]}
  end: {component_type: EndNode, id: end, name: end, inputs: [{title: reply, type: string}],
        outputs: [{title: reply, type: string}]}
  other: {component_type: EndNode, id: other, name: other, branch_name: other}
agentspec_version: 25.4.1
"""


def open_refund(ticket: str) -> str:
    return f"Refund opened for: {ticket[:40]}"


def scripted_model() -> ScriptedModel:
    return ScriptedModel(lambda prompt: "refund" if "money back" in prompt else "other")


def main(model: Model, *, show_yaml: bool = False) -> dict[str, Any]:
    # 1. rillflow -> Agent Spec -> rillflow
    flow = ticket_flow()
    exporter = AgentSpecExporter()
    text = exporter.to_yaml(flow)
    if show_yaml:
        print(text)
    loaded = AgentSpecLoader(tool_registry=exporter.tool_registry(flow)).load_yaml(text)
    results: dict[str, Any] = {"yaml_lines": len(text.splitlines())}
    for ticket in ("Where is my refund?", "The app crashes"):
        original, again = {"ticket": ticket}, {"ticket": ticket}
        flow.run(original, hooks=[IOContract()])
        loaded.run(again, hooks=[IOContract()])
        assert original == again, (original, again)
        print(f"{ticket!r:28} -> {again['team']:8} {again['reply']}  (same result after the round trip)")
        results[ticket] = again
    # 2. a hand-written Agent Spec config, run on the given model
    triage = AgentSpecLoader(tool_registry={"open_refund": open_refund}, llm=model).load_yaml(HAND_WRITTEN)
    for ticket in ("I want my money back for order 7", "How do I change my password?"):
        shared: dict[str, Any] = {"ticket": ticket}
        branch = triage.run(shared)
        print(f"{ticket!r:38} -> ended on branch {branch or 'next'!r}: {shared.get('reply', '(no reply)')}")
        results[ticket] = {"branch": branch, **shared}
    return results


if __name__ == "__main__":
    dry_run = "--dry-run" in sys.argv
    main(scripted_model() if dry_run else default_model(), show_yaml="--show-yaml" in sys.argv)
