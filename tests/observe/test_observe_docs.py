"""docs/observability.md: its ```python blocks run in order as one script (```py blocks are illustrative)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "observability.md"


def test_the_python_blocks_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)  # the diagram block writes flow.html
    namespace: dict[str, object] = {"__name__": "observability_doc"}
    for index, block in enumerate(blocks):
        exec(compile(block, f"observability.md block {index}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "NodeEnd(path=('Review', 'Decide')" in out and "action='yes'" in out
    assert "Pipeline > Writing > Load | KeyError: 'notes'" in out
    assert "['node_end', 'node_end', 'run_end']" in out
    assert "The tide turns twice a day.  [Pipeline > Writing > Draft done]" in out
    assert "['Decide', 'Hold', 'run Review']" in out
    assert 'n1 -->|"yes"| n2' in out and 'n2["Ship"]' in out
    assert (tmp_path / "flow.html").read_text().startswith("<!DOCTYPE html>")
