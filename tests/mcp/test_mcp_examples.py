"""The MCP example runs offline with the scripted model and the example server over stdio."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


async def test_mcp_agent_example_uses_the_servers_tools_and_recovers_from_a_tool_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = runpy.run_path(str(EXAMPLES / "mcp_agent.py"), run_name="example")
    results, meter = await example["main"](example["scripted_model"]())
    for result in results:
        steps = result.shared["agent"]["steps"]
        assert [(s["tool"], s["ok"]) for s in steps] == [
            ("docs_read_document", False),
            ("docs_read_document", True),
        ]
        assert "no document named" in steps[0]["output"]
    assert results[0].shared["agent"]["answer"].startswith("According to the document 'Tardigrades'")
    assert meter.totals.tool_calls == 4 and meter.totals.tool_errors == 2
    assert "tools from the server: docs_list_documents, docs_read_document" in capsys.readouterr().out
