"""The durable examples run as documented: crash half way and resume; pause, then resume elsewhere."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "durable.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)


def test_crash_then_resume_sends_every_email_once(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        str(ROOT / "examples" / "durable_resume.py"),
        "--db",
        "runs.db",
        "--outbox",
        "out.db",
    ]
    crashed = subprocess.run([*cmd, "--crash-after", "20"], cwd=tmp_path, capture_output=True, text=True)
    assert crashed.returncode == 137
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"status": "done", "recorded": 50, "emails": 50}


def test_the_docs_have_runnable_blocks() -> None:
    assert len(BLOCKS) >= 5


def test_the_docs_blocks_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs"}
    for i, block in enumerate(BLOCKS):
        exec(compile(block, f"docs/durable.md block {i}", "exec"), namespace)
