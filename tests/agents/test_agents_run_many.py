"""run_many: many runs of one flow, one concurrency bound, results in input order, errors collected."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agents_helpers import tool_calls

from rillflow import AsyncFlow, AsyncNode, Interrupt
from rillflow.agents import Agent, run_many, tool


class Slow(AsyncNode):
    """Sleeps longer for earlier items, so that runs finish in reverse order; fails on request."""

    active = 0
    peak = 0

    async def prep_async(self, shared: dict[str, Any]) -> int:
        return int(shared["n"])

    async def exec_async(self, n: int) -> int:
        Slow.active += 1
        Slow.peak = max(Slow.peak, Slow.active)
        try:
            await asyncio.sleep(0.002 * (20 - n))
        finally:
            Slow.active -= 1
        if n == 3:
            raise ValueError("three is unlucky")
        if n == 4:
            self.interrupt("needs a human")
        return n * n

    async def post_async(self, shared: dict[str, Any], prep_res: int, square: int) -> str:
        shared["square"] = square
        return "done"


@pytest.fixture(autouse=True)
def _reset() -> None:
    Slow.active = Slow.peak = 0


async def test_results_come_back_in_input_order_with_errors_collected() -> None:
    inputs = [{"n": n, "tags": ["x"]} for n in range(10)]
    results = await run_many(AsyncFlow(start=Slow()), inputs, max_concurrency=4)
    assert [r.index for r in results] == list(range(10))
    ok = [r for r in results if r.ok]
    assert [r.shared["square"] for r in ok] == [n * n for n in range(10) if n not in (3, 4)]
    assert all(r.result == "done" for r in ok)
    assert isinstance(results[3].error, ValueError) and str(results[3].error) == "three is unlucky"
    assert isinstance(results[4].error, Interrupt)
    assert all(r.shared is not inputs[r.index] for r in results)  # each run has its own shared
    assert inputs[0] == {"n": 0, "tags": ["x"]}  # the inputs are not written to
    assert Slow.peak == 4


async def test_without_a_bound_all_run_at_once() -> None:
    await run_many(AsyncFlow(start=Slow()), [{"n": n} for n in range(6)])
    assert Slow.peak == 6


async def test_a_bound_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_concurrency must be >= 1"):
        await run_many(AsyncFlow(start=Slow()), [{"n": 1}], max_concurrency=0)


async def test_many_agents_share_one_model_under_one_bound() -> None:
    from rillflow.llm import ScriptedModel

    @tool
    async def double(x: int) -> int:
        """Double a number."""
        await asyncio.sleep(0.001)
        return 2 * x

    def script(prompt: str) -> Any:
        if "\n" not in prompt:  # only the question so far: ask for the tool
            return tool_calls(("double", {"x": int(prompt.split()[-1])}))
        return f"It is {prompt.splitlines()[-1]}."

    model = ScriptedModel(script, latency=0.002)
    agent = Agent(model, [double], protocol="native")
    results = await run_many(agent, [{"question": f"Double {n}"} for n in range(30)], max_concurrency=5)
    assert [r.shared["agent"]["answer"] for r in results] == [f"It is {2 * n}." for n in range(30)]
    assert model.peak_concurrency <= 5
