"""The ``rillflow`` command prints a run's usage (on standard error; standard output keeps the JSON)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "rillflow"

FLOWS = textwrap.dedent(
    """
    import rillflow as rf
    from rillflow.llm import Reply, ScriptedModel, Usage

    model = ScriptedModel(lambda prompt: Reply("fine", usage=Usage(12, 3)))

    class Ask(rf.Node):
        def exec(self, prep_res):
            return model.generate("hello").text

        def post(self, shared, prep_res, text):
            shared.setdefault("answers", []).append(text)

    ask = Ask()
    ask >> Ask(name="Again")
    flow = rf.Flow(ask, name="Asking")
    quiet = rf.Flow(rf.Node(), name="Quiet")
    """
)


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "flows.py").write_text(FLOWS)
    return subprocess.run([str(SCRIPT), *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_run_prints_usage_totals_and_per_node_lines(tmp_path: Path) -> None:
    done = run(tmp_path, "run", "flows.py:flow")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"answers": ["fine", "fine"]}
    assert "usage: 2 LLM calls, 30 tokens (24 prompt, 6 completion), 0 tool calls" in done.stderr
    assert "  Asking > Again: 1 LLM call, 15 tokens" in done.stderr


def test_run_without_llm_calls_prints_no_usage(tmp_path: Path) -> None:
    done = run(tmp_path, "run", "flows.py:quiet")
    assert done.returncode == 0 and "usage" not in done.stderr


def test_durable_run_and_resume_print_usage(tmp_path: Path) -> None:
    done = run(tmp_path, "run", "flows.py:flow", "--db", "runs.db", "--run-id", "r1")
    assert done.returncode == 0 and "usage: 2 LLM calls" in done.stderr
    again = run(tmp_path, "resume", "flows.py:flow", "r1", "--db", "runs.db")
    assert again.returncode == 0 and "usage" not in again.stderr  # finished: nothing ran again
