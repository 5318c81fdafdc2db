"""What agent runs cost, and a budget that stops one: usage accounting, prices, limits and a durable
resume with a raised limit.

1. ``run_many`` runs a small agent over three questions with a :class:`UsageMeter` attached: each run
   reports its own totals (a ``"usage"`` event), and the meter adds everything up, per node too, and
   prices it with a price table.
2. The same agent, durable (SQLite), with ``max_llm_calls=2``: the run stops before its third LLM call
   with ``BudgetExceeded``, naming the limit and the node, and is saved as failed. Resumed with a
   higher limit, it goes on from where it stopped; its record keeps the usage of both attempts.

    [RILLFLOW_LLM=openai:<model>] python examples/usage_budget.py [--dry-run]

``--dry-run`` (and the tests) use a scripted model that asks for two lookups, then answers.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from rillflow.agents import Agent, run_many, tool
from rillflow.durable import SQLiteCheckpointer
from rillflow.llm import Model, Reply, ScriptedModel, ToolCall, Usage, default_model
from rillflow.observe import Emit, Event
from rillflow.usage import BudgetExceeded, Price, Totals, UsageMeter

CAPITALS = {"france": "Paris", "peru": "Lima", "ghana": "Accra", "norway": "Oslo"}
PRICES = {"gpt-4o-mini": Price(prompt=0.15, completion=0.60, cached=0.075)}  # $ per million tokens


@tool
def capital(country: str) -> str:
    """The capital city of a country."""
    return CAPITALS.get(country.lower(), "unknown")


def scripted_model() -> ScriptedModel:
    """Looks up two capitals, then answers; every call uses 120 prompt and 20 completion tokens."""

    def reply(prompt: str) -> Reply:
        usage = Usage(120, 20, cached_tokens=100)
        found = [city for city in CAPITALS.values() if city in prompt]
        if len(found) < 2:
            country = ["france", "peru"][len(found)]
            call = ToolCall(f"call_{len(found)}", "capital", json.dumps({"country": country}))
            return Reply("", "tool_calls", usage, (call,), model="gpt-4o-mini")
        return Reply(f"The capitals are {' and '.join(found)}.", usage=usage, model="gpt-4o-mini")

    return ScriptedModel(reply, name="gpt-4o-mini")


def make_agent(model: Model) -> Agent:
    return Agent(model, [capital], instructions="Use the capital tool.", max_iterations=5, name="Geo")


async def usage_of_many(model: Model) -> UsageMeter:
    meter = UsageMeter(prices=PRICES)

    def per_run(event: Event) -> None:
        if isinstance(event, Emit) and event.kind == "usage":
            print(f"  one run: {event.data.summary()}")

    questions = [{"question": f"Capitals of France and Peru? ({i})"} for i in range(3)]
    await run_many(make_agent(model), questions, hooks=[meter], listeners=[per_run])
    print(meter.report())
    return meter


async def budget_and_resume(model: Model, db_path: str) -> tuple[BudgetExceeded, Totals]:
    db = SQLiteCheckpointer(db_path)
    agent = make_agent(model)
    shared = {"question": "Capitals of France and Peru?"}
    try:
        await agent.run_async(shared, run_id="geo-1", checkpointer=db, hooks=[UsageMeter(max_llm_calls=2)])
        raise AssertionError("the budget should have stopped the run")
    except BudgetExceeded as exc:
        stopped = exc
        print(f"stopped: {exc}")
    print(f"saved as: {db.list_runs()[0].status}")
    done: Any = await agent.resume_async("geo-1", checkpointer=db, hooks=[UsageMeter(max_llm_calls=10)])
    print(f"resumed: {done.shared['agent']['answer']}")
    print(f"the whole run: {done.usage.summary()}")
    db.close()
    return stopped, done.usage


async def main(model: Model) -> tuple[UsageMeter, BudgetExceeded, Totals]:
    print("1. usage of three agent runs")
    meter = await usage_of_many(model)
    print("\n2. a budget of 2 LLM calls, then a resume with 10")
    with tempfile.TemporaryDirectory() as folder:
        stopped, whole = await budget_and_resume(model, str(Path(folder) / "runs.db"))
    return meter, stopped, whole


if __name__ == "__main__":
    chosen = scripted_model() if "--dry-run" in sys.argv else default_model()
    asyncio.run(main(chosen))
