"""Minimal real-database sources for planner tests (the production drivers live in sqlgate.sources).

Each implements the :class:`sqlgate.sources.base.Source` protocol over a real server or an embedded
DuckDB, with the session time zone set to UTC, so planner tests run generated SQL exactly as the
gateway would, without depending on the sources package. Results are fetched whole and handed out
in batches (fine for test-sized data).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlgate.pgproto import oids
from sqlgate.sources.base import SourceColumn


@dataclass
class FetchedCursor:
    """A SourceCursor over rows that were already fetched."""

    columns: list[SourceColumn]
    rows: list[tuple[Any, ...]]
    closed: bool = False

    async def batches(self, batch_size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        for start in range(0, len(self.rows), batch_size):
            yield self.rows[start : start + batch_size]

    async def close(self) -> None:
        self.closed = True


@dataclass
class PostgresDirect:
    """asyncpg-backed source ($1 placeholders)."""

    url: str
    dialect: str = "postgres"
    executed: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _pool: Any = None

    @property
    def paramstyle(self) -> str:
        return "numeric"

    async def _get_pool(self) -> Any:
        if self._pool is None:
            import asyncpg

            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=2, server_settings={"timezone": "UTC"}
            )
        return self._pool

    async def open_cursor(
        self, sql: str, params: Sequence[Any], *, timeout: float | None = None
    ) -> FetchedCursor:
        pool = await self._get_pool()
        self.executed.append((sql, tuple(params)))
        async with pool.acquire() as conn:
            statement = await conn.prepare(sql)
            columns = [SourceColumn(a.name, a.type.oid) for a in statement.get_attributes()]
            records = await statement.fetch(*params, timeout=timeout)
        return FetchedCursor(columns, [tuple(r) for r in records])

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a hand-written (oracle) query."""
        pool = await self._get_pool()
        async with pool.acquire() as conn:
            return [tuple(r) for r in await conn.fetch(sql)]

    async def server_version(self) -> str:
        rows = await self.fetch("SHOW server_version")
        return str(rows[0][0])

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


# asyncmy/pymysql field type codes -> PostgreSQL OIDs
_MYSQL_TYPES = {
    0: oids.NUMERIC,
    246: oids.NUMERIC,
    1: oids.INT2,
    2: oids.INT2,
    3: oids.INT4,
    9: oids.INT4,
    8: oids.INT8,
    4: oids.FLOAT4,
    5: oids.FLOAT8,
    7: oids.TIMESTAMP,
    12: oids.TIMESTAMP,
    10: oids.DATE,
    15: oids.TEXT,
    253: oids.TEXT,
    254: oids.TEXT,
    252: oids.TEXT,
}


@dataclass
class MySQLDirect:
    """asyncmy-backed source (%s placeholders; the SQL always goes through ``%`` formatting)."""

    connect_args: dict[str, Any]
    database: str
    dialect: str = "mysql"
    executed: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _conn: Any = None

    @property
    def paramstyle(self) -> str:
        return "format"

    async def _connection(self) -> Any:
        if self._conn is None:
            import asyncmy

            self._conn = await asyncmy.connect(**self.connect_args, db=self.database, autocommit=True)
            async with self._conn.cursor() as cursor:
                await cursor.execute("SET time_zone = '+00:00'")
        return self._conn

    async def open_cursor(
        self, sql: str, params: Sequence[Any], *, timeout: float | None = None
    ) -> FetchedCursor:
        conn = await self._connection()
        self.executed.append((sql, tuple(params)))
        async with conn.cursor() as cursor:
            await cursor.execute(sql, tuple(params))
            description = cursor.description or []
            rows = list(await cursor.fetchall())
        columns = [SourceColumn(d[0], _MYSQL_TYPES.get(d[1], oids.UNKNOWN)) for d in description]
        return FetchedCursor(columns, [tuple(r) for r in rows])

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        conn = await self._connection()
        async with conn.cursor() as cursor:
            await cursor.execute(sql)
            return [tuple(r) for r in await cursor.fetchall()]

    async def server_version(self) -> str:
        rows = await self.fetch("SELECT VERSION()")
        return str(rows[0][0])

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.ensure_closed()
            self._conn = None


def _duckdb_oid(type_name: str) -> int:
    name = type_name.upper()
    if name in ("BIGINT", "HUGEINT", "UBIGINT"):
        return oids.INT8 if name == "BIGINT" else oids.NUMERIC
    if name in ("INTEGER", "UINTEGER"):
        return oids.INT4
    if name in ("SMALLINT", "TINYINT", "USMALLINT", "UTINYINT"):
        return oids.INT2
    if name.startswith("DECIMAL"):
        return oids.NUMERIC
    if name in ("DOUBLE", "FLOAT"):
        return oids.FLOAT8
    if name == "BOOLEAN":
        return oids.BOOL
    if name == "TIMESTAMP WITH TIME ZONE":
        return oids.TIMESTAMPTZ
    if name.startswith("TIMESTAMP"):
        return oids.TIMESTAMP
    if name == "DATE":
        return oids.DATE
    if name == "VARCHAR":
        return oids.TEXT
    return oids.UNKNOWN


@dataclass
class DuckDBDirect:
    """An embedded DuckDB connection (? placeholders)."""

    connection: Any
    dialect: str = "duckdb"
    executed: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    @property
    def paramstyle(self) -> str:
        return "qmark"

    async def open_cursor(
        self, sql: str, params: Sequence[Any], *, timeout: float | None = None
    ) -> FetchedCursor:
        self.executed.append((sql, tuple(params)))
        result = self.connection.execute(sql, list(params))
        columns = [SourceColumn(d[0], _duckdb_oid(str(d[1]))) for d in result.description]
        return FetchedCursor(columns, [tuple(r) for r in result.fetchall()])

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.connection.execute(sql).fetchall()]

    async def server_version(self) -> str:
        return str(self.connection.execute("PRAGMA version").fetchone()[0])

    async def close(self) -> None:
        self.connection.close()
