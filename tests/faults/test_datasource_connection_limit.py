"""The datasource refuses new connections (its own connection limit): queries get a clear error,
never an internal one, and the gateway serves again once connections free up."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.support.warehouse import login_dsn, make_orders, seed_warehouse, served


@pytest.fixture
async def limited_role(pg_database: str) -> Any:
    """A login role allowed one connection at a time, with read access to ``pg_database``."""
    name = f"sqlgate_lim_{secrets.token_hex(4)}"
    password = secrets.token_hex(8)
    await make_orders(pg_database)
    conn = await asyncpg.connect(pg_database)
    try:
        await conn.execute(f"CREATE ROLE {name} LOGIN CONNECTION LIMIT 1 PASSWORD '{password}'")
        await conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}")
    finally:
        await conn.close()
    yield name, password
    conn = await asyncpg.connect(pg_database)
    try:
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", name)
        await conn.execute(f"DROP OWNED BY {name}")
        await conn.execute(f"DROP ROLE {name}")
    finally:
        await conn.close()


async def test_datasource_connection_limit_is_a_clear_error(
    metadata_engine: Any, metadata_url: str, pg_database: str, limited_role: tuple[str, str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    role, password = limited_role
    parts = urlsplit(pg_database)
    host = parts.hostname or "127.0.0.1"
    url = urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}:{parts.port or 5432}"))
    login = await seed_warehouse(metadata_engine, url, fill=False)
    async with served(metadata_url, datasource_max_concurrent=4) as gw:
        import psycopg

        async def one() -> str:
            try:
                async with await psycopg.AsyncConnection.connect(login_dsn(gw.port, login)) as conn:
                    cur = await conn.execute("SELECT MEASURE(count) FROM pause")
                    return str((await cur.fetchone())[0])
            except psycopg.Error as exc:
                if exc.sqlstate == "08006":
                    assert "too many connections" in str(exc), str(exc)
                return exc.sqlstate or "?"

        outcomes = await asyncio.gather(*(one() for _ in range(4)))
        assert "XX000" not in outcomes, outcomes
        assert "50" in outcomes, outcomes
        assert set(outcomes) <= {"50", "53300", "08006", "08001"}, outcomes
        # Connections free again: the next query is served.
        assert await one() == "50"
