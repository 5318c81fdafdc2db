"""An Agent Spec agent whose tools come from an MCP server: load it, connect it, run it, export it.

The config (written here, as WayFlow or pyagentspec would write it) names an ``MCPToolBox`` on a
streamable-HTTP server at a placeholder URL. ``AgentSpecLoader(mcp_servers=...)`` connects that transport
to ``examples/mcp_docs_server.py`` over stdio instead; loading connects to nothing, the run starts the
server, takes the toolbox's tools from it (only the two its ``tool_filter`` names), and its end stops the
server. Exporting the loaded agent gives back the same MCP components.

    [RILLFLOW_LLM=openai:<model>] python examples/agentspec_mcp.py [--dry-run] [--show-yaml]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rillflow.agentspec import AgentSpecExporter, AgentSpecLoader
from rillflow.llm import Model, Reply, ScriptedModel, ToolCall, default_model

SERVER = Path(__file__).resolve().parent / "mcp_docs_server.py"

CONFIG = """
component_type: Agent
id: librarian
name: Librarian
system_prompt: Answer from the documents and name the document you used.
llm_config: {component_type: VllmConfig, id: llm, name: llm, model_id: my-model, url: "http://127.0.0.1:8000"}
tools: []
toolboxes:
- component_type: MCPToolBox
  id: docs
  name: docs
  client_transport:
    component_type: StreamableHTTPTransport
    id: docs-server
    name: docs server
    url: http://docs.internal:8000/mcp
  tool_filter: [list_documents, read_document]
agentspec_version: 25.4.2
"""

# Where the config's "docs server" really is: a subprocess speaking MCP over stdin/stdout.
LOCAL_DOCS_SERVER = {"component_type": "StdioTransport", "command": sys.executable, "args": [str(SERVER)]}


def scripted_model() -> ScriptedModel:
    """Lists the documents, reads the one about tardigrades, answers from it."""

    def reply(prompt: str) -> Reply | str:
        heading = next((line for line in prompt.splitlines() if line.startswith("# ")), None)
        if heading is not None:
            return f"According to the document {heading[2:]!r}: see its first lines above."
        if "tardigrades" in prompt and "great_barrier_reef" in prompt:  # the listing came back
            arguments = json.dumps({"name": "tardigrades", "max_chars": 200})
            return Reply("", "tool_calls", tool_calls=(ToolCall("c2", "read_document", arguments),))
        return Reply("", "tool_calls", tool_calls=(ToolCall("c1", "list_documents", "{}"),))

    return ScriptedModel(reply)


def main(model: Model, *, show_yaml: bool = False) -> dict[str, Any]:
    loader = AgentSpecLoader(llm=model, mcp_servers={"docs server": LOCAL_DOCS_SERVER})
    agent = loader.load_yaml(CONFIG)  # no server needed yet
    print("before the run, the toolbox offers:", ", ".join(t.name for t in agent.toolbox))
    result = agent.ask("What can tardigrades survive?")  # starts the server, and stops it at the end
    for step in result.steps:
        print(f"  {step['tool']}({json.dumps(step['arguments'])}) -> {step['output'][:60]!r}")
    print("answer:", result.answer)
    text = AgentSpecExporter().to_yaml(agent)
    if show_yaml:
        print(text)
    again = AgentSpecLoader(llm=model).load_yaml(text)
    print("exported, loaded and exported again: the same config:", AgentSpecExporter().to_yaml(again) == text)
    return {"answer": result.answer, "steps": result.steps, "yaml": text}


if __name__ == "__main__":
    dry_run = "--dry-run" in sys.argv
    main(scripted_model() if dry_run else default_model(), show_yaml="--show-yaml" in sys.argv)
