"""The structured-output loop: extract, parse, validate, and retry with the error fed back."""

from __future__ import annotations

import pydantic
import pytest

from rillflow.llm import (
    Capabilities,
    Reply,
    ScriptedModel,
    StructuredOutputError,
    extract_block,
    generate_structured,
    generate_structured_async,
    parse_block,
)

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


class Person(pydantic.BaseModel):
    name: str
    age: int


@pytest.mark.parametrize(
    ("text", "block"),
    [
        ("Sure!\n```yaml\nname: Ada\n```\nBye", "name: Ada"),
        ('```json\n{"a": 1}\n```', '{"a": 1}'),
        ("```\nplain: fence\n```", "plain: fence"),
        ("```yaml\nunclosed: true\n", "unclosed: true"),
        ('  {"no": "fence"}  ', '{"no": "fence"}'),
    ],
)
def test_extract_block(text: str, block: str) -> None:
    assert extract_block(text) == block


def test_parse_block_reads_yaml_and_json() -> None:
    assert parse_block("```yaml\nitems:\n  - a\n  - b\n```", "yaml") == {"items": ["a", "b"]}
    assert parse_block('```json\n{"x": [1, 2]}\n```', "json") == {"x": [1, 2]}


def test_yaml_syntax_error_is_fed_back_and_retried() -> None:
    model = ScriptedModel(["```yaml\nname: [unclosed\n```", "```yaml\nname: Ada\nage: 36\n```"])
    assert generate_structured(model, "Who wrote the first program?", schema=PERSON) == {
        "name": "Ada",
        "age": 36,
    }
    first, second = model.calls
    assert "```yaml\nname: '...'\nage: 0\n```" in first.prompt  # an example, not the schema
    assert '"required"' not in first.prompt
    assert second.messages[-2] == {"role": "assistant", "content": "```yaml\nname: [unclosed\n```"}
    assert "That answer was invalid" in second.messages[-1]["content"]


def test_schema_violation_names_the_field_in_the_feedback() -> None:
    model = ScriptedModel(["```yaml\nname: Ada\nage: old\n```", "```yaml\nname: Ada\nage: 36\n```"])
    generate_structured(model, "Who?", schema=PERSON)
    feedback = model.calls[1].messages[-1]["content"]
    assert "at age" in feedback and "'old' is not of type 'integer'" in feedback


def test_pydantic_model_returns_an_instance_and_reports_errors() -> None:
    model = ScriptedModel(['```json\n{"name": "Ada"}\n```', '```json\n{"name": "Ada", "age": 36}\n```'])
    person = generate_structured(model, "Who?", schema=Person, format="json")
    assert person == Person(name="Ada", age=36)
    assert "age" in model.calls[1].messages[-1]["content"]
    assert "Field required" in model.calls[1].messages[-1]["content"]


def test_gives_up_after_max_attempts_with_the_last_answer() -> None:
    model = ScriptedModel(["no yaml here: [", "still: [bad", "never used"], name="weak")
    with pytest.raises(StructuredOutputError) as info:
        generate_structured(model, "List things.", max_attempts=2)
    assert info.value.attempts == 2
    assert info.value.last_text == "still: [bad"
    assert info.value.model == "weak"
    assert len(model.calls) == 2


def test_json_schema_constraint_is_used_when_the_backend_supports_it() -> None:
    constrained = ScriptedModel(['{"name": "Ada", "age": 36}'], supports_json_schema=True)
    generate_structured(constrained, "Who?", schema=Person, format="json", temperature=0.0)
    assert constrained.calls[0].options["json_schema"] == Person.model_json_schema()
    assert constrained.calls[0].options["temperature"] == 0.0
    assert constrained.calls[0].prompt == (
        'Answer in JSON shaped like this example, with your own values:\n{"name": "...", "age": 0}\n\nWho?'
    )

    unconstrained = ScriptedModel(['```json\n{"name": "Ada", "age": 36}\n```'])
    generate_structured(unconstrained, "Who?", schema=Person, format="json")
    assert "json_schema" not in unconstrained.calls[0].options


