"""A datasource hangs (issue 6 item 4): a query that never ends is stopped by the statement timeout
(57014) and cancelled on the datasource; a datasource that accepts connections but never answers
fails with 08006 after the connect timeout; meanwhile queries on other datasources are unaffected."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest

from tests.support.metadata import SeededLogin, seed_login
from tests.support.warehouse import (
    WAREHOUSE_MODEL,
    login_dsn,
    running_on_datasource,
    seed_warehouse,
    served,
    wait_until,
)


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never sends a byte; yields its port."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # read nothing, answer nothing, keep the socket open

    server = await asyncio.start_server(accept, "127.0.0.1", 0, family=socket.AF_INET)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in held:
            writer.close()
        server.close()


async def _count(conn: psycopg.AsyncConnection[Any]) -> Any:
    return await (await conn.execute("SELECT MEASURE(count) FROM orders")).fetchall()


async def test_a_hung_datasource_does_not_hold_up_the_others(
    warehouse: SeededLogin,
    metadata_url: str,
    metadata_engine: Any,
    pg_database: str,
    pg_database_factory: Callable[[], Any],
    silent_server: int,
) -> None:
    other = await seed_warehouse(
        metadata_engine, await pg_database_factory(), team="Sales", owner_email="s@example.com"
    )
    silent = await seed_login(
        metadata_engine,
        team="Silent",
        owner_email="silent@example.com",
        datasource="silent",
        db_params={"host": "127.0.0.1", "port": str(silent_server), "database": "x", "user": "u"},
        models={"warehouse.yml": WAREHOUSE_MODEL},
    )
    async with served(metadata_url, datasource_connect_timeout=1.0) as gw:
        hung = await psycopg.AsyncConnection.connect(login_dsn(gw.port, warehouse), autocommit=True)
        stuck = await psycopg.AsyncConnection.connect(login_dsn(gw.port, warehouse), autocommit=True)
        elsewhere = await psycopg.AsyncConnection.connect(login_dsn(gw.port, other), autocommit=True)
        unanswered = await psycopg.AsyncConnection.connect(login_dsn(gw.port, silent), autocommit=True)
        try:
            await hung.execute("SET statement_timeout = '1s'")
            timed = asyncio.ensure_future(hung.execute("SELECT MEASURE(count) FROM slow"))
            forever = asyncio.ensure_future(stuck.execute("SELECT MEASURE(count) FROM slow"))

            async def sleeping() -> bool:
                return await running_on_datasource(pg_database, "%pg_sleep%") == 2

            await wait_until(sleeping, "both hanging queries run on their datasource")
            silent_query = asyncio.ensure_future(_count(unanswered))
            # The other datasource answers while these hang (one of them for a minute).
            results = await asyncio.gather(*(_count(elsewhere) for _ in range(5)))
            assert all(rows == [(50,)] for rows in results)
            assert not forever.done()
            with pytest.raises(psycopg.errors.QueryCanceled) as timed_out:
                await timed
            assert "statement timeout" in str(timed_out.value)
            with pytest.raises(psycopg.Error) as never_answered:
                await silent_query
            assert never_answered.value.sqlstate == "08006", never_answered.value
            await stuck.cancel_safe()
            with pytest.raises(psycopg.errors.QueryCanceled):
                await forever

            async def cancelled() -> bool:
                return await running_on_datasource(pg_database, "%pg_sleep%") == 0

            await wait_until(cancelled, "the hung queries were cancelled on the datasource")
            assert await _count(hung) == [(50,)]
            assert await _count(elsewhere) == [(50,)]
            assert await _count(stuck) == [(50,)]
        finally:
            for conn in (hung, stuck, elsewhere, unanswered):
                await conn.close()
