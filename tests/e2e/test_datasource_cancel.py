"""A CancelRequest cancels the running datasource query (issue 4 item 3): the client gets 57014, the
query disappears from the datasource, and the session stays usable."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import psycopg
import pytest

from sqlgate.gateway import Gateway
from sqlgate.metastore import admin
from tests.support.gateways import make_settings
from tests.support.metadata import seed_login

SLOW_MODEL = """\
cubes:
  - name: Slow
    sql: SELECT id, status FROM public.orders WHERE pg_sleep(30) IS NOT NULL
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
  - name: Orders
    sql_table: public.orders
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
"""


async def _sleeping(pg_database: str) -> int:
    conn = await asyncpg.connect(pg_database)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND query ILIKE '%pg_sleep%' AND pid <> pg_backend_pid() AND state = 'active'"
        )
    finally:
        await conn.close()


async def test_cancel_request_cancels_the_datasource_query(
    metadata_engine: Any, pg_database: str, metadata_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = await asyncpg.connect(pg_database)
    try:
        await conn.execute(
            "CREATE TABLE orders (id int PRIMARY KEY, status text); INSERT INTO orders VALUES (1, 'a')"
        )
    finally:
        await conn.close()
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    _, params = admin.db_params_from_url(pg_database)
    seeded = await seed_login(metadata_engine, db_params=params, models={"Slow.yml": SLOW_MODEL})
    gateway = Gateway(make_settings(metadata_url=metadata_url))
    await gateway.start()
    try:
        dsn = (
            f"host=127.0.0.1 port={gateway.port} dbname=db user={seeded.username} "
            f"password={seeded.password} sslmode=disable"
        )
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as session:
            running = asyncio.ensure_future(session.execute("SELECT MEASURE(count) FROM slow"))
            deadline = time.monotonic() + 10
            while await _sleeping(pg_database) == 0:
                assert time.monotonic() < deadline, "the slow query never started on the datasource"
                await asyncio.sleep(0.05)
            started = time.monotonic()
            await session.cancel_safe()
            with pytest.raises(psycopg.errors.QueryCanceled):
                await running
            assert time.monotonic() - started < 10
            deadline = time.monotonic() + 5
            while await _sleeping(pg_database):
                assert time.monotonic() < deadline, "the datasource query kept running after the cancel"
                await asyncio.sleep(0.05)
            cur = await session.execute("SELECT MEASURE(count) FROM orders")
            assert await cur.fetchall() == [(1,)]
    finally:
        await gateway.stop(timeout=2)
