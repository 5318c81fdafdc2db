"""Runtime nodes for Agent Spec components: each reads its inputs from ``shared``, writes its outputs there.

Inside one flow, ``shared`` is the flow's variables: a node's input reads the key its data-flow edge names
(``sources``; by default the input's own title), and its outputs are written under ``targets`` (by default
their titles). Nested flows run on a fresh ``shared`` made of their inputs, like a function call.
The control-flow branch ``next`` is rillflow's ``default`` action.
"""

from __future__ import annotations

from typing import Any

from ..agents.tool import Tool
from ..core.async_nodes import AsyncNode
from ..llm.base import Model
from ..llm.structured import generate_structured_async
from .errors import MissingInputError
from .properties import Property, by_title, coerce, json_schema
from .templates import render

NEXT = "next"
CONVERSATION = "conversation"  # the flow's chat messages (InputMessageNode, OutputMessageNode, AgentNode)


def action_for(branch: str | None) -> str | None:
    """The rillflow action for an Agent Spec branch (``next`` is the default action)."""
    return None if branch in (None, NEXT) else branch


class SpecNode(AsyncNode):
    """A node built from an Agent Spec component; ``inputs``/``outputs`` are its declared properties."""

    component_type = "Node"
    agentspec_version: str | None = None
    # These preps only read `shared` (and keep the store a nested run pauses in on the node), so a
    # resumed durable run runs them again rather than continuing with a saved prep result.
    resume_runs_prep = True

    def __init__(self, component: dict[str, Any], *, name: str | None = None) -> None:
        super().__init__(name=name or str(component.get("name") or component.get("id") or "node"))
        self.component = component
        self.inputs: dict[str, Property] = by_title(component.get("inputs"))
        self.outputs: dict[str, Property] = by_title(component.get("outputs"))
        self.sources: dict[str, str] = {}
        self.targets: dict[str, list[str]] = {}

    def read_inputs(self, shared: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for title, prop in self.inputs.items():
            key = self.sources.get(title, title)
            if key in shared:
                values[title] = shared[key]
            elif "default" in prop:
                values[title] = prop["default"]
            else:
                raise MissingInputError(
                    f"{self.name}: no value for input {title!r} (shared[{key!r}] is not set and the "
                    "input has no default)"
                )
        return values

    def write_outputs(self, shared: dict[str, Any], values: dict[str, Any]) -> None:
        for title, prop in self.outputs.items():
            if title in values:
                value = values[title]
            elif "default" in prop:
                value = prop["default"]
            else:
                continue
            for key in self.targets.get(title, [title]):
                shared[key] = value

    async def prep_async(self, shared: dict[str, Any]) -> dict[str, Any]:
        return self.read_inputs(shared)


class StartNode(SpecNode):
    component_type = "StartNode"

    async def post_async(self, shared: dict[str, Any], inputs: dict[str, Any], exec_res: Any) -> None:
        self.write_outputs(shared, inputs)


class EndNode(SpecNode):
    component_type = "EndNode"

    async def post_async(self, shared: dict[str, Any], inputs: dict[str, Any], exec_res: Any) -> str | None:
        self.write_outputs(shared, inputs)
        return action_for(self.component.get("branch_name"))


class BranchingNode(SpecNode):
    """Takes the branch that ``mapping`` gives for its input's value, else the ``default`` branch."""

    component_type = "BranchingNode"

    async def post_async(self, shared: dict[str, Any], inputs: dict[str, Any], exec_res: Any) -> str:
        mapping = self.component.get("mapping") or {}
        value = next(iter(inputs.values()), None)
        keys = [str(value)]
        if isinstance(value, bool):  # a yes/no decision typed as a boolean
            keys += [str(value).lower(), "yes" if value else "no"]
        return str(next((mapping[k] for k in keys if k in mapping), "default"))


class LlmNode(SpecNode):
    """Fills the prompt template with the inputs; one string output gets the text, anything else is asked
    for as JSON matching the outputs' schemas (checked, retried with the error)."""

    component_type = "LlmNode"
    model: Model

    def __init__(self, component: dict[str, Any], model: Model, *, name: str | None = None) -> None:
        super().__init__(component, name=name)
        self.model = model
        if not self.outputs:
            self.outputs = {"generated_text": {"title": "generated_text", "type": "string"}}

    async def exec_async(self, inputs: dict[str, Any]) -> dict[str, Any]:
        prompt = render(str(self.component.get("prompt_template") or ""), inputs)
        props = list(self.outputs.values())
        if len(props) == 1 and props[0].get("type", "string") in ("string", "boolean", "integer", "number"):
            reply = await self.model.generate_async(prompt)
            text = reply.text if props[0].get("type", "string") == "string" else reply.text.strip()
            return {str(props[0]["title"]): coerce(text, props[0])}
        schema = json_schema(props)
        value = await generate_structured_async(self.model, prompt, schema=schema, format="json")
        return dict(value)

    async def post_async(self, shared: dict[str, Any], inputs: Any, outputs: dict[str, Any]) -> None:
        self.write_outputs(shared, outputs)


class ToolNode(SpecNode):
    """Calls its tool with the inputs; a ClientTool pauses the run for the caller (``node.interrupt``),
    whose answer is the tool's result."""

    component_type = "ToolNode"

    def __init__(self, component: dict[str, Any], tool: Tool | None, *, name: str | None = None) -> None:
        super().__init__(component, name=name)
        self.tool = tool  # None: a ClientTool

    async def exec_async(self, inputs: dict[str, Any]) -> Any:
        if self.tool is None:
            spec = self.component.get("tool") or {}
            payload = {"kind": "client_tool", "tool": spec.get("name"), "inputs": inputs}
            return self.interrupt(payload)
        return await self.tool.call_async(inputs)

    async def post_async(self, shared: dict[str, Any], inputs: Any, result: Any) -> None:
        self.write_outputs(shared, split_result(result, self.outputs))


def split_result(result: Any, outputs: dict[str, Property]) -> dict[str, Any]:
    """A tool's return value as output values: the value itself for one output, else its fields."""
    if not outputs:
        return {}
    if len(outputs) == 1:
        ((title, prop),) = outputs.items()
        if isinstance(result, dict) and title in result and prop.get("type") != "object":
            return {title: result[title]}
        return {title: coerce(result, prop)}
    return dict(result) if isinstance(result, dict) else {}


class InputMessageNode(SpecNode):
    """Shows its message (if any) and pauses the run for the user's reply (``node.interrupt``)."""

    component_type = "InputMessageNode"

    def __init__(self, component: dict[str, Any], *, name: str | None = None) -> None:
        super().__init__(component, name=name)
        if not self.outputs:
            self.outputs = {"user_input": {"title": "user_input", "type": "string"}}

    async def exec_async(self, inputs: dict[str, Any]) -> Any:
        message = self.component.get("message")
        text = render(str(message), inputs) if message else None
        return text, self.interrupt({"kind": "input_message", "message": text})

    async def post_async(self, shared: dict[str, Any], inputs: Any, exec_res: Any) -> None:
        shown, answer = exec_res
        conversation = shared.setdefault(CONVERSATION, [])
        if shown:
            conversation.append({"role": "assistant", "content": shown})
        conversation.append({"role": "user", "content": str(answer)})
        (title,) = list(self.outputs)[:1]
        self.write_outputs(shared, {title: answer})


class OutputMessageNode(SpecNode):
    """Adds its rendered message to the flow's conversation (``shared["conversation"]``)."""

    component_type = "OutputMessageNode"

    async def post_async(self, shared: dict[str, Any], inputs: dict[str, Any], exec_res: Any) -> None:
        text = render(str(self.component.get("message") or ""), inputs)
        shared.setdefault(CONVERSATION, []).append({"role": "assistant", "content": text})
        if self.outputs:
            self.write_outputs(shared, {next(iter(self.outputs)): text})
