"""The agent flow: native and structured protocols, feedback of failures, budgets, composition."""

from __future__ import annotations

import threading
import time
from typing import Any, Literal

import pytest
from agents_helpers import overlap, tool_calls

from rillflow import AsyncFlow, AsyncNode
from rillflow.agents import Agent, AgentResult, NativeProtocol, StructuredProtocol, Toolbox, tool
from rillflow.llm import Capabilities, LocalModel, LocalServer, Reply, ScriptedModel


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def test_native_protocol_runs_the_tools_and_returns_the_answer() -> None:
    model = ScriptedModel([tool_calls(("add", {"a": 2, "b": 3})), "The sum is 5."])
    agent = Agent(model, [add], protocol="native", instructions="Use tools for arithmetic.")
    shared: dict[str, Any] = {"question": "What is 2 + 3?"}
    action = await agent.run_async(shared)
    result = AgentResult.from_shared(shared)
    assert action is None  # answered: the parent flow follows "default"
    assert (result.answer, result.outcome, result.iterations) == ("The sum is 5.", "answer", 2)
    assert result.steps == [
        {"id": "c1", "tool": "add", "arguments": {"a": 2, "b": 3}, "ok": True, "output": "5"}
    ]
    assert result.messages == [
        {"role": "system", "content": "Use tools for arithmetic."},
        {"role": "user", "content": "What is 2 + 3?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "5"},
        {"role": "assistant", "content": "The sum is 5."},
    ]
    assert model.calls[0].options["tools"] == [add.spec()]
    assert model.calls[1].messages == result.messages[:4]  # the model saw the tool's result


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"a": "two", "b": 3}, "Error: invalid arguments for add: a: expected integer, got string 'two'"),
        ('{"a": 2,', "Error: invalid arguments for add: the arguments are not valid JSON"),
    ],
)
async def test_invalid_arguments_are_fed_back_and_the_run_goes_on(arguments: Any, error: str) -> None:
    model = ScriptedModel([tool_calls(("add", arguments)), tool_calls(("add", {"a": 2, "b": 3})), "5"])
    result = await Agent(model, [add], protocol="native").ask_async("2 + 3?")
    assert result.answer == "5"
    fed_back = model.calls[1].messages[-1]
    assert fed_back["role"] == "tool" and fed_back["content"].startswith(error)
    assert [step["ok"] for step in result.steps] == [False, True]


async def test_tool_exceptions_and_unknown_tools_are_fed_back() -> None:
    @tool
    def explode() -> None:
        """Fail."""
        raise RuntimeError("disk on fire")

    model = ScriptedModel([tool_calls(("explode", {}), ("teleport", {})), "Both failed."])
    result = await Agent(model, [explode], protocol="native").ask_async("Try.")
    outputs = [m["content"] for m in model.calls[1].messages if m["role"] == "tool"]
    assert outputs == [
        "Error: explode failed: RuntimeError: disk on fire",
        "Error: there is no tool named 'teleport' (available: explode)",
    ]
    assert result.outcome == "answer"


@pytest.mark.parametrize(("bound", "overlaps"), [(4, True), (1, False)])
async def test_tool_calls_of_one_turn_run_concurrently_within_the_bound(bound: int, overlaps: bool) -> None:
    spans: dict[str, tuple[float, float]] = {}
    threads: set[str] = set()

    @tool
    def nap(label: str) -> str:
        """Sleep 0.2 s."""
        threads.add(threading.current_thread().name)
        start = time.perf_counter()
        time.sleep(0.2)
        spans[label] = (start, time.perf_counter())
        return label

    model = ScriptedModel([tool_calls(("nap", {"label": "a"}), ("nap", {"label": "b"})), "done"])
    await Agent(model, [nap], protocol="native", max_parallel_tools=bound).ask_async("Nap twice.")
    assert overlap(spans["a"], spans["b"]) is overlaps
    assert threading.current_thread().name not in threads  # sync tools ran in worker threads


