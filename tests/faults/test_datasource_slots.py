"""Concurrent datasource queries are limited per datasource (issue 6 item 3): beyond
``datasource_max_concurrent`` queries wait in a FIFO queue; one that waits longer than
``datasource_queue_timeout`` fails with 53300, and the session stays usable."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from tests.support.metadata import SeededLogin
from tests.support.warehouse import login_dsn, running_on_datasource, served, wait_until


async def _sleeping(database: str) -> bool:
    return await running_on_datasource(database, "%pg_sleep%") == 1


async def _connect(port: int, login: SeededLogin) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(login_dsn(port, login), autocommit=True)


async def test_a_query_that_waits_too_long_for_a_slot_gets_53300(
    warehouse: SeededLogin, metadata_url: str, pg_database: str
) -> None:
    async with served(metadata_url, datasource_max_concurrent=1, datasource_queue_timeout=0.3) as gw:
        holder = await _connect(gw.port, warehouse)
        waiter = await _connect(gw.port, warehouse)
        try:
            running = asyncio.ensure_future(holder.execute("SELECT MEASURE(count) FROM slow"))
            await wait_until(lambda: _sleeping(pg_database), "the slow query runs on the datasource")
            with pytest.raises(psycopg.errors.TooManyConnections) as caught:
                await waiter.execute("SELECT MEASURE(count) FROM orders")
            assert caught.value.sqlstate == "53300"
            assert "is busy" in str(caught.value)
            await holder.cancel_safe()
            with pytest.raises(psycopg.errors.QueryCanceled):
                await running
            # The slot is free again: the refused session queries normally.
            rows = await (await waiter.execute("SELECT MEASURE(count) FROM orders")).fetchall()
            assert rows == [(50,)]
        finally:
            await holder.close()
            await waiter.close()


async def test_queued_queries_run_when_a_slot_frees(
    warehouse: SeededLogin, metadata_url: str, pg_database: str
) -> None:
    async with served(metadata_url, datasource_max_concurrent=1, datasource_queue_timeout=60) as gw:
        holder = await _connect(gw.port, warehouse)
        queued = [await _connect(gw.port, warehouse) for _ in range(3)]
        try:
            await holder.execute("SET statement_timeout = '1s'")
            running = asyncio.ensure_future(holder.execute("SELECT MEASURE(count) FROM slow"))
            await wait_until(lambda: _sleeping(pg_database), "the slow query runs on the datasource")
            waiting = [
                asyncio.ensure_future(conn.execute("SELECT status, MEASURE(count) FROM orders GROUP BY 1"))
                for conn in queued
            ]
            source = next(iter(gw.sources.sources().values()))

            async def all_queued() -> bool:
                return source.gate.waiting == 3

            await wait_until(all_queued, "three queries wait for the datasource slot")
            with pytest.raises(psycopg.errors.QueryCanceled):
                await running
            for cursor in await asyncio.gather(*waiting):
                assert sorted(await cursor.fetchall()) == [("open", 25), ("paid", 25)]
            assert source.gate.active == 0 and source.gate.waiting == 0
        finally:
            await holder.close()
            for conn in queued:
                await conn.close()
