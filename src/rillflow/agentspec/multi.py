"""Agent components built from other agents: SpecializedAgent, ManagerWorkers and Swarm.

A ``SpecializedAgent`` is its agent with the additional instructions and tools. ``ManagerWorkers`` is the
manager agent with one tool per worker: calling it runs that worker agent on the task (a fresh
conversation) and returns its answer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..agents.agent import Agent
from ..agents.tool import Tool
from .errors import UnsupportedComponentError
from .mcp_tools import SpecToolbox, start_with_toolboxes
from .nested import render_instructions
from .properties import by_title

if TYPE_CHECKING:
    from .build import Builder


def specialized_agent(builder: Builder, c: dict[str, Any]) -> Agent:
    base = dict(builder.require(c, "agent"))
    params = c.get("agent_specialization_parameters") or {}
    extra = str(params.get("additional_instructions") or "")
    if extra:
        base["system_prompt"] = f"{base.get('system_prompt') or ''}\n\n{extra}".strip()
    base["tools"] = [*(base.get("tools") or ()), *(params.get("additional_tools") or ())]
    base["name"] = c.get("name") or base.get("name")
    return builder.agent(base)


def worker_tool(worker: Agent, component: dict[str, Any]) -> Tool:
    """A tool that gives ``task`` to the worker agent and returns its answer."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(component.get("name") or worker.name))[:64]
    description = str(component.get("description") or f"Give a task to the agent {name}.")
    schema = {
        "type": "object",
        "properties": {"task": {"type": "string", "description": "the task, with all the context it needs"}},
        "required": ["task"],
        "additionalProperties": False,
    }

    async def delegate(task: str) -> Any:
        result = await worker.ask_async(task)
        return result.answer if result.answer is not None else f"{name} ran out of turns"

    return Tool(delegate, name, description, schema, is_async=True, _check_schema=schema)


def manager_workers(builder: Builder, c: dict[str, Any]) -> Agent:
    manager_spec = builder.require(c, "group_manager")
    workers = [worker_tool(builder.agent(w), w) for w in c.get("workers") or ()]
    manager = builder.agent(manager_spec)
    tools: Any = [*manager.toolbox, *workers]
    if isinstance(manager.toolbox, SpecToolbox):  # the manager's MCP toolboxes stay toolboxes
        boxes = manager.toolbox.boxes
        tools = SpecToolbox([*manager.toolbox.others(), *workers], boxes, timeout=manager.toolbox.timeout)
    agent = Agent(
        manager.config.model,
        tools,
        instructions=manager.config.instructions,
        max_iterations=manager.config.max_iterations,
        name=str(c.get("name") or manager.name),
    )
    defaults = {t: p["default"] for t, p in by_title(manager_spec.get("inputs")).items() if "default" in p}
    if isinstance(tools, SpecToolbox):
        return start_with_toolboxes(agent, defaults)
    return render_instructions(agent, defaults)


def swarm(builder: Builder, c: dict[str, Any]) -> Agent:
    """The first agent; every agent can send a message to the agents its relationships name (a task it
    waits for). Handing the whole conversation over is not offered, so ``handoff: always`` is refused."""
    if str(c.get("handoff", "optional")).lower() == "always":
        raise UnsupportedComponentError(
            f"{builder.doc.where(c)}: Swarm with handoff 'always' is not supported by rillflow "
            "(use 'optional' or 'never': agents then send messages to each other)"
        )
    agents: dict[int, Agent] = {}

    def agent_for(component: dict[str, Any]) -> Agent:
        if id(component) not in agents:
            agents[id(component)] = builder.agent(component)
        return agents[id(component)]

    first = agent_for(builder.require(c, "first_agent"))
    for pair in c.get("relationships") or ():
        caller, callee = pair
        tool = worker_tool(agent_for(callee), callee)
        agent_for(caller).toolbox.tools[tool.name] = tool  # an agent's toolbox is built once, then shared
    return first
