"""A complete rillflow pipeline with no LLM: branching, a bounded parallel batch, retries and a loop guard.

    .venv/bin/python examples/core_pipeline.py

It "fetches" ten documents concurrently (at most four at a time, with a flaky source retried with
backoff), counts their words in a worker thread (a sync exec inside an AsyncFlow never blocks the
loop), then branches on the result.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from rillflow import AsyncFlow, AsyncNode, AsyncParallelBatchNode, Node

DOCUMENTS = {f"doc-{i}": " ".join(["word"] * (10 * i + 5)) for i in range(10)}


class Fetch(AsyncParallelBatchNode):
    """Fetch every document; some attempts fail at random and are retried with exponential backoff."""

    async def prep_async(self, shared: dict[str, Any]) -> list[str]:
        return list(shared["doc_ids"])

    async def exec_async(self, doc_id: str) -> str:
        await asyncio.sleep(0.05)  # network latency
        if shared_rng.random() < 0.3:
            raise ConnectionError(f"{doc_id}: source timed out (attempt {self.cur_retry + 1})")
        return DOCUMENTS[doc_id]

    async def post_async(self, shared: dict[str, Any], prep_res: list[str], exec_res: list[str]) -> str:
        shared["texts"] = dict(zip(prep_res, exec_res, strict=True))
        return "default"


class CountWords(Node):
    """CPU-style work: a sync exec, which an AsyncFlow runs in a worker thread."""

    def prep(self, shared: dict[str, Any]) -> dict[str, str]:
        return shared["texts"]

    def exec(self, texts: dict[str, str]) -> int:
        return sum(len(text.split()) for text in texts.values())

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: int) -> str:
        shared["words"] = exec_res
        return "long" if exec_res > 300 else "short"


class Report(AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        size = "long" if self.name == "LongReport" else "short"
        shared["report"] = (
            f"{len(shared['texts'])} documents from {self.params['source']}, {shared['words']} words ({size})"
        )


shared_rng = random.Random(7)


def build_flow() -> AsyncFlow:
    fetch = Fetch(max_retries=5, wait=0.01, backoff=2, max_wait=0.1, max_concurrency=4)
    count = CountWords()
    long_report, short_report = Report(name="LongReport"), Report(name="ShortReport")
    fetch >> count
    count - "long" >> long_report
    count - "short" >> short_report
    return AsyncFlow(fetch, name="Pipeline", max_steps=10, strict=True)


async def main() -> dict[str, Any]:
    flow = build_flow()
    flow.set_params({"source": "the bundled corpus"})  # flow params reach every node
    shared: dict[str, Any] = {"doc_ids": list(DOCUMENTS)}
    started = time.perf_counter()
    await flow.run_async(shared)
    print(shared["report"], f"in {time.perf_counter() - started:.2f}s")
    return shared


if __name__ == "__main__":
    asyncio.run(main())
