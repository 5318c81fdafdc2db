"""The usage example runs offline with the scripted model and does what its docstring says."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


async def test_usage_budget_example_counts_prices_stops_at_the_budget_and_resumes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = runpy.run_path(str(EXAMPLES / "usage_budget.py"), run_name="example")
    meter, stopped, whole = await example["main"](example["scripted_model"]())
    assert (meter.totals.llm_calls, meter.totals.tool_calls, meter.totals.cached_tokens) == (9, 6, 900)
    assert meter.totals.cost == pytest.approx(9 * (20 * 0.15 + 100 * 0.075 + 20 * 0.60) / 1e6)
    assert stopped.limit == "max_llm_calls" and stopped.path == ("Geo", "Think")
    assert (whole.llm_calls, whole.tool_calls) == (3, 2)  # both attempts of the durable run
    out = capsys.readouterr().out
    assert "saved as: failed" in out and "resumed: The capitals are Paris and Lima." in out
