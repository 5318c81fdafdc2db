"""The core imports nothing outside the standard library (checked in a child with no site-packages)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rillflow

SRC = Path(rillflow.__file__).resolve().parent.parent

PROBE = """
import sys
sys.path.insert(0, {src!r})
before = set(sys.modules)
import rillflow
from rillflow import *  # noqa: F403
for name in rillflow.__all__:
    getattr(rillflow, name)
loaded = {{m.split(".")[0] for m in set(sys.modules) - before}}
allowed = set(sys.stdlib_module_names) | {{"rillflow"}}
outside = sorted(m for m in loaded if m not in allowed)
print("outside:", outside)
print("site-packages on path:", any("site-packages" in p for p in sys.path))
"""


def test_public_api_imports_with_no_third_party_package() -> None:
    # -S: no site module, so no site-packages at all; -I: ignore PYTHON* variables and user site.
    out = subprocess.run(
        [sys.executable, "-S", "-I", "-c", PROBE.format(src=str(SRC))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "outside: []" in out
    assert "site-packages on path: False" in out


def test_all_lists_every_pocketflow_name() -> None:
    pocketflow_names = {
        "BaseNode", "Node", "BatchNode", "Flow", "BatchFlow", "AsyncNode", "AsyncBatchNode",
        "AsyncParallelBatchNode", "AsyncFlow", "AsyncBatchFlow", "AsyncParallelBatchFlow",
    }  # fmt: skip
    assert pocketflow_names <= set(rillflow.__all__)
