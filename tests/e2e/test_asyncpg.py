"""asyncpg: prepared statements (Parse+Describe+Flush), cursors, timeouts, pools, Terminate."""

from __future__ import annotations

import asyncio
import datetime
import time
from decimal import Decimal

import asyncpg
import pytest

from sqlgate.gateway import Gateway
from tests.e2e.conftest import Target


def _params(target: Target) -> dict[str, object]:
    return {
        "host": target.host,
        "port": target.port,
        "user": target.user,
        "password": target.password,
        "database": target.database,
        "ssl": False,
    }


async def connect(target: Target) -> asyncpg.Connection:
    return await asyncpg.connect(**_params(target), server_settings={"application_name": "asyncpg-test"})


async def test_prepared_statements_and_binary_results(target: Target) -> None:
    conn = await connect(target)
    try:
        assert conn.get_server_version().major == 15
        assert await conn.fetchval("SELECT $1::int + 1", 41) == 42
        row = await conn.fetchrow(
            "SELECT $1::numeric AS n, $2::timestamptz AS t, $3::text AS s, $4::bool AS b",
            Decimal("1.25"),
            datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
            "x",
            False,
        )
        assert dict(row) == {
            "n": Decimal("1.25"),
            "t": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
            "s": "x",
            "b": False,
        }
        statement = await conn.prepare("SELECT n FROM numbers LIMIT $1")
        assert [r["n"] for r in await statement.fetch(5)] == [1, 2, 3, 4, 5]
        assert await statement.fetchval(1) == 1
        assert statement.get_parameters()[0].name == "int4"
        assert await conn.fetchval("SELECT current_setting('application_name')") == "asyncpg-test"
    finally:
        await conn.close()


async def test_simple_query_execute(target: Target) -> None:
    conn = await connect(target)
    try:
        assert await conn.execute("SET application_name = 'a'; SHOW application_name") == "SHOW"
    finally:
        await conn.close()


async def test_cursor_in_a_transaction_uses_portals(target: Target) -> None:
    conn = await connect(target)
    try:
        async with conn.transaction():
            seen = [
                record["n"] async for record in conn.cursor("SELECT n FROM numbers LIMIT 120", prefetch=50)
            ]
            cursor = await conn.cursor("SELECT n FROM numbers LIMIT 10")
            assert [r["n"] for r in await cursor.fetch(3)] == [1, 2, 3]
            assert (await cursor.fetchrow())["n"] == 4
        assert seen == list(range(1, 121))
    finally:
        await conn.close()


async def test_timeout_cancels_and_connection_stays_usable(target: Target) -> None:
    conn = await connect(target)
    try:
        with pytest.raises(asyncio.TimeoutError):
            await conn.fetch("SELECT pg_sleep(30)", timeout=0.3)
        assert await conn.fetchval("SELECT 'alive'") == "alive"
        with pytest.raises(asyncpg.exceptions.DivisionByZeroError):
            await conn.fetchval("SELECT 1/0")
        assert await conn.fetchval("SELECT 2") == 2
    finally:
        await conn.close()


async def test_pool_resets_connections(target: Target, e2e_gateway: Gateway) -> None:
    pool = await asyncpg.create_pool(
        **_params(target),
        min_size=1,
        max_size=2,
    )
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET application_name = 'dirty'")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW application_name") == ""
    finally:
        await pool.close()


async def test_close_sends_terminate_and_returns_promptly(target: Target, e2e_gateway: Gateway) -> None:
    conn = await connect(target)
    started = time.monotonic()
    await asyncio.wait_for(conn.close(), 5)
    assert time.monotonic() - started < 2
    await asyncio.sleep(0.1)
    assert e2e_gateway.server is not None and not e2e_gateway.server.admitted


async def test_a_statement_refused_at_prepare_is_an_error_not_a_hang(target: Target) -> None:
    # asyncpg prepares with Parse + Describe + Flush and no Sync: the error must be sent at once.
    conn = await connect(target)
    try:
        for _ in range(2):
            with pytest.raises(asyncpg.PostgresError):
                await asyncio.wait_for(conn.prepare("SELECT FROM WHERE"), 10)
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
