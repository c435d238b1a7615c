"""Per-datasource query slots (a FIFO queue with a timeout) and per-query deadlines."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlgate.errors import QUERY_CANCELED, TOO_MANY_CONNECTIONS, PgError

T = TypeVar("T")

STATEMENT_TIMEOUT_MESSAGE = "canceling statement due to statement timeout"


def statement_timeout() -> PgError:
    """The 57014 error PostgreSQL reports when ``statement_timeout`` fires."""
    return PgError(QUERY_CANCELED, STATEMENT_TIMEOUT_MESSAGE)


@dataclass(slots=True)
class GateStats:
    """Counters for metrics: how long queries waited for a slot, and how many gave up."""

    acquired: int = 0
    wait_seconds_total: float = 0.0
    timeouts: int = 0
    rejected: int = 0


class QueryGate:
    """At most ``limit`` queries hold a slot; the rest wait in FIFO order.

    A waiter gives up with 53300 after ``queue_timeout`` seconds (0: waits forever), and a new query
    is refused at once with 53300 when ``max_queued`` are already waiting (0: unbounded).
    """

    def __init__(
        self, limit: int, *, queue_timeout: float = 0.0, max_queued: int = 0, name: str = ""
    ) -> None:
        self.limit = limit
        self.queue_timeout = queue_timeout
        self.max_queued = max_queued
        self.name = name
        self.active = 0
        self.stats = GateStats()
        # Called with the seconds each query waited for its slot (0.0 when one was free): the
        # gateway's wait-time histogram. Set by whoever owns the metrics.
        self.wait_observer: Callable[[float], None] | None = None
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> None:
        """Take a slot, waiting in line if all are busy."""
        if self.active < self.limit and not self._waiters:
            self.active += 1
            self.stats.acquired += 1
            if self.wait_observer is not None:
                self.wait_observer(0.0)
            return
        if self.max_queued and len(self._waiters) >= self.max_queued:
            self.stats.rejected += 1
            raise PgError(
                TOO_MANY_CONNECTIONS,
                f"datasource {self.name!r} is busy: {self.limit} queries running and "
                f"{len(self._waiters)} waiting",
            )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.queue_timeout or None):
                await waiter
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot arrived just as we gave up: pass it on
            self.stats.timeouts += 1
            raise PgError(
                TOO_MANY_CONNECTIONS,
                f"datasource {self.name!r} is busy: no query slot free after {self.queue_timeout:g} s",
            ) from None
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            waited = time.monotonic() - started
            self.stats.wait_seconds_total += waited
            if self.wait_observer is not None:
                self.wait_observer(waited)
        self.stats.acquired += 1

    def release(self) -> None:
        """Give a slot back: to the first live waiter, else to the pool of free slots."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves to the waiter; ``active`` is unchanged
                return
        self.active -= 1


class Deadline:
    """The moment a query's time is up (``timeout`` None or 0: never)."""

    __slots__ = ("_at",)

    def __init__(self, timeout: float | None) -> None:
        self._at = time.monotonic() + timeout if timeout else None

    def remaining(self) -> float | None:
        """Seconds left (None: no deadline); raises 57014 when none are left."""
        if self._at is None:
            return None
        left = self._at - time.monotonic()
        if left <= 0:
            raise statement_timeout()
        return left

    def left(self) -> float | None:
        """Seconds left, never negative (None: no deadline); does not raise."""
        if self._at is None:
            return None
        return max(0.0, self._at - time.monotonic())

    @property
    def expired(self) -> bool:
        return self._at is not None and time.monotonic() >= self._at


async def within(deadline: Deadline, awaitable: Awaitable[T]) -> T:
    """Await before the deadline; else cancel the awaitable (drivers cancel the datasource query
    when they are cancelled) and raise 57014."""
    remaining = deadline.remaining()
    if remaining is None:
        return await awaitable
    try:
        async with asyncio.timeout(remaining):
            return await awaitable
    except TimeoutError:
        if deadline.expired:
            raise statement_timeout() from None
        raise
