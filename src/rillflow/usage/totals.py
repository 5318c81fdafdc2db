"""Usage totals (calls, tokens, cost) and the price table that turns tokens into money."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..llm.calls import LLMCall, ToolRun


@dataclass(frozen=True)
class Price:
    """What a model costs per million tokens: prompt (input), completion (output) and cached prompt
    tokens (``cached=None``: the prompt price)."""

    prompt: float
    completion: float
    cached: float | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        cached_price = self.prompt if self.cached is None else self.cached
        fresh = max(prompt_tokens - cached_tokens, 0)
        return (
            fresh * self.prompt + cached_tokens * cached_price + completion_tokens * self.completion
        ) / 1e6


Prices = Mapping[str, Price]
"""Model name -> :class:`Price` (the name the model object was created with, or the one the server
reported in its reply)."""


def price_of(call: LLMCall, prices: Prices | None) -> tuple[float, int]:
    """(cost, 1 if the call's model has no price else 0); (0.0, 0) without a price table."""
    if prices is None:
        return 0.0, 0
    price = prices.get(call.model)
    if price is None and call.reply is not None:
        price = prices.get(call.reply.model)
    if price is None:
        return 0.0, 1
    usage = call.usage
    return price.cost(usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens), 0


@dataclass
class Totals:
    """What a run (or everything a meter watched) used. ``cost`` counts only priced calls;
    ``unpriced_calls`` says how many calls had no price in the table (their cost is unknown)."""

    llm_calls: int = 0
    llm_errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    cost: float = 0.0
    unpriced_calls: int = 0
    llm_seconds: float = 0.0
    tool_seconds: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add_llm(self, call: LLMCall, prices: Prices | None) -> None:
        """Count one model call (``prices``: to add its cost)."""
        cost, unpriced = price_of(call, prices)
        self.add_call(call, cost, unpriced)

    def add_call(self, call: LLMCall, cost: float, unpriced: int) -> None:
        """Count one model call whose cost is known (the meter prices a call once for all its totals)."""
        usage = call.usage
        self.llm_calls += 1
        if call.error is not None:
            self.llm_errors += 1
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.cached_tokens += usage.cached_tokens
        self.llm_seconds += call.duration
        self.cost += cost
        self.unpriced_calls += unpriced

    def add_tool(self, run: ToolRun) -> None:
        """Count one tool call."""
        self.tool_calls += 1
        if not run.ok:
            self.tool_errors += 1
        self.tool_seconds += run.duration

    def add(self, other: Totals) -> None:
        """Add ``other`` into these totals."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"total_tokens": self.total_tokens}

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Totals:
        """Totals saved by :meth:`to_json` (unknown keys are ignored, so older records still load)."""
        raw = json.loads(data)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def summary(self) -> str:
        """One line: ``3 LLM calls, 1,204 tokens (1,000 prompt, 204 completion), 2 tool calls, $0.001200``."""
        text = (
            f"{self.llm_calls} LLM call{'s' * (self.llm_calls != 1)}, {self.total_tokens:,} tokens "
            f"({self.prompt_tokens:,} prompt"
        )
        if self.cached_tokens:
            text += f" of which {self.cached_tokens:,} cached"
        text += f", {self.completion_tokens:,} completion), {self.tool_calls} tool call"
        text += "s" * (self.tool_calls != 1)
        if self.cost or self.unpriced_calls:
            text += f", ${self.cost:.6f}" if self.cost < 1 else f", ${self.cost:,.2f}"
            if self.unpriced_calls:
                text += f" (+{self.unpriced_calls} unpriced call{'s' * (self.unpriced_calls != 1)})"
        return text
