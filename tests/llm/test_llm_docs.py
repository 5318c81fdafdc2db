"""docs/llm.md's ```python blocks run as written, offline (```py blocks are illustrative and not run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "llm.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE)


def test_the_llm_docs_have_runnable_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_llm_docs_block_runs(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The examples must not depend on the reader's environment (and never reach a remote server).
    for name in ("RILLFLOW_LLM", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    exec(compile(BLOCKS[index], f"docs/llm.md block {index}", "exec"), {"__name__": "docs"})
