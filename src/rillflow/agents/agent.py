"""A tool-calling agent made of rillflow nodes: Start >> Think -"tools"-> Act >> Think ... -"finish"-> Finish.

Everything the agent knows lives in ``shared[key]`` (plain lists, dicts and strings, so a checkpointer can
save it): the message history, the turn count, a log of tool calls, the answer and the outcome. Being an
:class:`AsyncFlow`, an agent is a node like any other: chain it, nest it, run many with ``run_many``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..llm.base import Model
from ..llm.types import Message, Options
from .confirm import Confirm
from .protocol import ANSWER, NativeProtocol, Protocol, StructuredProtocol
from .tool import ToolLike
from .toolbox import Toolbox
from .turns import TurnLoop, _Act, _Config, _Finish, _Start, _Think

Outcome = Literal["answer", "max_iterations"]


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


class Agent(TurnLoop):
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
        self._built = (start, think, act, finish)

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
