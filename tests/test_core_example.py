"""The core example runs and does what its docstring says."""

from __future__ import annotations

import asyncio
import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "core_pipeline.py"


def test_core_pipeline_example_runs() -> None:
    module = runpy.run_path(str(EXAMPLE), run_name="example")
    shared = asyncio.run(module["main"]())
    assert shared["report"] == "10 documents from the bundled corpus, 500 words (long)"
    assert set(shared["texts"]) == {f"doc-{i}" for i in range(10)}
