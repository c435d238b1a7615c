"""Buffered output to a client with back-pressure.

Messages accumulate in memory until :meth:`Output.flush` (at ReadyForQuery, Flush, or when the buffer
passes its limit during a result). :meth:`Output.drain` flushes and then waits while the socket's own
buffer is full, so a slow client slows the query down instead of growing memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class ClientGone(ConnectionError):
    """The client closed the connection (or it broke)."""


class Sink(Protocol):
    def write(self, data: bytes) -> None:
        """Hand bytes to the transport."""
        ...

    async def wait_writable(self) -> None:
        """Return once the transport accepts more data (raises if the client is gone)."""
        ...


class Output:
    """The write side of one connection."""

    def __init__(
        self, sink: Sink, limit: int = 64 * 1024, on_sent: Callable[[int], None] | None = None
    ) -> None:
        self._sink = sink
        self._parts: list[bytes] = []
        self._size = 0
        self.limit = limit
        self.bytes_sent = 0
        self._on_sent = on_sent

    @property
    def pending(self) -> int:
        return self._size

    def write(self, data: bytes) -> None:
        if data:
            self._parts.append(data)
            self._size += len(data)

    def flush(self) -> None:
        if not self._parts:
            return
        data = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
        self._parts = []
        self._size = 0
        self.bytes_sent += len(data)
        if self._on_sent is not None:
            self._on_sent(len(data))
        self._sink.write(data)

    async def drain(self) -> None:
        """Flush, then wait until the socket can take more."""
        self.flush()
        await self._sink.wait_writable()

    async def maybe_drain(self) -> None:
        """Drain when more than ``limit`` bytes are buffered (call between result batches)."""
        if self._size >= self.limit:
            await self.drain()


class MemorySink:
    """A sink that keeps everything written (tests of the session machine)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    async def wait_writable(self) -> None:
        return None

    def take(self) -> bytes:
        out = bytes(self.data)
        self.data.clear()
        return out
