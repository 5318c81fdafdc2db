"""docs/mcp.md: its ```python blocks run in order as one script and print what the comments say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "mcp.md"


def test_the_python_blocks_run_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {"__name__": "mcp_doc"}
    for index, block in enumerate(blocks):
        exec(compile(block, f"mcp.md block {index}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "[('fs_read', ['name'])]\nbuy milk\n" in out
    assert "Error: fs_read failed: MCPToolError: Error executing tool read: no file named todo.txt" in out
    assert "Your note says: buy milk. ['fs_read']" in out
