"""The agent's nodes (Start, Think, Act, Finish) and the loop that runs their turns without a flow walk.

The nodes keep all of an agent's state in ``shared[key]``. ``TurnLoop`` (the agent's base) calls the same
node phases as the flow walk would, for runs that nothing watches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..core.async_nodes import AsyncFlow, AsyncNode, AsyncParallelBatchNode
from ..core.context import HOOKS
from ..core.graph import label, visit_copy
from ..core.node import BaseNode
from ..core.phases import PHASE_ATTRS, Plan
from ..errors import add_path_segment, describe_item
from ..llm.base import Model
from ..llm.types import Message, Options, ToolCall
from .confirm import Confirm, decide
from .history import fit_history
from .protocol import ANSWER, Must, Protocol
from .toolbox import Toolbox, ToolResult

MAX_ITERATIONS = "max_iterations"
REPLY_TOKENS = 512  # kept free for the reply when no max_tokens is set
Nodes = tuple["_Start", "_Think", "_Act", "_Finish"]


@dataclass(frozen=True)
class _Config:
    model: Model
    toolbox: Toolbox
    protocol: Protocol
    instructions: str
    max_iterations: int
    key: str
    input_key: str
    confirm: Confirm | None
    options: Options
    require_tool: bool
    answer_on_last_turn: bool
    repeat_calls: bool


class _AgentNode(AsyncNode):
    def __init__(self, config: _Config, name: str) -> None:
        super().__init__(name=name)
        self.config = config

    def state(self, shared: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = shared[self.config.key]
        return state


class _Start(_AgentNode):
    """Opens a turn of conversation: the system prompt once, then the new question as a user message."""

    # The phases that only touch ``shared`` are plain methods: run on the loop all the same (an async
    # node never sends prep or post to a thread), without a coroutine per visit.
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        cfg = self.config
        state = shared.setdefault(cfg.key, {"messages": [], "steps": []})
        if not state["messages"]:
            system = cfg.protocol.system_prompt(cfg.instructions, cfg.toolbox)
            if system:
                state["messages"].append({"role": "system", "content": system})
        question = self.params.get(cfg.input_key, shared.get(cfg.input_key))
        state["run_start"] = len(state["messages"])
        if question is not None:
            state["messages"].append({"role": "user", "content": str(question)})
        state.update(
            iterations=0, answer=None, outcome=None, pending=[], called_tool=False, only_repeats=False
        )
        return "think"


class _Think(_AgentNode):
    """One model turn: a final answer, tool calls to run, or (structured protocol) a correction."""

    def prep(self, shared: dict[str, Any]) -> tuple[list[Message], Must] | None:
        cfg = self.config
        state = shared[cfg.key]
        if state["iterations"] >= cfg.max_iterations:
            return None
        must: Must = None
        if cfg.require_tool and not state["called_tool"]:
            must = "tool"
        elif cfg.answer_on_last_turn and state["iterations"] == cfg.max_iterations - 1:
            must = "answer"
        elif state.get("only_repeats"):  # it already has every result it asked for
            must = "answer"
        return self.fitted(state), must

    def fitted(self, state: dict[str, Any]) -> list[Message]:
        """The history to send: all of it, or without its oldest parts when it would not fit the context."""
        cfg = self.config
        context = cfg.model.capabilities.context_tokens
        messages = list(state["messages"])
        if context is None:
            return messages
        reply = cfg.options.get("max_tokens", cfg.model.default_options.get("max_tokens", REPLY_TOKENS))
        start = min(state.get("run_start", 0), max(len(messages) - 1, 0))
        return fit_history(messages, start, context - reply)

    async def exec_async(self, prep_res: tuple[list[Message], Must] | None) -> Any:
        if prep_res is None:
            return None
        cfg = self.config
        messages, must = prep_res
        return await cfg.protocol.ask(cfg.model, messages, cfg.toolbox, cfg.options, must=must)

    def post(self, shared: dict[str, Any], prep_res: Any, turn: Any) -> str:
        state = shared[self.config.key]
        if turn is None:
            state["outcome"] = MAX_ITERATIONS
            return "finish"
        state["iterations"] += 1
        state["messages"].append(turn.message)
        if turn.calls:
            state["pending"] = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in turn.calls]
            return "tools"
        if turn.feedback is not None:
            state["messages"].append(turn.feedback)
            return "think"
        state["answer"], state["outcome"] = turn.answer, ANSWER
        return "finish"


class _Act(AsyncParallelBatchNode, _AgentNode):
    """Runs the pending tool calls of one turn concurrently (bounded), after any confirmation."""

    def __init__(self, config: _Config, name: str, max_concurrency: int | None) -> None:
        _AgentNode.__init__(self, config, name)
        self.max_concurrency = max_concurrency

    async def prep_async(self, shared: dict[str, Any]) -> list[tuple[ToolCall, bool, bool]]:
        """Each call with whether it may run (confirmation) and whether it repeats an earlier call."""
        cfg = self.config
        state = shared[cfg.key]
        toolbox = cfg.toolbox
        seen = (
            None
            if cfg.repeat_calls
            else {_call_key(step["tool"], step["arguments"]) for step in state["steps"]}
        )
        calls: list[tuple[ToolCall, bool]] = []
        asking: list[ToolCall] = []
        for pending in state["pending"]:
            call = ToolCall(pending["id"], pending["name"], pending["arguments"])
            again = seen is not None and _call_key(call.name, call.arguments) in seen
            if not again and toolbox.needs_confirmation(call):
                asking.append(call)
            calls.append((call, again))
        if not asking:
            return [(call, True, again) for call, again in calls]
        # Ask before running anything, so that a pause (and a resume) re-enters with nothing half done.
        approved = await decide(self, asking, cfg.confirm)
        return [(call, approved.get(call.id, True), again) for call, again in calls]

    async def exec_async(self, item: tuple[ToolCall, bool, bool]) -> dict[str, Any]:
        # Plain data, not the ToolResult: a durable run checkpoints each finished item.
        call, approved, repeated = item
        if repeated:
            message = f"{call.name} was already called with these arguments; use its result above"
            return ToolResult.failure(call, message).record() | {"repeated": True}
        if not approved:
            return ToolResult.failure(call, f"the user declined this call of {call.name}").record()
        return await self.config.toolbox._run_to_record(call)

    def post(self, shared: dict[str, Any], prep_res: Any, records: list[dict[str, Any]]) -> str:
        state = shared[self.config.key]
        repeats = [record.pop("repeated", False) for record in records]  # every record loses the mark
        state["only_repeats"] = all(repeats)
        state["messages"].extend(self.config.protocol.result_messages(records))
        state["steps"].extend(records)
        state["pending"] = []
        state["called_tool"] = True
        return "think"


def _call_key(name: str, arguments: Any) -> str:
    """The same call whether its arguments are JSON text or parsed."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return f"{name}:{arguments}"
    return f"{name}:{json.dumps(arguments, sort_keys=True)}"


