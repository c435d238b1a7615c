"""Idle upstream connections kept for reuse.

A pool opens connections with the ``connect`` function it is given and keeps released ones idle
(most recently used first) until ``idle_timeout``. With ``max_size`` it also bounds how many are in
use at once: :meth:`UpstreamPool.acquire` then waits for a free one (``timeout``). Without it the
pool never makes anyone wait (the datasource path bounds concurrency with its own query slots).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from sqlgate.upstream.connection import ConnectionBroken, UpstreamConnection

Connector = Callable[[], Awaitable[UpstreamConnection]]


class PoolClosed(Exception):
    """The pool was closed; no connection is handed out any more."""


class UpstreamPool:
    """Connections to one database as one user."""

    def __init__(
        self,
        connect: Connector,
        *,
        max_size: int | None = None,
        connect_timeout: float = 10.0,
        idle_timeout: float = 300.0,
    ) -> None:
        self._connect = connect
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._idle: deque[UpstreamConnection] = deque()
        self._in_use: set[UpstreamConnection] = set()
        self._slots = asyncio.Semaphore(max_size) if max_size else None
        self.max_size = max_size
        self.closed = False

    @property
    def size(self) -> int:
        """Connections open now (idle and in use)."""
        return len(self._idle) + len(self._in_use)

    async def acquire(
        self, timeout: float | None = None, *, settle: bool = True
    ) -> tuple[UpstreamConnection, bool]:
        """A connection and whether it is fresh (a reused one may have died while idle).

        With ``settle`` False a reused connection may still owe ReadyForQuery messages
        (``pending_ready``): the caller sends at once and skips them while reading its answer.

        Raises :class:`PoolClosed`, ``TimeoutError`` (no slot within ``timeout``, or connecting took
        longer than ``connect_timeout``) or whatever ``connect`` raises.
        """
        if self.closed:
            raise PoolClosed
        if self._slots is not None:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        try:
            return await self._checkout(settle)
        except BaseException:
            if self._slots is not None:
                self._slots.release()
            raise

    async def _checkout(self, settle: bool = True) -> tuple[UpstreamConnection, bool]:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_usable or (self._idle_timeout and now - conn.last_used > self._idle_timeout):
                conn.close()
                continue
            if conn.pending_ready and settle:
                try:
                    async with asyncio.timeout(self._connect_timeout or None):
                        await conn.wait_ready()
                except (ConnectionBroken, TimeoutError):
                    conn.close()
                    continue
            self._in_use.add(conn)
            return conn, False
        if self.closed:
            raise PoolClosed
        async with asyncio.timeout(self._connect_timeout or None):
            conn = await self._connect()
        self._in_use.add(conn)
        return conn, True

    def release(self, conn: UpstreamConnection, *, reusable: bool) -> None:
        """Give ``conn`` back: kept idle when ``reusable`` and healthy, else closed."""
        if conn not in self._in_use:
            conn.close()
            return
        self._in_use.discard(conn)
        if self._slots is not None:
            self._slots.release()
        if reusable and not conn.broken and not self.closed:
            conn.last_used = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()

    @property
    def in_use(self) -> int:
        return len(self._in_use)

    def expire_stale(self) -> None:
        """Close idle connections unused for longer than ``idle_timeout``."""
        if not self._idle_timeout:
            return
        now = time.monotonic()
        keep = [c for c in self._idle if now - c.last_used <= self._idle_timeout and c.is_usable]
        for conn in self._idle:
            if conn not in keep:
                conn.close()
        self._idle = deque(keep)

    def expire_idle(self) -> None:
        """Close every idle connection (after a failure they are likely dead too)."""
        while self._idle:
            self._idle.pop().close()

    def close(self) -> None:
        """Close idle connections now; connections in use close when they are released."""
        self.closed = True
        self.expire_idle()
