"""docs/usage.md: its ```python blocks run in order as one script and print what the comments say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "usage.md"


def test_the_python_blocks_run_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "usage_doc"}
    for index, block in enumerate(blocks):
        exec(compile(block, f"usage.md block {index}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "llm_call Trip > Geo > Think gpt-4o-mini\ntool_call Trip > Geo > Act > #0 capital\n" in out
    assert (
        "6 LLM calls, 720 tokens (600 prompt of which 480 cached, 120 completion), 3 tool calls, $0.000126"
        in out
    )
    assert (
        "this run: 2 LLM calls, 240 tokens (200 prompt of which 160 cached, 40 completion), 1 tool call"
        in out
    )
    assert "max_llm_calls 1 Trip > Geo > Think\nbudget max_llm_calls=1 reached at Trip > Geo > Think" in out
    assert "failed\nParis. | 2 LLM calls, 240 tokens" in out
    kinds = ["run Trip CHAIN", "Geo AGENT", "Start CHAIN", "Think CHAIN", "llm gpt-4o-mini LLM", "Act CHAIN"]
    assert "\n".join([*kinds, "tool capital TOOL"]) in out
