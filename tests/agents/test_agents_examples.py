"""The agent examples run with the scripted model and do what their docstrings say."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from agents_helpers import overlap

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def load(name: str) -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLES / name), run_name="example")


async def test_research_agent_searches_the_bundled_documents_then_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = load("research_agent.py")
    shared = await example["main"]("Who discovered polonium?", example["scripted_model"]())
    state = shared["agent"]
    assert state["outcome"] == "answer"
    assert state["steps"][0]["tool"] == "search_docs" and state["steps"][0]["ok"]
    assert "polonium" in state["answer"] and shared["sources"][0] == "marie_curie"
    assert "Sources:  marie_curie" in capsys.readouterr().out


def test_research_search_tool_ranks_by_keywords() -> None:
    example = load("research_agent.py")
    search = example["make_search_tool"](example["load_documents"]())
    hits = search(query="comet lander harpoons", limit=1)
    assert hits == [{"source": "rosetta_mission", "passage": hits[0]["passage"]}]
    assert "harpoons" in hits[0]["passage"]
    assert search(query="zzz") == []


async def test_chat_loop_keeps_the_conversation_and_uses_its_tool(capsys: pytest.CaptureFixture[str]) -> None:
    example = load("chat_loop.py")
    shared = await example["main"](example["scripted_model"](), ["Hello!", "Convert 5 km to miles", "quit"])
    out = capsys.readouterr().out
    assert "bot> You said: Hello!" in out and "bot> That is 3.11 mi." in out and "bye (2 turns)" in out
    users = [m["content"] for m in shared["agent"]["messages"] if m["role"] == "user"]
    assert users == ["Hello!", "Convert 5 km to miles"]
    assert shared["agent"]["steps"][0]["output"] == "5 km = 3.11 mi"


async def test_tools_agent_runs_its_sync_and_async_tools_at_the_same_time() -> None:
    example = load("tools_agent.py")
    result = await example["main"](model=example["scripted_model"]())
    assert result.answer == "coffee.txt has 138 words and Lisbon has 545,000 people."
    spans = example["spans"]
    assert spans["city_population"][2] == "MainThread"  # awaited on the loop
    assert spans["count_words"][2] != "MainThread"  # in a worker thread
    assert overlap(spans["count_words"][:2], spans["city_population"][:2])