class _Finish(_AgentNode):
    """Ends the agent: the answer routes the parent flow by ``default``, a spent budget by
    ``"max_iterations"``."""

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str | None:
        outcome = self.state(shared)["outcome"]
        return None if outcome == ANSWER else str(outcome)


class TurnLoop(AsyncFlow):
    """The agent flow's middle. When nothing watches the visits (no hooks: no listener, stream,
    checkpoint or meter) and the graph is as built, the turns run in this one loop over the same node
    phases, visit for visit, without the copy, params dict, plan lookup and frames the flow walk pays per
    visit (an agent run is many short visits). Otherwise, and for anything ``as_built`` rules out, the
    flow is walked as usual."""

    _built: Nodes

    async def _middle_async(self, shared: Any, prep_res: Any, plan: Plan) -> Any:
        if HOOKS.get() is not None or not as_built(self, self._built):
            return await self._orch_async(shared)
        start, think, act, finish = self._built
        current: BaseNode = start
        try:
            first = visit_copy(start)  # the one node that reads its params
            first.set_params({**self.params})
            first.post(shared, None, None)
            current = think
            while True:
                # exec as a node's retry loop runs it with one attempt, no timeout and the default fallback
                request = think.prep(shared)
                action = think.post(shared, request, await think.exec_async(request))
                if action == "finish":
                    current = finish
                    return finish.post(shared, None, None)
                if action == "tools":
                    current = act
                    items = await act.prep_async(shared)
                    if len(items) != 1:
                        records = await act._middle_async(shared, items, act._plan)
                    else:  # a batch of one, as the batch node runs it
                        try:
                            records = [await act.exec_async(items[0])]
                        except Exception as exc:
                            add_path_segment(exc, describe_item(0, 1))
                            raise
                    act.post(shared, items, records)
                    current = think
        except Exception as exc:
            add_path_segment(exc, label(current))
            raise


def as_built(flow: AsyncFlow, nodes: Nodes) -> bool:
    """True when ``flow`` still has the graph of ``nodes`` the agent built: same nodes, edges, settings."""
    start, think, act, finish = nodes
    return (
        flow.start_node is start
        and flow.max_steps is None
        and type(start) is _Start
        and type(think) is _Think
        and type(act) is _Act
        and type(finish) is _Finish
        and len(start.successors) == 1
        and start.successors.get("think") is think
        and len(think.successors) == 3
        and think.successors.get("tools") is act
        and think.successors.get("think") is think
        and think.successors.get("finish") is finish
        and len(act.successors) == 1
        and act.successors.get("think") is think
        and not finish.successors
        and think.max_retries == 1  # one attempt: no retry state, so no copy per visit is needed
        and act.max_retries == 1
        and think.timeout is None
        and act.timeout is None
        and act.executor is None
        and act.fail_fast
        and PHASE_ATTRS.isdisjoint(start.__dict__)  # no phase replaced on one node
        and PHASE_ATTRS.isdisjoint(think.__dict__)
        and PHASE_ATTRS.isdisjoint(act.__dict__)
        and PHASE_ATTRS.isdisjoint(finish.__dict__)
    )
