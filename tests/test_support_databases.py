"""The database fixtures themselves: a real server answers and throw-away databases come and go."""

from __future__ import annotations

import asyncpg

from tests.support.databases import PgServer, create_pg_database, drop_pg_database


async def test_pg_database_is_empty_and_usable(pg_database: str) -> None:
    conn = await asyncpg.connect(pg_database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        await conn.execute("CREATE TABLE t (x int)")
        await conn.execute("INSERT INTO t VALUES (1), (2)")
        assert await conn.fetchval("SELECT sum(x) FROM t") == 3
    finally:
        await conn.close()


async def test_created_database_is_dropped(pg_server: PgServer) -> None:
    name = await create_pg_database(pg_server)
    await drop_pg_database(pg_server, name)
    conn = await asyncpg.connect(pg_server.url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name) == 0
    finally:
        await conn.close()
