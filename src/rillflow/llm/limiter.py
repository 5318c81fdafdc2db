"""One budget shared by every caller of a model: requests in flight, requests and tokens per minute.

The limiter is thread-safe and serves both faces: async callers wait on their loop, sync callers (for
instance a sync node's ``exec`` running in a worker thread of an AsyncFlow) block their thread, and both
draw from the same counters.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

Waker = Callable[[], None]


class _Bucket:
    """A token bucket refilled continuously at ``capacity`` per minute; it may go negative (debt)."""

    def __init__(self, per_minute: float, now: float) -> None:
        if per_minute <= 0:
            raise ValueError("a per-minute budget must be positive")
        self.capacity = float(per_minute)
        self.level = float(per_minute)
        self.rate = per_minute / 60.0
        self.stamp = now

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` (capped at capacity, so oversized requests still pass) is available."""
        missing = min(amount, self.capacity) - self.level
        return 0.0 if missing <= 0 else missing / self.rate


class Lease:
    """Admission of one request; ``settle`` charges the real token count, leaving releases the slot."""

    def __init__(self, limiter: Limiter, charged_tokens: int) -> None:
        self._limiter = limiter
        self._charged = charged_tokens
        self._released = False

    def settle(self, actual_tokens: int) -> None:
        """Replace the estimate charged at admission by the tokens the server reported."""
        self._limiter._adjust_tokens(self._charged - actual_tokens)
        self._charged = actual_tokens

    def release(self) -> None:
        """Free the in-flight slot (idempotent)."""
        if not self._released:
            self._released = True
            self._limiter._release()


class Limiter:
    """Shared request budget: at most ``max_in_flight`` concurrent requests, ``requests_per_minute`` and
    ``tokens_per_minute`` (token buckets that start full, so short bursts pass). ``None`` means unlimited.

    Every model owns one (``model.limiter``); pass the same limiter to several models to share a budget.
    """

    def __init__(
        self,
        *,
        max_in_flight: int | None = None,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self._clock = clock
        now = clock()
        self._requests = _Bucket(requests_per_minute, now) if requests_per_minute else None
        self._tokens = _Bucket(tokens_per_minute, now) if tokens_per_minute else None
        self._lock = threading.Lock()
        self._in_flight = 0
        self._peak_in_flight = 0
        self._waiters: list[Waker] = []

    def __repr__(self) -> str:
        rpm = self._requests.capacity if self._requests else None
        tpm = self._tokens.capacity if self._tokens else None
        return (
            f"Limiter(max_in_flight={self.max_in_flight}, requests_per_minute={rpm}, "
            f"tokens_per_minute={tpm}, in_flight={self._in_flight})"
        )

    @property
    def in_flight(self) -> int:
        """Requests admitted and not yet finished."""
        return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        """The highest number of requests that were in flight at once."""
        return self._peak_in_flight

    def try_acquire(self, estimated_tokens: int = 0, *, ignore_in_flight: bool = False) -> Lease | float:
        """Admit a request now and return its Lease, or return how many seconds to wait before retrying
        (``math.inf`` when only a finishing request can free a slot)."""
        return self._admit(estimated_tokens, ignore_in_flight, None)

    @contextmanager
    def hold(self, estimated_tokens: int = 0, *, ignore_in_flight: bool = False) -> Iterator[Lease]:
        """Block the thread until the request is admitted; release its slot on exit."""
        woken = threading.Event()
        while True:
            woken.clear()
            admitted = self._admit(estimated_tokens, ignore_in_flight, woken.set)
            if isinstance(admitted, Lease):
                break
            woken.wait(None if math.isinf(admitted) else admitted)
            self._forget(woken.set)
        try:
            yield admitted
        finally:
            admitted.release()

    @asynccontextmanager
    async def hold_async(self, estimated_tokens: int = 0) -> AsyncIterator[Lease]:
        """Wait (without blocking the loop) until the request is admitted; release its slot on exit."""
        loop = asyncio.get_running_loop()
        while True:
            woken: asyncio.Future[None] = loop.create_future()
            waker = _loop_waker(loop, woken)
            admitted = self._admit(estimated_tokens, False, waker)
            if isinstance(admitted, Lease):
                break
            try:
                await asyncio.wait({woken}, timeout=None if math.isinf(admitted) else admitted)
            finally:
                self._forget(waker)
        try:
            yield admitted
        finally:
            admitted.release()

    def _admit(self, estimated_tokens: int, ignore_in_flight: bool, waker: Waker | None) -> Lease | float:
        with self._lock:
            now = self._clock()
            wait = 0.0
            if not ignore_in_flight and self.max_in_flight is not None:
                if self._in_flight >= self.max_in_flight:
                    wait = math.inf
            for bucket, amount in ((self._requests, 1.0), (self._tokens, float(estimated_tokens))):
                if bucket is not None:
                    bucket.refill(now)
                    wait = max(wait, bucket.wait_for(amount))
            if wait > 0:
                if waker is not None:
                    self._waiters.append(waker)
                return wait
            if self._requests is not None:
                self._requests.level -= 1
            charged = 0
            if self._tokens is not None:
                # An estimate above the whole budget is charged as the budget; settle() charges real usage.
                charged = min(estimated_tokens, int(self._tokens.capacity))
                self._tokens.level -= charged
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
            return Lease(self, charged)

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
        self._wake_all()

    def _adjust_tokens(self, refund: int) -> None:
        if self._tokens is None:
            return
        with self._lock:
            self._tokens.refill(self._clock())
            self._tokens.level += refund
        if refund > 0:
            self._wake_all()

    def _forget(self, waker: Waker) -> None:
        with self._lock:
            if waker in self._waiters:
                self._waiters.remove(waker)

    def _wake_all(self) -> None:
        # Every waiter re-checks the budget itself; waking all keeps the logic simple and fair enough.
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for wake in waiters:
            wake()


def _loop_waker(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> Waker:
    def resolve() -> None:
        if not future.done():
            future.set_result(None)

    def wake() -> None:
        try:
            loop.call_soon_threadsafe(resolve)
        except RuntimeError:  # the waiting loop has already closed
            pass

    return wake
