"""The scripted model: replies from a list or a function, records calls, and behaves like any model."""

from __future__ import annotations

import pytest

from rillflow.llm import LLMError, Reply, ScriptedModel, ToolCall, Usage


def test_replies_from_a_list_in_order_and_records_calls() -> None:
    model = ScriptedModel(["first", "second"])
    assert model.generate("one").text == "first"
    assert model.generate([{"role": "user", "content": "two"}], temperature=0.5).text == "second"
    assert model.prompts == ["one", "two"]
    assert model.calls[1].options == {"temperature": 0.5}
    assert model.calls[1].messages == [{"role": "user", "content": "two"}]


def test_replies_from_a_function_of_the_prompt() -> None:
    model = ScriptedModel(lambda prompt: prompt.upper())
    reply = model.generate([{"role": "system", "content": "be loud"}, {"role": "user", "content": "hi"}])
    assert reply.text == "BE LOUD\nHI"
    assert reply.usage == Usage(prompt_tokens=3, completion_tokens=3)
    assert reply.model == "scripted"
    assert reply.request_id == "scripted-1"


def test_running_out_of_replies_is_an_error_naming_the_model() -> None:
    model = ScriptedModel([], name="empty-script")
    with pytest.raises(LLMError, match="no replies left") as info:
        model.generate("hi")
    assert info.value.model == "empty-script"
    assert not info.value.transient


def test_full_replies_with_tool_calls_pass_through() -> None:
    call = ToolCall(id="call-1", name="get_weather", arguments='{"city": "Oslo"}')
    model = ScriptedModel([Reply(text="", finish_reason="tool_calls", tool_calls=(call,))])
    reply = model.generate("weather?", tools=[{"type": "function", "function": {"name": "get_weather"}}])
    assert reply.finish_reason == "tool_calls"
    assert reply.tool_calls[0].parsed_arguments() == {"city": "Oslo"}
    assert model.calls[0].options["tools"][0]["function"]["name"] == "get_weather"


async def test_async_faces_share_the_script() -> None:
    model = ScriptedModel(["alpha beta gamma", "delta"])
    chunks = [chunk async for chunk in model.stream_async("stream please")]
    assert chunks == ["alpha ", "beta ", "gamma"]
    assert (await model.generate_async("next")).text == "delta"
    assert model.prompts == ["stream please", "next"]


def test_default_options_are_merged_under_call_options() -> None:
    model = ScriptedModel(["a", "b"], default_options={"temperature": 0.0, "max_tokens": 5})
    model.generate("x")
    model.generate("y", max_tokens=9)
    assert model.calls[0].options == {"temperature": 0.0, "max_tokens": 5}
    assert model.calls[1].options == {"temperature": 0.0, "max_tokens": 9}


def test_repr_names_the_model() -> None:
    assert repr(ScriptedModel(["x"], name="demo")) == "ScriptedModel(name='demo')"
