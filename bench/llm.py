"""Benchmark: a 32-item parallel map on the embedded model through rillflow vs. the bare SDK.

Both sides run in the same process against the same in-process server. The baseline sends the 32
requests directly with ``AsyncOpenAI`` and ``asyncio.gather``; rillflow runs an AsyncFlow whose
AsyncParallelBatchNode calls ``LocalModel.generate_async`` (limiter, retry policy and reply parsing
included). Runs alternate A B B A, twice by default: single runs vary by about 10% on a shared 2-core
machine. The figure of merit is aggregate generated tokens per second; target ratio >= 0.9.

    python bench/llm.py [--items 32] [--max-tokens 48] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from openai import AsyncOpenAI

from rillflow import AsyncFlow, AsyncParallelBatchNode
from rillflow.llm import LocalModel, shared_local_server

OPTIONS: dict[str, Any] = {"temperature": 0.0, "seed": 3}


def prompts(count: int) -> list[str]:
    topics = ["rivers", "bread", "clocks", "owls", "glass", "trains", "salt", "maps"]
    return [f"Write two sentences about {topics[i % len(topics)]} (note {i})." for i in range(count)]


async def direct_sdk(items: list[str], max_tokens: int) -> int:
    """Baseline: every request sent at once with the official SDK."""
    async with AsyncOpenAI(base_url=shared_local_server().base_url, api_key="local", max_retries=0) as client:
        completions = await asyncio.gather(
            *(
                client.chat.completions.create(
                    model="local",
                    messages=[{"role": "user", "content": prompt}],
                    max_tokens=max_tokens,
                    **OPTIONS,
                )
                for prompt in items
            )
        )
    return sum(completion.usage.completion_tokens for completion in completions if completion.usage)


async def through_rillflow(items: list[str], max_tokens: int) -> int:
    """rillflow: an AsyncParallelBatchNode mapping the model over the items inside an AsyncFlow."""
    model = LocalModel()

    class Map(AsyncParallelBatchNode):
        async def prep_async(self, shared: dict[str, Any]) -> list[str]:
            return shared["prompts"]

        async def exec_async(self, prompt: str) -> int:
            reply = await model.generate_async(prompt, max_tokens=max_tokens, **OPTIONS)
            return reply.usage.completion_tokens

        async def post_async(self, shared: dict[str, Any], prep_res: Any, tokens: list[int]) -> None:
            shared["tokens"] = sum(tokens)

    shared: dict[str, Any] = {"prompts": items}
    await AsyncFlow(start=Map()).run_async(shared)
    return int(shared["tokens"])


async def timed(
    run: Callable[[list[str], int], Awaitable[int]], items: list[str], max_tokens: int
) -> tuple[int, float]:
    started = time.perf_counter()
    tokens = await run(items, max_tokens)
    return tokens, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2, help="A B B A rounds; single runs vary by ~10%%")
    args = parser.parse_args()

    server = shared_local_server()
    started = time.perf_counter()
    await asyncio.to_thread(server.start)
    print(f"server: {server!r}, started in {time.perf_counter() - started:.1f} s")
    items = prompts(args.items)
    # Warm-up, untimed: imports, connections, and every server slot's first allocations.
    await direct_sdk(items[:8], 8)
    await through_rillflow(items[:8], 8)

    runs = [("AsyncOpenAI + gather", direct_sdk), ("rillflow", through_rillflow)]
    order = [runs[0], runs[1], runs[1], runs[0]] * args.rounds  # A B B A cancels linear drift
    totals: dict[str, list[float]] = {name: [0.0, 0.0] for name, _ in runs}
    print(f"\n{'run':<24} {'requests':>8} {'gen tokens':>10} {'wall s':>7} {'tok/s':>7}")
    for name, run in order:
        tokens, seconds = await timed(run, items, args.max_tokens)
        totals[name][0] += tokens
        totals[name][1] += seconds
        print(f"{name:<24} {len(items):>8} {tokens:>10} {seconds:>7.2f} {tokens / seconds:>7.1f}")
    rates = {name: tokens / seconds for name, (tokens, seconds) in totals.items()}
    print()
    for name, rate in rates.items():
        print(f"{name + ' (all runs)':<35} {rate:>16.1f} tok/s")
    ratio = rates["rillflow"] / rates["AsyncOpenAI + gather"]
    print(f"{'ratio rillflow / baseline':<35} {ratio:>16.3f}   (target >= 0.9)")


if __name__ == "__main__":
    asyncio.run(main())
