"""When and how long to wait before retrying a failed request: exponential backoff with jitter."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

from .errors import LLMError

logger = logging.getLogger("rillflow.llm")


@dataclass(frozen=True)
class RetryPolicy:
    """Retry transient failures (connection errors, 429, 5xx) up to ``max_attempts`` tries in total.

    The n-th retry waits ``base_delay * 2**(n-1)`` seconds (capped at ``max_delay``), shortened by a random
    fraction up to ``jitter`` so that parallel callers do not retry in lockstep, and never less than the
    server's ``Retry-After`` hint (also capped).
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: float = 0.5
    _random: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def delay_before_retry(self, attempt: int, error: LLMError) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up and raise ``error``."""
        if not error.transient or attempt >= self.max_attempts:
            return None
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        delay = backoff * (1.0 - self.jitter * self._random.random())
        if error.retry_after is not None:
            delay = max(delay, min(error.retry_after, self.max_delay))
        logger.warning(
            "retrying in %.2fs (attempt %d of %d failed): %s", delay, attempt, self.max_attempts, error
        )
        return delay


NO_RETRY = RetryPolicy(max_attempts=1)
"""A policy that never retries."""
