"""The observability examples run as documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=EXAMPLES.parent)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    return done.stdout


def test_pipeline_example_streams_text_and_draws_the_flow() -> None:
    out = run(sys.executable, str(EXAMPLES / "observe_pipeline.py"))
    lines = out.splitlines()
    assert "    Tides and lighthouses guide ships." in lines  # the first draft, streamed
    assert lines.index("node_start Pipeline > Writing > Draft") < lines.index("run_end    Pipeline")
    assert "published: Tides and lighthouses both guide ships safely home." in lines
    assert '        n5 -->|"revise"| n4' in lines


def test_pipeline_example_through_the_command_line() -> None:
    script = Path(sys.executable).parent / "rillflow"
    out = run(
        str(script),
        "run",
        "examples/observe_pipeline.py:flow",
        "--shared",
        "examples/data/observe_input.json",
    )
    shared = json.loads(out)
    assert shared["revisions"] == 1 and shared["published"].startswith("Tides")


def test_tracing_example_prints_the_span_tree() -> None:
    out = run(sys.executable, str(EXAMPLES / "observe_tracing.py"))
    lines = out.splitlines()
    spans = [line for line in lines if "llm " not in line]
    names = [line.split()[0] if not line.startswith("run ") else "run" for line in spans]
    assert names == ["run", "Research", "Writing", "Draft", "Review", "Draft", "Review", "Approve", "Publish"]
    # Each LLM call is an OpenInference LLM span under its node (rillflow.usage.openinference).
    assert sum("llm scripted" in line and "'openinference.span.kind': 'LLM'" in line for line in lines) == 4
    assert "'items': 2" in out and "'action': 'publish'" in out
