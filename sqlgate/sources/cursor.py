"""The life cycle every driver's cursor shares: a query slot held until close, a deadline, cleanup
that runs exactly once and survives the cancellation of the task that asked for it."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from sqlgate.sources.base import SourceColumn
from sqlgate.sources.limits import Deadline, QueryGate, statement_timeout, within

# (column index, value converter) for the few columns whose values need changing on the way out.
Converters = list[tuple[int, Callable[[Any], Any]]]


class SlotCursor(ABC):
    """An open query holding one of its datasource's query slots until :meth:`close`.

    Subclasses implement :meth:`_cleanup`; close runs it exactly once, then frees the slot.
    """

    def __init__(self, gate: QueryGate, deadline: Deadline) -> None:
        self.batch_count = 0
        self.row_count = 0
        self._gate = gate
        self._deadline = deadline
        self._exhausted = False
        self._closing: asyncio.Task[None] | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self._fetching = False  # a read from the datasource is running (subclasses set it)
        self._expired = False
        left = deadline.left()
        if left is not None:
            # A cursor read in portions (FETCH, Execute with a row count) may sit idle between them;
            # its datasource query and slot must still end with the deadline, not when the client
            # next asks (a client holding cursors open would otherwise hold the datasource's slots).
            self._expiry = asyncio.get_running_loop().call_later(left, self._expire)

    def _expire(self) -> None:
        if self._fetching or self._closing is not None or self._exhausted:
            return  # a running fetch gets 57014 from ``within``; a finished query holds nothing
        self._expired = True
        self._closing = asyncio.ensure_future(self._close_once())
        self._closing.add_done_callback(_consume_exception)

    @property
    def exhausted(self) -> bool:
        """True once the datasource said the result has no more rows."""
        return self._exhausted

    async def close(self) -> None:
        """Release the connection (cancelling an unfinished query) and the query slot. Idempotent."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_once())
        # Shielded: a second cancellation of the caller must not leave a connection half released.
        await asyncio.shield(self._closing)

    async def _close_once(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        try:
            await self._cleanup(finished=self._exhausted)
        finally:
            self._gate.release()

    @abstractmethod
    async def _cleanup(self, *, finished: bool) -> None:
        """Give the connection back; ``finished`` False means the query may still be running."""


class GatedCursor(SlotCursor):
    """Base of the row cursors (``SourceCursor``). Subclasses implement :meth:`_fetch` and
    :meth:`_cleanup`.

    ``_fetch`` runs under the query's deadline; when the deadline fires it is interrupted (the
    driver cancels the query on the datasource as part of the interruption) and the caller gets
    57014. When the task iterating :meth:`batches` is cancelled the CancelledError propagates
    unchanged; the caller must still :meth:`close` the cursor, which cancels the datasource query
    if it has not finished.
    """

    columns: Sequence[SourceColumn]

    def __init__(self, columns: Sequence[SourceColumn], gate: QueryGate, deadline: Deadline) -> None:
        super().__init__(gate, deadline)
        self.columns = columns

    async def batches(self, batch_size: int) -> AsyncIterator[list[Any]]:
        """Yield lists of at most ``batch_size`` rows until the result is exhausted."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        while not self._exhausted:
            if self._expired:
                raise statement_timeout()
            if self._closing is not None:
                raise RuntimeError("cursor is closed")
            self._fetching = True
            try:
                rows = await within(self._deadline, self._fetch(batch_size))
            finally:
                self._fetching = False
            if len(rows) < batch_size:
                self._exhausted = True
            if rows:
                self.batch_count += 1
                self.row_count += len(rows)
                yield rows

    @abstractmethod
    async def _fetch(self, n: int) -> list[Any]:
        """The next at most ``n`` rows; fewer than ``n`` means the result is exhausted."""


def _consume_exception(task: asyncio.Task[None]) -> None:
    """Retrieve a background close's exception (the cleanup already logged what matters)."""
    if not task.cancelled():
        task.exception()


def apply_converters(rows: list[Any], converters: Converters) -> list[Any]:
    """Rows with the converted columns replaced (rows untouched when there is nothing to convert)."""
    if not converters or not rows:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for index, fn in converters:
            values[index] = fn(values[index])
        out.append(tuple(values))
    return out
