"""Watching a run: events, a live stream of LLM text, progress bars and a diagram, all offline.

The flow researches a few topics in parallel, drafts an answer (streamed chunk by chunk), and a review
sends the draft back once for revision. The model is a ScriptedModel, so the example needs no server.

    python examples/observe_pipeline.py                   # stream the run, then print the Mermaid diagram
    rillflow run examples/observe_pipeline.py:flow --shared examples/data/observe_input.json --stream
    rillflow viz examples/observe_pipeline.py:flow --html -o pipeline.html
"""

from __future__ import annotations

import asyncio
from typing import Any

from rillflow import AsyncFlow, AsyncNode, AsyncParallelBatchNode, Node
from rillflow.hooks import emit
from rillflow.llm import ScriptedModel


def reply_for(prompt: str) -> str:
    """The scripted model: a short, predictable reply to each kind of prompt."""
    if prompt.startswith("Facts about"):
        return f"{prompt.removeprefix('Facts about ').rstrip('.')} matters for coastal towns."
    if "Revise" in prompt:
        return "Tides and lighthouses both guide ships safely home."
    return "Tides and lighthouses guide ships."


MODEL = ScriptedModel(reply_for)


class Research(AsyncParallelBatchNode):
    """One model call per topic, at most two at a time (item events drive the progress bars)."""

    async def prep_async(self, shared: dict[str, Any]) -> list[str]:
        return list(shared["topics"])

    async def exec_async(self, topic: str) -> str:
        reply = await MODEL.generate_async(f"Facts about {topic}.")
        return reply.text

    async def post_async(self, shared: dict[str, Any], prep_res: Any, notes: list[str]) -> None:
        shared["notes"] = notes


class Draft(AsyncNode):
    """Streams the draft: every chunk is emitted as a ``text`` event while the reply is generated."""

    async def prep_async(self, shared: dict[str, Any]) -> str:
        verb = "Revise" if shared.get("draft") else "Write"
        return f"{verb} a one-line answer from these notes: {' '.join(shared['notes'])}"

    async def exec_async(self, prompt: str) -> str:
        chunks = []
        async for chunk in MODEL.stream_async(prompt):
            emit("text", chunk)
            chunks.append(chunk)
        return "".join(chunks)

    async def post_async(self, shared: dict[str, Any], prep_res: Any, draft: str) -> None:
        shared["draft"] = draft
        shared["revisions"] = shared.get("revisions", -1) + 1


class Review(Node):
    """Sends the first draft back for one revision, then approves."""

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        return "revise" if shared["revisions"] == 0 else "approve"


class Approve(Node):
    """The last node of the nested flow: its action is what the nested flow returns to its parent."""

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        return "publish"


class Publish(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["published"] = shared["draft"]


def build_flow() -> AsyncFlow:
    draft, review = Draft(), Review()
    writing = AsyncFlow(draft, name="Writing")
    draft >> review
    review - "revise" >> draft  # a loop inside the nested flow
    review - "approve" >> Approve()
    research = Research(max_concurrency=2)
    research >> writing
    writing - "publish" >> Publish()
    return AsyncFlow(research, name="Pipeline")


flow = build_flow()


async def main() -> dict[str, Any]:
    from rillflow.viz import to_mermaid

    shared: dict[str, Any] = {"topics": ["tides", "lighthouses", "harbours"]}
    in_text = False
    async for event in flow.stream_async(shared):
        if event.kind == "text":  # the draft appears as it is generated
            print(event.text if in_text else f"    {event.text}", end="", flush=True)
            in_text = True
            continue
        if in_text:
            print()
            in_text = False
        if event.kind in ("node_start", "item_end", "run_end"):
            print(f"{event.kind:<10} {event.where}")
    print(f"\npublished: {shared['published']}\n")
    print(to_mermaid(flow))
    return shared


if __name__ == "__main__":
    asyncio.run(main())
