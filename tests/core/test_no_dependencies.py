"""The core imports nothing outside the standard library (checked in a child with no site-packages)."""

from __future__ import annotations

from isolated import run_isolated

import rillflow


def test_public_api_imports_with_no_third_party_package() -> None:
    lines = run_isolated(
        "import rillflow\n"
        "from rillflow import *\n"
        "print('missing:', [n for n in rillflow.__all__ if not hasattr(rillflow, n)])\n"
        "print('site-packages on path:', any('site-packages' in p for p in sys.path))"
    )
    assert lines == ["missing: []", "site-packages on path: False", "outside: []"]


def test_all_lists_every_pocketflow_name() -> None:
    pocketflow_names = {
        "BaseNode", "Node", "BatchNode", "Flow", "BatchFlow", "AsyncNode", "AsyncBatchNode",
        "AsyncParallelBatchNode", "AsyncFlow", "AsyncBatchFlow", "AsyncParallelBatchFlow",
    }  # fmt: skip
    assert pocketflow_names <= set(rillflow.__all__)
