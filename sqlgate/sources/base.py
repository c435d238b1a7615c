"""The contract every datasource driver keeps.

A driver runs SQL that the planner generated (never client text) with bound parameters, and streams
the result in bounded batches. Cancellation is cooperative with asyncio: cancelling the task that
iterates a cursor must cancel the query on the datasource. Failures surface as
:class:`sqlgate.errors.PgError` with SQLSTATE 08006 (connection lost / datasource down), 57014
(timeout or cancel) or the datasource's own SQLSTATE where it has one (PostgreSQL), else 58000.

Optional capability: a source with ``supports_passthrough = True`` (PostgreSQL) also has
``open_passthrough(sql, params, *, result_formats=(), timeout=None, batch_rows=5000)``, whose cursor
yields the datasource's own DataRow messages (``chunks()`` -> ``(bytes, row count)``) in the client's
result formats, for the wire to write unchanged (``RowBatch.encoded``). See sources.passthrough.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class SourceColumn:
    """A result column as the datasource reports it, mapped to a PostgreSQL type OID."""

    name: str
    type_oid: int


class SourceCursor(Protocol):
    """An open result. ``columns`` is known before the first batch."""

    columns: Sequence[SourceColumn]

    def batches(self, batch_size: int) -> AsyncIterator[list[Sequence[Any]]]:
        """Yield lists of at most ``batch_size`` rows, as Python values (None for NULL).

        A row is a tuple or a tuple-like record (``asyncpg.Record``: indexable, iterable, ``len``);
        converting every record to a tuple would cost ~0.25 s per million rows for nothing."""
        ...

    async def close(self) -> None:
        """Release the connection; cancels the query on the datasource if it is still running."""
        ...


class Source(Protocol):
    """One datasource (a pool of connections, or an embedded database)."""

    dialect: str  # the sqlglot dialect name the planner generates SQL in ("postgres", "mysql", "duckdb", …)

    async def open_cursor(
        self, sql: str, params: Sequence[Any], *, timeout: float | None = None
    ) -> SourceCursor:
        """Start ``sql`` with ``params`` bound (placeholders in the driver's paramstyle, see
        :attr:`paramstyle`) and return a cursor. ``timeout`` bounds the whole query (57014)."""
        ...

    @property
    def paramstyle(self) -> str:
        """How generated SQL marks parameters: "numeric" ($1), "format" (%s) or "qmark" (?)."""
        ...

    async def server_version(self) -> str:
        """The datasource's version string (``datasources test``)."""
        ...

    async def close(self) -> None:
        """Close every connection of this source."""
        ...
