"""The structured-output agent on the real embedded model (SmolLM2-135M): structure, not wording."""

from __future__ import annotations

from typing import Annotated

import jsonschema
import pytest

from rillflow.agents import Agent, StructuredProtocol, tool
from rillflow.llm import LocalModel


@pytest.fixture
def agent_model() -> LocalModel:
    """The embedded model on the process-wide server (started on first use, stopped at exit)."""
    return LocalModel(default_options={"max_tokens": 120, "temperature": 0.0, "seed": 1})


async def test_the_structured_agent_completes_a_one_tool_task(agent_model: LocalModel) -> None:
    cities: list[str] = []

    @tool
    def get_weather(city: Annotated[str, "the city name"]) -> str:
        """Get the current weather in a city."""
        cities.append(city)
        return f"It is sunny and 21 degrees in {city}."

    # The docs' quick start, as written: the guards come from the model's capabilities.
    agent = Agent(agent_model, [get_weather], instructions="Answer using the tools.", max_iterations=3)
    assert isinstance(agent.config.protocol, StructuredProtocol)  # chosen for the embedded model
    result = await agent.ask_async("What is the weather in Paris?")

    assert result.steps, "the model called no tool"
    first = result.steps[0]
    assert first["tool"] == "get_weather" and first["ok"]
    jsonschema.validate(first["arguments"], get_weather.parameters)
    assert cities and cities[0] == first["arguments"]["city"]
    assert "paris" in cities[0].lower()
    assert result.outcome == "answer"
    assert isinstance(result.answer, str) and result.answer.strip()
