"""rillflow.usage: what a run cost (LLM calls, tokens, cost, tool calls), budgets that stop a run at a
limit, and OpenInference attributes for LLM tracing tools. Standard library only. See docs/usage.md.

    from rillflow.usage import Price, UsageMeter

    meter = UsageMeter(prices={"gpt-4o-mini": Price(0.15, 0.60)}, max_llm_calls=20)
    flow.run(shared, hooks=[meter])
    print(meter.totals.summary())
"""

from .budget import Budget, BudgetExceeded
from .meter import USAGE, UsageMeter
from .totals import Price, Prices, Totals

__all__ = ["USAGE", "Budget", "BudgetExceeded", "Price", "Prices", "Totals", "UsageMeter"]
