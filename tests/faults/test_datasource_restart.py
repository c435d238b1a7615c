"""The datasource restarts (issue 6 item 4): queries running when it goes down fail with 08006, the
sessions stay usable, the gateway's pool recovers on its own, and later queries succeed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import psycopg
import pytest

from tests.support.metadata import SeededLogin
from tests.support.throwaway_pg import ThrowawayPg, throwaway_pg
from tests.support.warehouse import login_dsn, running_on_datasource, seed_warehouse, served, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def datasource_server() -> Iterator[ThrowawayPg]:
    with throwaway_pg() as server:
        yield server


async def _datasource(server: ThrowawayPg) -> str:
    conn = await asyncpg.connect(server.url)
    try:
        await conn.execute("CREATE DATABASE warehouse")
    finally:
        await conn.close()
    return server.url_for("warehouse")


async def _count(conn: psycopg.AsyncConnection[Any]) -> Any:
    return await (await conn.execute("SELECT MEASURE(count) FROM orders")).fetchall()


async def test_datasource_restart(
    datasource_server: ThrowawayPg,
    metadata_engine: Any,
    metadata_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    url = await _datasource(datasource_server)
    login: SeededLogin = await seed_warehouse(metadata_engine, url)
    async with served(metadata_url, datasource_pool_size=4) as gw:
        busy = await psycopg.AsyncConnection.connect(login_dsn(gw.port, login), autocommit=True)
        idle = [
            await psycopg.AsyncConnection.connect(login_dsn(gw.port, login), autocommit=True)
            for _ in range(3)
        ]
        try:
            # Fill the pool with connections that the restart will break.
            for rows in await asyncio.gather(*(_count(c) for c in idle)):
                assert rows == [(50,)]
            running = asyncio.ensure_future(busy.execute("SELECT MEASURE(count) FROM slow"))

            async def sleeping() -> bool:
                return await running_on_datasource(url, "%pg_sleep%") == 1

            await wait_until(sleeping, "the slow query runs on the datasource")
            await asyncio.to_thread(datasource_server.stop, "fast")
            with pytest.raises(psycopg.Error) as caught:
                await running
            assert caught.value.sqlstate == "08006", caught.value
            # While it is down: a clear 08006, never a hang.
            with pytest.raises(psycopg.Error) as down:
                await _count(idle[0])
            assert down.value.sqlstate == "08006", down.value
            await asyncio.to_thread(datasource_server.start)
            # Back up: every session, including the one whose query failed, queries again; the
            # pool's broken connections are replaced rather than handed out.
            for conn in [busy, *idle]:
                assert await _count(conn) == [(50,)]
            results = await asyncio.gather(*(_count(c) for c in [busy, *idle, *idle]))
            assert all(rows == [(50,)] for rows in results)
        finally:
            await busy.close()
            for conn in idle:
                await conn.close()
