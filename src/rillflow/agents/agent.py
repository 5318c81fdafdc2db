"""A tool-calling agent made of rillflow nodes: Start >> Think -"tools"-> Act >> Think ... -"finish"-> Finish.

Everything the agent knows lives in ``shared[key]`` (plain lists, dicts and strings, so a checkpointer can
save it): the message history, the turn count, a log of tool calls, the answer and the outcome. Being an
:class:`AsyncFlow`, an agent is a node like any other: chain it, nest it, run many with ``run_many``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..core.async_nodes import AsyncFlow, AsyncNode, AsyncParallelBatchNode
from ..llm.base import Model
from ..llm.types import Message, Options, ToolCall
from .confirm import Confirm, decide
from .history import fit_history
from .protocol import ANSWER, Must, NativeProtocol, Protocol, StructuredProtocol
from .tool import ToolLike
from .toolbox import Toolbox, ToolResult

Outcome = Literal["answer", "max_iterations"]
MAX_ITERATIONS = "max_iterations"
REPLY_TOKENS = 512  # kept free for the reply when no max_tokens is set


@dataclass(frozen=True)
class AgentResult:
    """How a run of an agent ended: ``outcome`` is ``"answer"`` (then ``answer`` is set) or
    ``"max_iterations"`` (the model still wanted tools when its turn budget ran out)."""

    answer: str | None
    outcome: Outcome
    iterations: int
    messages: list[Message]
    steps: list[dict[str, Any]]

    @classmethod
    def from_shared(cls, shared: Mapping[str, Any], key: str = "agent") -> AgentResult:
        """Read the result of the agent run that kept its state under ``shared[key]``."""
        state = shared[key]
        return cls(state["answer"], state["outcome"], state["iterations"], state["messages"], state["steps"])


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
        return (await self.config.toolbox.run(call)).record()

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


def _pick_protocol(model: Model, protocol: str | Protocol, fmt: Literal["json", "yaml"]) -> Protocol:
    if isinstance(protocol, Protocol):
        return protocol
    if protocol == "auto":
        protocol = "native" if model.capabilities.supports_tools else "structured"
    if protocol == "native":
        return NativeProtocol()
    if protocol == "structured":
        return StructuredProtocol(fmt)
    raise ValueError(f"protocol must be 'auto', 'native' or 'structured', got {protocol!r}")


class Agent(AsyncFlow):
    """A tool-calling agent: ask the model, run the tools it asks for, feed the results back, repeat.

    Each run reads the question from ``shared[input_key]`` (or the node's params) and appends it to the
    history in ``shared[key]["messages"]``, so running the agent again on the same ``shared`` continues
    the conversation. It stops on a final answer (``shared[key]["answer"]``) or after ``max_iterations``
    model turns (``shared[key]["outcome"] == "max_iterations"``; the flow then takes the
    ``"max_iterations"`` action, so ``agent - "max_iterations" >> handler`` can deal with it).

    ``protocol``: ``"native"`` (OpenAI ``tools``), ``"structured"`` (JSON/YAML actions, ``fmt``), or
    ``"auto"``: native when ``model.capabilities.supports_tools``, else structured; or a :class:`Protocol`
    object, such as ``StructuredProtocol("yaml", max_answer_chars=200)``. Tool calls of one turn run
    concurrently, at most ``max_parallel_tools`` at once. Tools marked ``confirm=True`` are run only once
    a human agrees: through ``confirm`` (a callable, sync or async) if given, else by pausing the run
    (see :mod:`rillflow.agents.confirm`).

    Guards for small models: ``require_tool`` forbids answering before a tool was used;
    ``answer_on_last_turn`` withholds the tools on the last turn the budget allows, so the run ends with
    an answer; ``repeat_calls=False`` does not run a call identical to an earlier one of the
    conversation (the model is told to use the result it already has, and its next turn must answer).
    Each left at None follows ``model.capabilities.needs_guidance`` (true for the embedded model):
    on for a small model, off otherwise; such a model also gets ``temperature=0`` unless
    ``model_options`` or its ``default_options`` set one.
    """

    def __init__(
        self,
        model: Model,
        tools: Toolbox | Iterable[ToolLike] = (),
        *,
        instructions: str = "",
        protocol: Literal["auto", "native", "structured"] | Protocol = "auto",
        fmt: Literal["json", "yaml"] = "json",
        max_iterations: int = 10,
        max_parallel_tools: int | None = 4,
        tool_timeout: float | None = None,
        confirm: Confirm | None = None,
        require_tool: bool | None = None,
        answer_on_last_turn: bool | None = None,
        repeat_calls: bool | None = None,
        key: str = "agent",
        input_key: str = "question",
        model_options: Options | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(max_iterations, int) or max_iterations < 1:
            raise ValueError(f"max_iterations must be an int >= 1, got {max_iterations!r}")
        toolbox = tools if isinstance(tools, Toolbox) else Toolbox(tools, timeout=tool_timeout)
        chosen = _pick_protocol(model, protocol, fmt)
        guarded = model.capabilities.needs_guidance
        if require_tool is None:
            require_tool = guarded and len(toolbox) > 0
        if answer_on_last_turn is None:
            answer_on_last_turn = guarded
        if repeat_calls is None:
            repeat_calls = not guarded
        if require_tool and not len(toolbox):
            raise ValueError("require_tool=True needs at least one tool")
        if isinstance(chosen, StructuredProtocol) and ANSWER in toolbox:
            raise ValueError(f"a tool cannot be named {ANSWER!r} with the structured protocol")
        if max_parallel_tools is not None and max_parallel_tools < 1:
            raise ValueError(f"max_parallel_tools must be >= 1 or None, got {max_parallel_tools!r}")
        options: Options = {**model_options} if model_options else {}
        if guarded and "temperature" not in model.default_options:
            options.setdefault("temperature", 0.0)  # a small model copies arguments best when greedy
        config = _Config(
            model,
            toolbox,
            chosen,
            instructions,
            max_iterations,
            key,
            input_key,
            confirm,
            options,
            require_tool,
            answer_on_last_turn,
            repeat_calls,
        )
        start, think = _Start(config, "Start"), _Think(config, "Think")
        act, finish = _Act(config, "Act", max_parallel_tools), _Finish(config, "Finish")
        start - "think" >> think
        think - "tools" >> act
        think - "think" >> think
        think - "finish" >> finish
        act - "think" >> think
        super().__init__(start, name=name or "Agent")
        self.config = config

    @property
    def toolbox(self) -> Toolbox:
        """The agent's tools."""
        return self.config.toolbox

    def ask(self, question: str, shared: dict[str, Any] | None = None) -> AgentResult:
        """Run the agent on ``question`` (in ``shared``, or a new dict) and return how it ended (blocking;
        inside a running event loop it warns and names ``ask_async``, like ``run``)."""
        shared = {} if shared is None else shared
        shared[self.config.input_key] = question
        self.run(shared)
        return AgentResult.from_shared(shared, self.config.key)

    async def ask_async(self, question: str, shared: dict[str, Any] | None = None) -> AgentResult:
        """The async twin of :meth:`ask`."""
        shared = {} if shared is None else shared
        shared[self.config.input_key] = question
        await self.run_async(shared)
        return AgentResult.from_shared(shared, self.config.key)
