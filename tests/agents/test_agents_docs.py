"""docs/agents.md's ```python blocks run as written, on the embedded model (```py blocks are illustrative)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE)


def test_the_agents_docs_have_a_runnable_quick_start() -> None:
    assert BLOCKS and "Agent(default_model(), [get_weather]" in BLOCKS[0]


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_agents_docs_block_runs(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RILLFLOW_LLM", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    namespace: dict[str, object] = {"__name__": "docs"}
    exec(compile(BLOCKS[index], f"docs/agents.md block {index}", "exec"), namespace)
    if index == 0:  # the quick start did what the page says
        result = namespace["result"]
        assert result.outcome == "answer"  # type: ignore[attr-defined]
        assert [step["tool"] for step in result.steps][:1] == ["get_weather"]  # type: ignore[attr-defined]
