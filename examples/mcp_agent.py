"""An agent whose tools come from an MCP server: ``examples/mcp_docs_server.py``, started over stdio.

The toolset connects once, lists the server's tools (their schemas used as given), keeps only the two
the agent may use (``allowed_tools``) and names them ``docs_...`` (``prefix``). Two agents share the one
connection at the same time; a tool error (a document that does not exist) goes back to the model,
which recovers. A :class:`UsageMeter` counts the LLM and tool calls; the connection (and the server
process) is closed when the ``async with`` block ends.

    [RILLFLOW_LLM=openai:<model>] python examples/mcp_agent.py [--dry-run]

Needs ``pip install 'rillflow[mcp]'``. ``--dry-run`` (and the tests) use a scripted model.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from rillflow import RunResult
from rillflow.agents import Agent, run_many
from rillflow.llm import Model, Reply, ScriptedModel, ToolCall, default_model
from rillflow.mcp import MCPToolset
from rillflow.usage import UsageMeter

SERVER = Path(__file__).resolve().parent / "mcp_docs_server.py"
QUESTIONS = ["What are tardigrades?", "What did the Rosetta mission do?"]


def scripted_model() -> ScriptedModel:
    """Reads a misspelt document first (a tool error), then the right one, then answers."""

    def reply(prompt: str) -> Reply | str:
        topic = "tardigrades" if "tardigrades" in prompt.lower() else "rosetta_mission"
        heading = next((line for line in prompt.splitlines() if line.startswith("# ")), None)
        if heading is not None:
            return f"According to the document {heading[2:]!r}, see its first lines above."
        name = topic if "Error:" in prompt else topic + "s"  # misspelt first, then corrected
        arguments = json.dumps({"name": name, "max_chars": 200})
        call = ToolCall(f"call_{prompt.count('Error:')}", "docs_read_document", arguments)
        return Reply("", "tool_calls", tool_calls=(call,))

    return ScriptedModel(reply)


async def main(model: Model) -> tuple[list[RunResult], UsageMeter]:
    meter = UsageMeter()
    toolset = MCPToolset.stdio(
        sys.executable, [str(SERVER)], allowed_tools=["list_documents", "read_document"], prefix="docs_"
    )
    async with toolset as tools:
        print("tools from the server:", ", ".join(tool.name for tool in tools))
        agent = Agent(model, tools, instructions="Answer from the documents.", max_iterations=5)
        results = await run_many(agent, [{"question": q} for q in QUESTIONS], hooks=[meter])
    for question, result in zip(QUESTIONS, results, strict=True):
        state = result.shared["agent"]
        calls = ", ".join(f"{s['tool']}({'ok' if s['ok'] else 'error'})" for s in state["steps"])
        print(f"\n{question}\n  tools: {calls}\n  answer: {state['answer']}")
    print(f"\n{meter.report()}")
    return results, meter


if __name__ == "__main__":
    chosen = scripted_model() if "--dry-run" in sys.argv else default_model()
    asyncio.run(main(chosen))
