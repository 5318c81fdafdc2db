"""Budgets: limits on what one run may use, checked before each LLM call starts."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.context import Path
from ..errors import FlowError
from .totals import Totals


class BudgetExceeded(FlowError):
    """A run reached one of its budget limits. ``limit`` names it (``"max_llm_calls"``, ``"max_tokens"``
    or ``"max_cost"``), ``allowed`` is its value, ``used`` the run's totals so far and ``path`` the node
    that was about to call the model. Raised before that call is sent, so nothing is half done; a durable
    run is saved as failed and ``flow.resume(run_id, hooks=[UsageMeter(<a higher limit>)])`` goes on."""

    def __init__(self, limit: str, allowed: float, used: Totals, path: Path) -> None:
        self.limit, self.allowed, self.used, self.path = limit, allowed, used, path
        where = " > ".join(path) or "outside any node"
        spent = {
            "max_llm_calls": f"{used.llm_calls} LLM calls made",
            "max_tokens": f"{used.total_tokens} tokens used",
            "max_cost": f"${used.cost:.6f} spent",
        }[limit]
        super().__init__(
            f"budget {limit}={allowed} reached at {where}: {spent}; the LLM call there was not sent "
            "(raise the limit to go on)"
        )

    def __reduce__(self) -> tuple[object, ...]:  # picklable, e.g. across processes
        return (type(self), (self.limit, self.allowed, self.used, self.path))


@dataclass(frozen=True)
class Budget:
    """Limits per run; ``None`` means no limit. A call that starts under the limits is let finish, so
    tokens and cost can end one call's worth above ``max_tokens`` / ``max_cost``."""

    max_llm_calls: int | None = None
    max_tokens: int | None = None
    max_cost: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_llm_calls", "max_tokens", "max_cost"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value >= 0):
                raise ValueError(f"{name} must be a number >= 0 or None, got {value!r}")

    @property
    def active(self) -> bool:
        return self.max_llm_calls is not None or self.max_tokens is not None or self.max_cost is not None

    def check(self, used: Totals, path: Path) -> None:
        """Raise :class:`BudgetExceeded` if one more LLM call would go over a limit."""
        if self.max_llm_calls is not None and used.llm_calls >= self.max_llm_calls:
            raise BudgetExceeded("max_llm_calls", self.max_llm_calls, used, path)
        if self.max_tokens is not None and used.total_tokens >= self.max_tokens:
            raise BudgetExceeded("max_tokens", self.max_tokens, used, path)
        if self.max_cost is not None and used.cost >= self.max_cost:
            raise BudgetExceeded("max_cost", self.max_cost, used, path)
