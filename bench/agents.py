"""Agents at scale: 1,000 scripted agent runs of 3 tool steps each, 50 at once.

    make bench            # or: .venv/bin/python bench/agents.py [--runs N] [--repeats R]

rillflow (``run_many`` over an :class:`Agent`: a flow of nodes, schema validation of every call, tool
results checkpoint-ready in ``shared``) against a hand-written asyncio loop making the same model and
tool calls with a semaphore. Both use the same scripted model (so the model's own cost is identical)
and the same tools. Rows: a model answering at once (pure framework overhead: the worst case), one
answering in 5 ms or 20 ms (fast servers; real LLM calls take 100 ms and more), and sync tools (run in
worker threads by both). Each cell is the median of interleaved repeats. The target is a ratio <= 1.2.

The last columns measure usage accounting: the same ``run_many`` with a no-op ``RunHooks`` attached (what
any listener, stream or tracer costs: the engine's hooked loop, which tracks node paths, plus the LLM
and tool call events) and with a :class:`~rillflow.usage.UsageMeter` (every call added up per run, per
node and in total). ``meter`` is the metered run against ``run_many`` without hooks (target <= 1.1);
``vs hook`` against the no-op hook (the accounting's own cost). Without hooks an agent runs its turns
in one loop over its nodes' phases; with any hook its flow is walked visit by visit (docs/agents.md,
Performance), so ``meter`` includes that walk as well as the accounting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rillflow.agents import Agent, run_many, tool
from rillflow.hooks import RunHooks
from rillflow.llm import Reply, ScriptedModel, ToolCall
from rillflow.usage import UsageMeter

STEPS = 3
CONCURRENCY = 50


@tool
async def lookup(key: str, depth: int = 1) -> str:
    """An async tool: a tiny await, as a network call would have."""
    await asyncio.sleep(0)
    return f"value-of-{key}-{depth}"


@tool
def lookup_sync(key: str, depth: int = 1) -> str:
    """A sync tool (run in a worker thread)."""
    return f"value-of-{key}-{depth}"


def script(tool_name: str) -> Callable[[str], Reply | str]:
    """Ask for a tool until STEPS results are in the conversation, then answer."""

    def reply(prompt: str) -> Reply | str:
        done = prompt.count("value-of-")
        if done < STEPS:
            args = json.dumps({"key": f"k{done}", "depth": done + 1})
            return Reply("", "tool_calls", tool_calls=(ToolCall(f"c{done}", tool_name, args),))
        return f"answer after {done} steps"

    return reply


async def with_rillflow(model: ScriptedModel, tools: list[Any], runs: int, **options: Any) -> list[str]:
    agent = Agent(model, tools, protocol="native", max_iterations=STEPS + 1)
    inputs = [{"question": f"q{i}"} for i in range(runs)]
    results = await run_many(agent, inputs, max_concurrency=CONCURRENCY, **options)
    return [r.shared["agent"]["answer"] for r in results]


async def with_noop_hook(model: ScriptedModel, tools: list[Any], runs: int) -> list[str]:
    return await with_rillflow(model, tools, runs, hooks=[RunHooks()])


async def with_meter(model: ScriptedModel, tools: list[Any], runs: int) -> list[str]:
    meter = UsageMeter()
    answers = await with_rillflow(model, tools, runs, hooks=[meter])
    assert meter.totals.llm_calls == runs * (STEPS + 1) and meter.totals.tool_calls == runs * STEPS
    return answers


async def by_hand(model: ScriptedModel, tools: list[Any], runs: int) -> list[str]:
    specs = [t.spec() for t in tools]
    functions = {t.name: t.func for t in tools}
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> str:
        async with gate:
            messages: list[dict[str, Any]] = [{"role": "user", "content": f"q{i}"}]
            for _ in range(STEPS + 1):
                reply = await model.generate_async(messages, tools=specs)
                if not reply.tool_calls:
                    return reply.text
                messages.append({"role": "assistant", "content": None, "tool_calls": list(reply.tool_calls)})
                for call in reply.tool_calls:
                    func = functions[call.name]
                    args = json.loads(call.arguments)
                    result = (
                        await func(**args)
                        if asyncio.iscoroutinefunction(func)
                        else await asyncio.to_thread(func, **args)
                    )
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
            return ""

    return list(await asyncio.gather(*(one(i) for i in range(runs))))


Runner = Callable[[ScriptedModel, list[Any], int], Awaitable[list[str]]]


def timed(runner: Runner, tools: list[Any], latency: float, runs: int) -> float:
    model = ScriptedModel(script(tools[0].name), latency=latency)
    start = time.perf_counter()
    answers = asyncio.run(runner(model, tools, runs))
    seconds = time.perf_counter() - start
    assert answers == [f"answer after {STEPS} steps"] * runs, answers[:3]
    assert len(model.calls) == runs * (STEPS + 1)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scenarios = [
        ("async tool, model 0 ms", [lookup], 0.0),
        ("async tool, model 5 ms", [lookup], 0.005),
        ("async tool, model 20 ms", [lookup], 0.020),
        ("sync tool, model 0 ms", [lookup_sync], 0.0),
    ]
    print(f"{args.runs} agent runs x {STEPS} tool steps, {CONCURRENCY} at once, median of {args.repeats}\n")
    print(
        f"{'scenario':<26} {'hand-written s':>14} {'run_many s':>11} {'ratio':>7} "
        f"{'+ no-op hook s':>15} {'+ UsageMeter s':>15} {'meter':>6} {'vs hook':>8}"
    )
    for name, tools, latency in scenarios:
        hand: list[float] = []
        ours: list[float] = []
        hooked: list[float] = []
        metered: list[float] = []
        for _ in range(args.repeats):  # interleaved, so machine noise hits every column alike
            hand.append(timed(by_hand, tools, latency, args.runs))
            ours.append(timed(with_rillflow, tools, latency, args.runs))
            hooked.append(timed(with_noop_hook, tools, latency, args.runs))
            metered.append(timed(with_meter, tools, latency, args.runs))
        h, o = statistics.median(hand), statistics.median(ours)
        k, m = statistics.median(hooked), statistics.median(metered)
        row = f"{name:<26} {h:>14.3f} {o:>11.3f} {o / h:>7.2f}"
        print(f"{row} {k:>15.3f} {m:>15.3f} {m / o:>6.2f} {m / k:>8.2f}")
    print("\nratio = run_many / hand-written (target <= 1.2)")
    print("meter = run_many with a UsageMeter / run_many without hooks (target <= 1.1)")
    print("vs hook = run_many with a UsageMeter / run_many with a no-op hook (the accounting itself)")


if __name__ == "__main__":
    main()
