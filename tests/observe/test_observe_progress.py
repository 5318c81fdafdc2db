"""Progress bars for batches, drawn by rich from item events."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

import rillflow as rf
from rillflow.observe.progress import ProgressBars


class Work(rf.AsyncParallelBatchNode):
    async def prep_async(self, shared: dict[str, Any]) -> list[int]:
        return list(range(shared["n"]))

    async def exec_async(self, item: int) -> int:
        return item


class Tiny(rf.BatchNode):
    def prep(self, shared: Any) -> list[int]:
        return [1]


async def test_a_bar_per_batch_counts_finished_items() -> None:
    out = io.StringIO()
    bars = ProgressBars(Console(file=out, width=100, force_terminal=True), min_items=2)
    big = Work(max_concurrency=3)
    big >> Tiny()  # below min_items: no bar
    await rf.AsyncFlow(big, name="Jobs").run_async({"n": 25}, listeners=[bars])
    assert [(t.description, t.total, t.completed) for t in bars.progress.tasks] == [("Jobs > Work", 25, 25)]
    assert not bars.progress.live.is_started  # stopped when the run ended
    assert "Jobs > Work" in out.getvalue() and "25/25" in out.getvalue()


def test_progress_bars_in_a_sync_run_and_as_a_context_manager() -> None:
    class Each(rf.BatchFlow):
        def prep(self, shared: Any) -> list[dict[str, int]]:
            return [{"i": i} for i in range(4)]

    out = io.StringIO()
    with ProgressBars(Console(file=out, width=100), transient=True) as bars:
        Each(rf.Node(), name="Each").run({}, listeners=[bars])
    assert [(t.description, t.completed) for t in bars.progress.tasks] == [("Each", 4)]


def test_progress_names_the_extra_when_rich_is_missing(monkeypatch: Any) -> None:
    import sys

    import pytest

    monkeypatch.setitem(sys.modules, "rich.progress", None)
    with pytest.raises(ImportError, match=r"pip install 'rillflow\[cli\]'"):
        ProgressBars()
