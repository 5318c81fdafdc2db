"""rillflow demo: a real multi-step LLM workflow that runs offline.

It summarizes every text file in examples/data in parallel (an AsyncParallelBatchNode with a concurrency
bound), then combines the summaries into one overview. By default the model is SmolLM2-135M-Instruct,
embedded in this process (no network, no API key). Point it at any OpenAI-compatible server with
``--llm openai:<model>`` plus ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``, or ``RILLFLOW_LLM=openai:<model>``.

    python examples/demo.py [--llm SPEC] [--concurrency N] [--data DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import textwrap
import time
from pathlib import Path
from typing import Any

from rillflow import AsyncFlow, AsyncNode, AsyncParallelBatchNode, Node
from rillflow.llm import LocalModel, Model, Reply, Usage, default_model
from rillflow.llm.choose import DEFAULT_SPEC, MODEL_ENV

DATA_DIR = Path(__file__).parent / "data"
SUMMARY_OPTIONS: dict[str, Any] = {"max_tokens": 60, "temperature": 0.2, "seed": 7}
OVERVIEW_OPTIONS: dict[str, Any] = {"max_tokens": 90, "temperature": 0.2, "seed": 7}


def complete_sentences(reply: Reply) -> str:
    """The reply's text without a sentence cut off by the token limit."""
    text = " ".join(reply.text.split())
    if reply.finish_reason == "length" and "." in text:
        text = text[: text.rfind(".") + 1]
    return text


class LoadDocuments(Node):
    """Step 1 (a plain sync node): read every .txt file of the data folder."""

    def prep(self, shared: dict[str, Any]) -> Path:
        return Path(shared["data_dir"])

    def exec(self, data_dir: Path) -> dict[str, str]:
        return {path.name: path.read_text(encoding="utf-8") for path in sorted(data_dir.glob("*.txt"))}

    def post(self, shared: dict[str, Any], prep_res: Path, documents: dict[str, str]) -> None:
        shared["documents"] = documents
        words = sum(len(text.split()) for text in documents.values())
        where = os.path.relpath(prep_res)
        print(f"Step 1/3  loaded {len(documents)} text files ({words} words) from {where}")


class SummarizeEach(AsyncParallelBatchNode):
    """Step 2: one LLM call per file, all in parallel but at most ``max_concurrency`` at a time."""

    async def prep_async(self, shared: dict[str, Any]) -> list[tuple[str, str]]:
        self.model: Model = shared["model"]
        self.done = 0
        self.total = len(shared["documents"])
        print(f"Step 2/3  summarizing each file, at most {self.max_concurrency} at a time:")
        return list(shared["documents"].items())

    async def exec_async(self, item: tuple[str, str]) -> tuple[str, Reply]:
        name, text = item
        started = time.perf_counter()
        reply = await self.model.generate_async(
            [
                {"role": "system", "content": "You summarize texts in one or two short sentences."},
                {"role": "user", "content": f"Summarize this text in one or two sentences:\n\n{text}"},
            ],
            **SUMMARY_OPTIONS,
        )
        self.done += 1
        seconds = time.perf_counter() - started
        tokens = reply.usage.completion_tokens
        print(f"  [{self.done}/{self.total}] {name:<20} summarized: {tokens:>3} tokens in {seconds:4.1f} s")
        return name, reply

    async def post_async(
        self, shared: dict[str, Any], prep_res: Any, results: list[tuple[str, Reply]]
    ) -> None:
        shared["summaries"] = {name: complete_sentences(reply) for name, reply in results}
        shared["usage"].extend(reply.usage for _, reply in results)


class Combine(AsyncNode):
    """Step 3: one more LLM call that merges the summaries into an overview."""

    async def prep_async(self, shared: dict[str, Any]) -> tuple[Model, dict[str, str]]:
        print(f"Step 3/3  combining the {len(shared['summaries'])} summaries into one overview")
        return shared["model"], shared["summaries"]

    async def exec_async(self, prep_res: tuple[Model, dict[str, str]]) -> Reply:
        model, summaries = prep_res
        bullet_list = "\n".join(f"- {summary}" for summary in summaries.values())
        return await model.generate_async(
            "Here are summaries of several short articles:\n"
            f"{bullet_list}\n\nWrite a short paragraph introducing this collection of articles.",
            **OVERVIEW_OPTIONS,
        )

    async def post_async(self, shared: dict[str, Any], prep_res: Any, reply: Reply) -> None:
        shared["overview"] = complete_sentences(reply)
        shared["usage"].append(reply.usage)


def build_flow(concurrency: int) -> AsyncFlow:
    """load >> summarize (parallel) >> combine."""
    load = LoadDocuments()
    load >> SummarizeEach(max_concurrency=concurrency) >> Combine()
    return AsyncFlow(start=load)


def describe(model: Model) -> str:
    if isinstance(model, LocalModel):
        server = model.server
        return (
            f"{model.name}, embedded in this process (offline; {server.threads} CPU thread, "
            f"{server.slots} parallel slots)"
        )
    return f"{model.name} at {getattr(model, 'base_url', None) or 'the OpenAI API'}"


def print_wrapped(title: str, text: str) -> None:
    print(textwrap.fill(text, width=100, initial_indent=f"  {title:<20} ", subsequent_indent=" " * 23))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--llm",
        default=os.environ.get(MODEL_ENV, DEFAULT_SPEC),
        help="'local' (default, embedded SmolLM2) or 'openai:<model>' with OPENAI_BASE_URL/OPENAI_API_KEY",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="files summarized at once (default 4)")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder of .txt files to summarize")
    args = parser.parse_args()

    started = time.perf_counter()
    model = default_model(args.llm)
    print("rillflow demo: summarize text files in parallel with an LLM, then combine the summaries.")
    print("Flow: LoadDocuments (Node) >> SummarizeEach (AsyncParallelBatchNode) >> Combine (AsyncNode)")
    print(f"Model: {describe(model)}")
    if isinstance(model, LocalModel):
        await asyncio.to_thread(model.server.start)
        print(f"       loaded in {time.perf_counter() - started:.1f} s\n")

    shared: dict[str, Any] = {"data_dir": args.data, "model": model, "usage": []}
    flow_started = time.perf_counter()
    await build_flow(args.concurrency).run_async(shared)
    flow_seconds = time.perf_counter() - flow_started

    print("\nSummaries:")
    for name, summary in shared["summaries"].items():
        print_wrapped(name, summary)
    print("\nOverview:")
    print(textwrap.fill(shared["overview"], width=100, initial_indent="  ", subsequent_indent="  "))

    usage: list[Usage] = shared["usage"]
    print(
        f"\nDone: {len(usage)} LLM calls read {sum(u.prompt_tokens for u in usage)} prompt tokens and "
        f"generated {sum(u.completion_tokens for u in usage)} tokens. The flow took {flow_seconds:.1f} s, "
        f"{time.perf_counter() - started:.1f} s in total."
    )
    if isinstance(model, LocalModel):
        print(
            "The same flow runs on any OpenAI-compatible server, e.g.\n"
            "  OPENAI_BASE_URL=http://localhost:11434/v1 make demo DEMO_ARGS='--llm openai:llama3.2'"
        )


if __name__ == "__main__":
    asyncio.run(main())
