"""Flows and the nodes that run other components: FlowNode, MapNode, ParallelMapNode, ParallelFlowNode,
CatchExceptionNode, AgentNode. A nested flow runs on a fresh ``shared`` holding its inputs (and the
conversation), and its outputs are copied back, like a function call."""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from ..agents.agent import Agent
from ..agents.turns import _Start
from ..core.async_nodes import AsyncFlow
from ..core.node import BaseNode
from .nodes import CONVERSATION, SpecNode
from .properties import Property, by_title
from .templates import render, variables

CURRENT_STORE: ContextVar[dict[str, Any] | None] = ContextVar("rillflow_agentspec_store", default=None)
"""The ``shared`` of the nested flow being run (IOContract checks nodes against it)."""


class SpecFlow(AsyncFlow):
    """A flow loaded from an Agent Spec ``Flow``: inputs are read from ``shared`` by title, outputs are
    written there by the EndNode that ends the run, and the run returns that EndNode's branch."""

    agentspec_version: str | None = None

    def __init__(self, component: dict[str, Any], *, name: str | None = None) -> None:
        super().__init__(name=name or str(component.get("name") or "Flow"))
        self.component = component
        self.inputs: dict[str, Property] = by_title(component.get("inputs"))
        self.outputs: dict[str, Property] = by_title(component.get("outputs"))


def frame_key(node: BaseNode) -> str:
    """Where a nested run keeps its ``shared`` inside the parent's while it runs (so a durable pause
    inside it saves it, and the resume continues it)."""
    return f"__running__/{node.name}"


async def run_child(
    flow: Any, values: dict[str, Any], shared: dict[str, Any], frame: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """Run ``flow`` on a new ``shared`` made of ``values`` (sharing the conversation); (action, shared).

    With ``frame``, the new ``shared`` lives at ``shared[frame]`` until the run ends: a run paused inside
    (``node.interrupt``) and resumed finds it there and continues it."""
    child = shared.get(frame) if frame else None
    if not isinstance(child, dict):
        child = dict(values)
        if CONVERSATION in shared:
            child[CONVERSATION] = shared[CONVERSATION]
        if frame:
            shared[frame] = child
    token = CURRENT_STORE.set(child)
    try:
        action = await flow.run_async(child)
    except Exception:
        if frame:
            shared.pop(frame, None)
        raise
    finally:
        CURRENT_STORE.reset(token)
    if frame:
        shared.pop(frame, None)
    return action, child


def _outputs_of(child: dict[str, Any], titles: Any) -> dict[str, Any]:
    return {title: child[title] for title in titles if title in child}


class FlowNode(SpecNode):
    component_type = "FlowNode"

    def __init__(self, component: dict[str, Any], subflow: Any, *, name: str | None = None) -> None:
        super().__init__(component, name=name)
        self.subflow = subflow
        if not self.outputs:
            self.outputs = dict(getattr(subflow, "outputs", {}))

    async def exec_async(self, inputs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        return await run_child(self.subflow, inputs, self._parent, frame_key(self))

    async def prep_async(self, shared: dict[str, Any]) -> dict[str, Any]:
        self._parent = shared  # this visit's copy only
        return self.read_inputs(shared)

    async def post_async(self, shared: dict[str, Any], inputs: Any, exec_res: Any) -> Any:
        action, child = exec_res
        self.write_outputs(shared, _outputs_of(child, self.outputs))
        return action


class MapNode(SpecNode):
    """Runs the subflow once per item: input ``iterated_x`` (a list) feeds the subflow's ``x``; other
    inputs go to every run; output ``collected_y`` is the list of the runs' ``y`` (reducer ``append``)."""

    component_type = "MapNode"
    parallel = False
    max_concurrency: int | None = None

    def __init__(self, component: dict[str, Any], subflow: Any, *, name: str | None = None) -> None:
        super().__init__(component, name=name)
        self.subflow = subflow

    async def exec_async(self, inputs: dict[str, Any]) -> list[dict[str, Any]]:
        iterated = {k.removeprefix("iterated_"): v for k, v in inputs.items() if k.startswith("iterated_")}
        fixed = {k: v for k, v in inputs.items() if not k.startswith("iterated_")}
        count = max((len(v) for v in iterated.values() if isinstance(v, list | tuple)), default=0)
        runs = [{**fixed, **{k: _item(v, i) for k, v in iterated.items()}} for i in range(count)]
        if not self.parallel:
            return [(await run_child(self.subflow, values, {}))[1] for values in runs]
        bound = asyncio.Semaphore(self.max_concurrency or max(len(runs), 1))

        async def one(values: dict[str, Any]) -> dict[str, Any]:
            async with bound:
                return (await run_child(self.subflow, values, {}))[1]

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(values)) for values in runs]
        return [task.result() for task in tasks]

    async def post_async(self, shared: dict[str, Any], inputs: Any, results: list[dict[str, Any]]) -> None:
        reducers = self.component.get("reducers") or {}
        outputs: dict[str, Any] = {}
        for title in self.outputs:
            name = title.removeprefix("collected_")
            values = [r[name] for r in results if name in r]
            how = str(reducers.get(name, "append")).lower()
            outputs[title] = _reduce(values, how)
        self.write_outputs(shared, outputs)


