"""An agent's request fits the model's context: the oldest parts of the history are left out of it."""

from __future__ import annotations

from rillflow.agents import Agent, tool
from rillflow.agents.history import estimated_tokens, fit_history
from rillflow.llm import Capabilities, ScriptedModel
from rillflow.llm.types import Message


def user(text: str) -> Message:
    return {"role": "user", "content": text}


def assistant(text: str) -> Message:
    return {"role": "assistant", "content": text}


SYSTEM: Message = {"role": "system", "content": "You help."}


def test_a_history_that_fits_is_sent_whole() -> None:
    messages = [SYSTEM, user("hi"), assistant("hello")]
    assert fit_history(messages, 1, 1000) == messages


def test_earlier_runs_go_first_then_this_runs_oldest_turns() -> None:
    long = "x" * 300  # about 100 tokens each
    earlier = [user("old question " + long), assistant("old answer " + long)]
    question = user("new question")
    turns = [assistant("call 1 " + long), user("result 1 " + long), assistant("call 2"), user("result 2")]
    messages = [SYSTEM, *earlier, question, *turns]
    run_start = 1 + len(earlier)

    without_earlier = fit_history(messages, run_start, estimated_tokens([SYSTEM, question, *turns]))
    assert without_earlier == [SYSTEM, question, *turns]

    only_latest = fit_history(messages, run_start, estimated_tokens([SYSTEM, question, *turns[2:]]))
    assert only_latest == [SYSTEM, question, *turns[2:]]

    # The system prompt, the question and the latest turn always stay, even over the budget.
    assert fit_history(messages, run_start, 1) == [SYSTEM, question, *turns[2:]]


def test_earlier_runs_are_never_cut_inside_a_tool_round() -> None:
    calls = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]}
    result = {"role": "tool", "tool_call_id": "c1", "content": "y" * 300}
    messages = [SYSTEM, user("q1 " + "z" * 300), calls, result, user("q1 again"), assistant("a"), user("q2")]
    fitted = fit_history(messages, 6, estimated_tokens([SYSTEM, *messages[4:]]))
    assert fitted == [SYSTEM, *messages[4:]]


@tool
def echo(text: str) -> str:
    """Echo the text."""
    return text * 600


async def test_the_agent_sends_a_trimmed_history_and_keeps_the_whole_one() -> None:
    call = '{"action": "echo", "input": {"text": "%s"}}'
    script = [call % "a", call % "b", call % "c", '{"action": "answer", "answer": "done"}']
    model = ScriptedModel(script, capabilities=Capabilities(context_tokens=700))
    agent = Agent(model, [echo], protocol="structured", model_options={"max_tokens": 50})
    result = await agent.ask_async("Echo three times.")
    assert result.answer == "done"
    assert len(result.messages) == 9  # system, question, 3 x (call + result), answer
    last_request = model.calls[-1].messages
    assert last_request[0]["role"] == "system" and last_request[1]["content"].startswith("Echo three times.")
    assert len(last_request) < 8  # the oldest tool rounds were left out of the request
    assert estimated_tokens(last_request) <= 700 - 50
    assert "c" * 600 in last_request[-1]["content"]  # the latest result is there