async def test_the_iteration_budget_ends_with_a_clear_outcome_and_action() -> None:
    model = ScriptedModel(lambda prompt: tool_calls(("add", {"a": 1, "b": 1})))
    agent = Agent(model, [add], protocol="native", max_iterations=3)
    shared: dict[str, Any] = {"question": "Loop forever."}
    assert await agent.run_async(shared) == "max_iterations"
    result = AgentResult.from_shared(shared)
    assert (result.outcome, result.answer, result.iterations) == ("max_iterations", None, 3)
    assert len(model.calls) == 3 and len(result.steps) == 3


async def test_an_agent_is_a_node_routing_its_parent_flow() -> None:
    seen: list[str] = []

    class Prepare(AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
            shared["question"] = f"Add {shared['a']} and {shared['b']}."

    class Report(AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
            seen.append(f"report: {shared['agent']['answer']}")

    class GiveUp(AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
            seen.append("gave up")

    def build(model: ScriptedModel) -> AsyncFlow:
        agent = Agent(model, [add], protocol="native", max_iterations=1)
        prepare = Prepare()
        prepare >> agent >> Report()
        agent - "max_iterations" >> GiveUp()
        return AsyncFlow(start=prepare)

    await build(ScriptedModel([tool_calls(("add", {"a": 1, "b": 2}))])).run_async({"a": 1, "b": 2})
    await build(ScriptedModel(["3"])).run_async({"a": 1, "b": 2})
    assert seen == ["gave up", "report: 3"]


async def test_running_again_on_the_same_shared_continues_the_conversation() -> None:
    model = ScriptedModel(["Hello Ada.", "Your name is Ada."])
    agent = Agent(model, protocol="native", instructions="Be brief.")
    shared: dict[str, Any] = {}
    await agent.ask_async("I am Ada.", shared)
    second = await agent.ask_async("What is my name?", shared)
    assert second.answer == "Your name is Ada."
    assert [m["content"] for m in model.calls[1].messages] == [
        "Be brief.", "I am Ada.", "Hello Ada.", "What is my name?",
    ]  # fmt: skip
    assert "tools" not in model.calls[1].options  # no tools: plain chat


async def test_structured_protocol_reads_json_actions() -> None:
    model = ScriptedModel(
        ['```json\n{"action": "add", "input": {"a": 4, "b": 5}}\n```', '{"action": "answer", "answer": "9"}']
    )
    result = await Agent(model, [add], protocol="structured").ask_async("4 + 5?")
    assert (result.answer, result.outcome) == ("9", "answer")
    assert result.steps[0]["arguments"] == {"a": 4, "b": 5}
    system = model.calls[0].messages[0]["content"]
    assert "- add: Add two integers." in system
    assert 'call it with: {"action": "add", "input": {"a": 0, "b": 0}}' in system  # an example call
    assert model.calls[1].messages[-2:-1] == [
        {"role": "assistant", "content": '{"action": "add", "input": {"a": 4, "b": 5}}'}
    ]
    assert model.calls[1].messages[-1]["content"].split("\n\n", 1)[1].startswith("Result of add: 9")
    assert "json_schema" not in model.calls[0].options  # this model cannot enforce a schema


async def test_structured_protocol_constrains_generation_when_the_model_can() -> None:
    model = ScriptedModel(
        ['{"action": "add", "input": {"a": 1, "b": 1}}', '{"action": "answer", "answer": "2"}'],
        supports_json_schema=True,
    )
    await Agent(model, [add], protocol="structured", require_tool=True).ask_async("1 + 1?")
    first, second = (call.options["json_schema"] for call in model.calls)
    assert [b["properties"]["action"]["const"] for b in first["anyOf"]] == ["add"]  # must use a tool
    assert [b["properties"]["action"]["const"] for b in second["anyOf"]] == ["add", "answer"]
    assert first["anyOf"][0]["properties"]["input"] == add.parameters


async def test_structured_protocol_corrects_malformed_actions() -> None:
    model = ScriptedModel(
        [
            '{"answer": "no action field"}',
            '{"action": "answer", "answer": "too early"}',
            '{"action": "add", "input": {"a": 1}}',
            '{"action": "answer", "answer": {"value": 2}}',
        ]
    )
    result = await Agent(model, [add], protocol="structured", require_tool=True).ask_async("1 + 1?")
    feedback = [call.messages[-1]["content"].split("\n\n", 1)[1] for call in model.calls[1:]]
    assert feedback[0].startswith('Invalid action: the reply needs a string "action" field.')
    assert feedback[1].startswith("Invalid action: use a tool before answering.")
    assert feedback[2].startswith(
        "Result of add: Error: invalid arguments for add: missing required argument 'b'"
    )
    assert result.answer == '{"value": 2}'
    assert result.iterations == 4


async def test_structured_protocol_in_yaml() -> None:
    model = ScriptedModel(["action: add\ninput:\n  a: 2\n  b: 2\n", "action: answer\nanswer: four\n"])
    result = await Agent(model, [add], protocol="structured", fmt="yaml").ask_async("2 + 2?")
    assert result.answer == "four"
    assert model.calls[1].messages[-2]["content"] == "action: add\ninput:\n  a: 2\n  b: 2"


def test_protocol_auto_picks_structured_for_the_embedded_model_only() -> None:
    local = LocalModel(LocalServer())  # not started: nothing is loaded
    assert isinstance(Agent(local).config.protocol, StructuredProtocol)
    assert isinstance(Agent(ScriptedModel([])).config.protocol, NativeProtocol)
    no_tools = ScriptedModel([], capabilities=Capabilities(supports_tools=False))
    assert isinstance(Agent(no_tools).config.protocol, StructuredProtocol)


def test_guards_default_from_the_model_capabilities() -> None:
    small = Agent(LocalModel(LocalServer()), [add]).config
    assert (small.require_tool, small.repeat_calls, small.answer_on_last_turn) == (True, False, True)
    assert small.options == {"temperature": 0.0}
    large = Agent(ScriptedModel([]), [add]).config
    assert (large.require_tool, large.repeat_calls, large.answer_on_last_turn) == (False, True, False)
    assert large.options == {}
    chosen = Agent(LocalModel(LocalServer()), [add], require_tool=False, model_options={"temperature": 0.7})
    assert (chosen.config.require_tool, chosen.config.options) == (False, {"temperature": 0.7})


def test_ask_is_the_sync_twin_of_ask_async() -> None:
    model = ScriptedModel(
        ['{"action": "add", "input": {"a": 1, "b": 2}}', '{"action": "answer", "answer": "3"}']
    )
    result = Agent(model, [add], protocol="structured").ask("1 + 2?")
    assert (result.answer, result.steps[0]["output"]) == ("3", "3")


async def test_a_refused_repeat_makes_the_next_turn_answer() -> None:
    call = '{"action": "add", "input": {"a": 1, "b": 2}}'
    model = ScriptedModel([call, call, '{"action": "answer", "answer": "3"}'], supports_json_schema=True)
    result = await Agent(model, [add], protocol="structured", repeat_calls=False).ask_async("1 + 2?")
    assert result.answer == "3" and len(result.steps) == 2 and "repeated" not in result.steps[1]
    last = model.calls[2].options["json_schema"]
    assert [b["properties"]["action"]["const"] for b in last["anyOf"]] == ["answer"]


async def test_a_cut_action_becomes_feedback_to_be_brief() -> None:
    model = ScriptedModel(
        [
            Reply('{"action": "answer", "answer": "aaaa', finish_reason="length"),
            '{"action": "answer", "answer": "ok"}',
        ]
    )
    result = await Agent(model, [add], protocol="structured").ask_async("Hi")
    assert result.answer == "ok"
    assert "it was cut off: it is too long, be brief" in model.calls[1].messages[-1]["content"]


def test_invalid_configurations_are_refused() -> None:
    @tool
    def answer(text: str) -> str:
        """Clashes with the structured protocol's final action."""
        return text

    with pytest.raises(ValueError, match="cannot be named 'answer'"):
        Agent(ScriptedModel([]), [answer], protocol="structured")
    with pytest.raises(ValueError, match="max_iterations must be an int >= 1"):
        Agent(ScriptedModel([]), max_iterations=0)
    with pytest.raises(ValueError, match="max_parallel_tools must be >= 1"):
        Agent(ScriptedModel([]), max_parallel_tools=0)
    with pytest.raises(ValueError, match="require_tool=True needs at least one tool"):
        Agent(ScriptedModel([]), require_tool=True)
    with pytest.raises(ValueError, match="protocol must be"):
        Agent(ScriptedModel([]), protocol="telepathy")  # type: ignore[arg-type]


async def test_model_options_are_sent_with_every_turn() -> None:
    model = ScriptedModel([Reply("ok")])
    await Agent(model, protocol="native", model_options={"temperature": 0.0, "max_tokens": 5}).ask_async("Hi")
    assert model.calls[0].options == {"temperature": 0.0, "max_tokens": 5}


async def test_answer_on_last_turn_withholds_the_tools_when_the_budget_ends() -> None:
    native = ScriptedModel([tool_calls(("add", {"a": 1, "b": 1})), "2"])
    result = await Agent(
        native, [add], protocol="native", max_iterations=2, answer_on_last_turn=True
    ).ask_async("1+1?")
    assert result.outcome == "answer"
    assert "tool_choice" not in native.calls[0].options and native.calls[1].options["tool_choice"] == "none"

    structured = ScriptedModel(['{"action": "answer", "answer": "2"}'], supports_json_schema=True)
    await Agent(
        structured, [add], protocol="structured", max_iterations=1, answer_on_last_turn=True
    ).ask_async("1+1?")
    branches = structured.calls[0].options["json_schema"]["anyOf"]
    assert [b["properties"]["action"]["const"] for b in branches] == ["answer"]


async def test_repeated_calls_are_not_run_again_when_asked() -> None:
    runs: list[int] = []

    @tool
    def fetch(n: int) -> int:
        """Fetch."""
        runs.append(n)
        return n

    script = [tool_calls(("fetch", {"n": 1})), tool_calls(("fetch", '{"n":1}'), ("fetch", {"n": 2})), "done"]
    model = ScriptedModel(script)
    result = await Agent(model, [fetch], protocol="native", repeat_calls=False).ask_async("Fetch.")
    assert runs == [1, 2]
    assert (
        result.steps[1]["output"]
        == "Error: fetch was already called with these arguments; use its result above"
    )

    again = ScriptedModel(script)
    await Agent(again, [fetch], protocol="native").ask_async("Fetch.")
    assert runs == [1, 2, 1, 1, 2]  # by default, a repeated call runs (tools may not be pure)


async def test_a_repeat_after_a_new_call_in_one_turn_leaves_no_mark_in_the_steps() -> None:
    script = [
        tool_calls(("add", {"a": 1, "b": 1})),
        tool_calls(("add", {"a": 2, "b": 2}), ("add", {"a": 1, "b": 1})),
    ]
    model = ScriptedModel([*script, "done"])
    result = await Agent(model, [add], protocol="native", repeat_calls=False).ask_async("Add.")
    assert [step["output"] for step in result.steps][:2] == ["2", "4"]
    assert result.steps[2]["output"].startswith("Error: add was already called")
    assert all("repeated" not in step for step in result.steps)  # plain records, as checkpoints save them


async def test_a_reply_that_never_parses_is_a_failed_turn_not_a_crash() -> None:
    model = ScriptedModel(["not json", "still not json", '{"action": "answer", "answer": "ok"}'])
    result = await Agent(model, [add], protocol=StructuredProtocol(max_attempts=2)).ask_async("Hi")
    assert (result.outcome, result.answer, result.iterations) == ("answer", "ok", 2)
    assert result.messages[-3:-1] == [
        {"role": "assistant", "content": "still not json"},
        {"role": "user", "content": "Invalid action: it is not valid JSON. Answer again with one action."},
    ]


def test_the_action_schema_bounds_string_lengths_for_small_models() -> None:
    @tool
    def search(query: str, mode: Literal["fast", "deep"] = "fast") -> str:
        """Search."""
        return query

    schema = StructuredProtocol(max_answer_chars=50, max_input_chars=20).action_schema(Toolbox([search]))
    tool_branch, answer_branch = schema["anyOf"]
    assert tool_branch["properties"]["input"]["properties"] == {
        "query": {"type": "string", "maxLength": 20},
        "mode": {"type": "string", "enum": ["fast", "deep"], "default": "fast"},
    }
    assert answer_branch["properties"]["answer"] == {"type": "string", "maxLength": 50}
    assert search.parameters["properties"]["query"] == {
        "type": "string"
    }  # the tool's own schema is untouched