def _item(value: Any, index: int) -> Any:
    return value[index] if isinstance(value, list | tuple) and index < len(value) else value


def _reduce(values: list[Any], how: str) -> Any:
    if how.endswith("sum"):
        return sum(values)
    if how.endswith("avg") or how.endswith("average"):
        return sum(values) / len(values) if values else 0
    if how.endswith("max"):
        return max(values, default=None)
    if how.endswith("min"):
        return min(values, default=None)
    return values


class ParallelMapNode(MapNode):
    component_type = "ParallelMapNode"
    parallel = True


class ParallelFlowNode(SpecNode):
    """Runs all its subflows at once, each on the inputs it declares; outputs are the union of theirs."""

    component_type = "ParallelFlowNode"

    def __init__(self, component: dict[str, Any], subflows: list[Any], *, name: str | None = None) -> None:
        super().__init__(component, name=name)
        self.subflows = subflows

    async def exec_async(self, inputs: dict[str, Any]) -> dict[str, Any]:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(run_child(f, {k: v for k, v in inputs.items() if k in f.inputs}, {}))
                for f in self.subflows
            ]
        merged: dict[str, Any] = {}
        for flow, task in zip(self.subflows, tasks, strict=True):
            merged.update(_outputs_of(task.result()[1], flow.outputs))
        return merged

    async def post_async(self, shared: dict[str, Any], inputs: Any, outputs: dict[str, Any]) -> None:
        self.write_outputs(shared, outputs)


class CatchExceptionNode(FlowNode):
    """Runs the subflow; an exception takes the ``caught_exception_branch`` with its text in
    ``caught_exception_info`` instead of failing the run."""

    component_type = "CatchExceptionNode"
    BRANCH, INFO = "caught_exception_branch", "caught_exception_info"

    async def exec_async(self, inputs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        try:
            return await run_child(self.subflow, inputs, self._parent, frame_key(self))
        except Exception as exc:
            return self.BRANCH, {self.INFO: f"{type(exc).__name__}: {exc}"}


class _RenderingStart(_Start):
    """The agent's first node, filling ``{{name}}`` placeholders of the instructions from ``shared``."""

    defaults: dict[str, Any]

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        names = variables(self.config.instructions)
        values = {n: self.defaults[n] for n in names if n in self.defaults}
        values.update(
            {n: self.params.get(n, shared.get(n)) for n in names if n in self.params or n in shared}
        )
        self.config = replace(self.config, instructions=render(self.config.instructions, values))
        return super().post(shared, prep_res, exec_res)


def render_instructions(agent: Agent, defaults: dict[str, Any]) -> Agent:
    """Make ``agent`` fill template placeholders in its instructions from the run's inputs (``shared``,
    params), else from the agent's input ``defaults``."""
    if variables(agent.config.instructions):
        start = _RenderingStart(agent.config, "Start")
        start.defaults = defaults
        start.successors = agent.start_node.successors if agent.start_node else {}
        agent.start_node = start
    return agent


class AgentNode(SpecNode):
    """Runs an agent: its inputs fill the system prompt, the question is the conversation's last user
    message; one string output gets the answer, several are read from the answer as JSON."""

    component_type = "AgentNode"

    def __init__(self, component: dict[str, Any], agent: Agent, *, name: str | None = None) -> None:
        super().__init__(component, name=name)
        self.agent = agent

    async def prep_async(self, shared: dict[str, Any]) -> dict[str, Any]:
        self._parent = shared  # this visit's copy only
        values = self.read_inputs(shared)
        users = [m for m in shared.get(CONVERSATION, []) if m.get("role") == "user"]
        if users:
            values["question"] = users[-1]["content"]
        return values

    async def exec_async(self, inputs: dict[str, Any]) -> dict[str, Any]:
        _, child = await run_child(self.agent, inputs, self._parent, frame_key(self))
        return dict(child["agent"])

    async def post_async(self, shared: dict[str, Any], inputs: Any, state: dict[str, Any]) -> None:
        answer = state.get("answer")
        if answer is not None:
            shared.setdefault(CONVERSATION, []).append({"role": "assistant", "content": answer})
        self.write_outputs(shared, answer_outputs(answer, self.outputs))


def answer_outputs(answer: Any, outputs: dict[str, Property]) -> dict[str, Any]:
    if not outputs or answer is None:
        return {}
    if len(outputs) == 1 and next(iter(outputs.values())).get("type", "string") == "string":
        return {next(iter(outputs)): answer}
    try:
        data = json.loads(str(answer))
    except json.JSONDecodeError:
        return {next(iter(outputs)): answer}
    return {k: v for k, v in data.items() if k in outputs} if isinstance(data, dict) else {}
