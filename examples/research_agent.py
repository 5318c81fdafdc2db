"""The seed tutorial's research agent, in rillflow: decide -> search -> decide ... -> answer.

The agent searches a small bundled library (examples/data/docs) with a local tool, reads the passages it
finds, and answers with its sources. It runs offline on the embedded SmolLM2 model (which uses the
structured-output protocol: one JSON action per turn); ``--llm openai:<model>`` uses native tool calling
on any OpenAI-compatible server; ``--dry-run`` uses a scripted model (no model at all).

    python examples/research_agent.py ["Who discovered polonium?"] [--llm SPEC] [--dry-run]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path
from typing import Annotated, Any

from rillflow import AsyncFlow, AsyncNode
from rillflow.agents import Agent, Tool, tool
from rillflow.llm import Model, Reply, ScriptedModel, ToolCall, default_model

DOCS_DIR = Path(__file__).parent / "data" / "docs"
QUESTION = "Who discovered polonium, and what was it named after?"
INSTRUCTIONS = (
    "You are a research assistant. Search the documents using words from the question, "
    "then answer the question in one or two sentences."
)
_STOP = frozenset(
    "a an and are did does for from how in is it of on the to was what when where which who why".split()
)


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


def load_documents(folder: Path = DOCS_DIR) -> dict[str, list[str]]:
    """Each document's sentences, by file name."""
    return {
        path.stem: re.split(r"(?<=[.!?])\s+", " ".join(path.read_text(encoding="utf-8").split()))
        for path in sorted(folder.glob("*.md"))
    }


def make_search_tool(documents: dict[str, list[str]]) -> Tool:
    """A keyword search over the documents' sentences (a stand-in for a web or vector search)."""

    @tool
    def search_docs(
        query: Annotated[str, "keywords to look for"],
        limit: Annotated[int, "how many passages to return"] = 2,
    ) -> list[dict[str, str]]:
        """Search the library; returns the best-matching passages with the document they come from."""
        wanted = words(query)
        scored = [
            (len(wanted & words(sentence)), source, sentence)
            for source, sentences in documents.items()
            for sentence in sentences
        ]
        best = sorted((s for s in scored if s[0] > 0), key=lambda s: -s[0])[: max(1, min(limit, 5))]
        return [{"source": source, "passage": sentence} for _, source, sentence in best]

    return search_docs


class Report(AsyncNode):
    """After the agent: print the answer and the documents it used."""

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        state = shared["agent"]
        sources = sorted(
            {hit["source"] for step in state["steps"] if step["ok"] for hit in json.loads(step["output"])}
        )
        shared["sources"] = sources
        print(f"Question: {shared['question']}")
        for step in state["steps"]:
            hits = len(json.loads(step["output"])) if step["ok"] else 0
            print(f"  searched {step['arguments']} -> {hits} hits")
        if state["outcome"] == "answer":
            print(f"Answer:   {state['answer']}\nSources:  {', '.join(sources) or 'none'}")
        else:
            print(f"No answer after {state['iterations']} turns.")


def build_flow(model: Model) -> AsyncFlow:
    agent = Agent(
        model,
        [make_search_tool(load_documents())],
        instructions=INSTRUCTIONS,
        # Guards for small models: look before answering, never repeat a search, end with an answer.
        require_tool=True,
        repeat_calls=False,
        answer_on_last_turn=True,
        max_iterations=4,
        model_options={"max_tokens": 300, "temperature": 0.0, "seed": 7},
    )
    report = Report()
    agent >> report
    agent - "max_iterations" >> report
    return AsyncFlow(start=agent)


def scripted_model() -> ScriptedModel:
    """Plays the model's part: search with the question's keywords, then answer from the first passage."""

    def reply(prompt: str) -> Reply | str:
        if "passage" not in prompt:
            query = " ".join(sorted(words(prompt.splitlines()[-1])))
            return Reply(
                "", "tool_calls", tool_calls=(ToolCall("s1", "search_docs", json.dumps({"query": query})),)
            )
        return json.loads(prompt.splitlines()[-1])[0]["passage"]

    return ScriptedModel(reply)


async def main(question: str = QUESTION, model: Model | None = None) -> dict[str, Any]:
    shared: dict[str, Any] = {"question": question}
    await build_flow(model or default_model()).run_async(shared)
    return shared


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("question", nargs="?", default=QUESTION)
    parser.add_argument("--llm", help="model spec: 'local' (default) or 'openai:<model>'")
    parser.add_argument("--dry-run", action="store_true", help="use a scripted model")
    args = parser.parse_args()
    asyncio.run(main(args.question, scripted_model() if args.dry_run else default_model(args.llm)))