def test_yaml_is_constrained_too_and_answered_in_json_its_flow_style() -> None:
    model = ScriptedModel(['{"name": "Ada", "age": 36}'], supports_json_schema=True)
    assert generate_structured(model, "Who?", schema=PERSON) == {"name": "Ada", "age": 36}
    assert model.calls[0].options["json_schema"] == PERSON
    assert "```yaml" not in model.calls[0].prompt


def test_arrays_without_a_bound_are_capped_in_the_constraint_only() -> None:
    schema = {"type": "array", "items": {"type": "string"}}
    bounded = {"type": "array", "items": {"type": "string"}, "maxItems": 3}
    model = ScriptedModel(['["a"]', '["b"]'], supports_json_schema=True)
    generate_structured(model, "List.", schema=schema, max_items=5)
    generate_structured(model, "List.", schema=bounded)
    assert model.calls[0].options["json_schema"] == {**schema, "maxItems": 5}
    assert model.calls[1].options["json_schema"] == bounded


def test_every_schema_error_is_fed_back_at_once() -> None:
    model = ScriptedModel(['{"name": 1, "age": "old"}', '{"name": "Ada", "age": 36}'])
    generate_structured(model, "Who?", schema=PERSON, format="json")
    feedback = model.calls[1].messages[-1]["content"]
    assert "at age: 'old' is not of type 'integer'" in feedback
    assert "at name: 1 is not of type 'string'" in feedback


def test_a_reply_cut_at_max_tokens_is_named_and_not_retried() -> None:
    model = ScriptedModel([Reply('{"name": "Ada", "age', finish_reason="length"), "never used"])
    with pytest.raises(StructuredOutputError) as info:
        generate_structured(model, "Who?", schema=PERSON, format="json", max_tokens=8)
    message = str(info.value)
    assert "cut at max_tokens=8 (finish_reason 'length')" in message
    assert "raise max_tokens" in message and "maxItems" in message
    assert "request_id" not in message
    assert (info.value.finish_reason, info.value.attempts, len(model.calls)) == ("length", 1, 1)


def test_retries_do_not_grow_the_conversation() -> None:
    model = ScriptedModel(["```json\n[1\n```", "```json\n[2\n```", '```json\n{"name": "Ada", "age": 3}\n```'])
    generate_structured(model, "Who?", schema=PERSON, format="json")
    lengths = [len(call.messages) for call in model.calls]
    assert lengths == [1, 3, 3]  # the prompt, then the prompt + the last answer + its errors
    assert model.calls[2].messages[1] == {"role": "assistant", "content": "```json\n[2\n```"}


def test_a_retry_that_would_overflow_the_context_leaves_the_answer_out() -> None:
    rambling = "```json\n" + "x" * 3000 + "\n```"
    model = ScriptedModel(
        [rambling, '```json\n{"name": "Ada", "age": 3}\n```'], capabilities=Capabilities(context_tokens=600)
    )
    generate_structured(model, "Who?", schema=PERSON, format="json", max_tokens=100)
    retry = model.calls[1].messages
    assert len(retry) == 2 and "xxxx" not in retry[-1]["content"]
    assert retry[-1]["content"].startswith(
        "Your previous answer (3012 characters, not repeated here) was invalid"
    )


def test_instructions_join_the_last_user_message() -> None:
    model = ScriptedModel(["```yaml\n- a\n```"])
    system = {"role": "system", "content": "You list things."}
    assert generate_structured(model, [system, {"role": "user", "content": "List."}]) == ["a"]
    messages = model.calls[0].messages
    assert messages[0] == system and len(messages) == 2
    # Instructions first, so that the model reads the request (the data) right before it answers.
    assert (
        messages[1]["content"] == "Answer with a single fenced ```yaml code block and nothing else.\n\nList."
    )


async def test_async_twin_retries_the_same_way() -> None:
    model = ScriptedModel(['```json\n{"name": 1}\n```', '```json\n{"name": "Ada", "age": 36}\n```'])
    assert await generate_structured_async(model, "Who?", schema=PERSON, format="json") == {
        "name": "Ada",
        "age": 36,
    }
    assert len(model.calls) == 2


def test_schema_must_be_a_dict_or_a_pydantic_model() -> None:
    with pytest.raises(TypeError):
        generate_structured(ScriptedModel(["x"]), "hi", schema=int)
