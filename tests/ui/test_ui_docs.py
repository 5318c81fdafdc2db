"""docs/ui.md's Python blocks run in order, and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "ui.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)


def test_the_blocks_run_and_print_what_they_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in BLOCKS:
            exec(compile(block, str(DOC), "exec"), namespace)
    out = printed.getvalue()
    assert "1 step Loop > Count again {'n': 1, 'seen': [0]} []" in out
    assert "{'n': 2, 'seen': [0, 1]}" in out
    assert "count-1b {'by': 2, 'n': 6, 'seen': [0, 1, 2, 4]}" in out
    assert "{'n': 5, 'seen': [0, 1, 2, 3, 4]}" in out
    assert out.rstrip().endswith("True")
    assert len(BLOCKS) == 3
