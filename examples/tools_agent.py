"""An agent with one sync tool and one async tool, both called in the same turn.

``count_words`` is a plain function that reads a file (blocking I/O): it runs in a worker thread.
``city_population`` is ``async def`` and waits on a (simulated) web API: it is awaited on the event loop.
When the model asks for both in one turn (native tool calling), they run at the same time; the log shows
which thread ran each and when. The embedded SmolLM2 model (structured protocol) asks for one per turn.

    [RILLFLOW_LLM=openai:<model>] python examples/tools_agent.py [--dry-run]
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Literal

from rillflow.agents import Agent, AgentResult, tool
from rillflow.llm import Model, Reply, ScriptedModel, ToolCall, default_model

DATA_DIR = Path(__file__).parent / "data"
QUESTION = "How many words are in coffee.txt, and how many people live in Lisbon?"
POPULATIONS = {"lisbon": 545_000, "oslo": 709_000, "lima": 10_004_000, "accra": 2_388_000}
STARTED = time.perf_counter()
spans: dict[str, tuple[float, float, str]] = {}  # tool -> (start, end, thread), for the log and the tests


def record(name: str, start: float) -> None:
    spans[name] = (start - STARTED, time.perf_counter() - STARTED, threading.current_thread().name)


@tool
def count_words(
    document: Annotated[
        Literal[
            "coffee.txt",
            "honeybees.txt",
            "lighthouses.txt",
            "printing_press.txt",
            "tides.txt",
            "volcanoes.txt",
        ],
        "the file to count",
    ],
) -> int:
    """Count the words of one of the bundled text files."""
    start = time.perf_counter()
    words = len((DATA_DIR / document).read_text(encoding="utf-8").split())
    time.sleep(0.2)  # a slow disk: blocking, but only this worker thread waits
    record("count_words", start)
    return words


@tool(timeout=5)
async def city_population(city: Annotated[str, "the city's name"]) -> int | str:
    """Look up a city's population (a simulated web API)."""
    start = time.perf_counter()
    await asyncio.sleep(0.2)  # the request in flight: the event loop serves others meanwhile
    found = POPULATIONS.get(city.strip().lower())
    record("city_population", start)
    return found if found is not None else f"unknown city {city!r}"


def build_agent(model: Model) -> Agent:
    return Agent(
        model,
        [count_words, city_population],
        instructions="Answer with the tools' results. Call one tool per fact you need.",
        max_iterations=4,
        require_tool=True,
        repeat_calls=False,
        answer_on_last_turn=True,
        model_options={"max_tokens": 200, "temperature": 0.0, "seed": 7},
    )


def scripted_model() -> ScriptedModel:
    """Plays a model with native tool calling: both tools in the first turn, then the answer."""

    def reply(prompt: str) -> Reply | str:
        if prompt.endswith("?"):
            calls = (
                ToolCall("w", "count_words", '{"document": "coffee.txt"}'),
                ToolCall("p", "city_population", '{"city": "Lisbon"}'),
            )
            return Reply("", "tool_calls", tool_calls=calls)
        words, people = prompt.splitlines()[-2:]
        return f"coffee.txt has {words} words and Lisbon has {int(people):,} people."

    return ScriptedModel(reply)


async def main(question: str = QUESTION, model: Model | None = None) -> AgentResult:
    spans.clear()
    result = await build_agent(model or default_model()).ask_async(question)
    for name, (start, end, thread) in spans.items():
        print(f"{name:<16} ran from {start:5.2f}s to {end:5.2f}s in thread {thread}")
    print(f"Answer ({result.outcome}, {result.iterations} turns): {result.answer}")
    return result


if __name__ == "__main__":
    # The model: $RILLFLOW_LLM (e.g. openai:gpt-4o-mini), else the embedded one; --dry-run: scripted.
    asyncio.run(main(model=scripted_model() if "--dry-run" in sys.argv[1:] else None))
