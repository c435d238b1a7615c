"""A newly pushed model version reaches new queries within seconds, without a restart (issue 4)."""

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
from tests.support.metadata import ORDERS_MODEL, seed_login

ORDERS_TABLE = """
CREATE TABLE orders (id integer PRIMARY KEY, status text, amount numeric, created_at timestamptz);
INSERT INTO orders VALUES (1, 'new', 10, now()), (2, 'new', 5, now()), (3, 'paid', 20, now());
"""

SECOND_VERSION = ORDERS_MODEL.replace(
    "      - name: amount\n",
    "      - name: biggest\n        sql: amount\n        type: max\n      - name: amount\n",
)


async def test_pushed_version_is_served_to_open_sessions(
    metadata_engine: Any, pg_database: str, metadata_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = await asyncpg.connect(pg_database)
    try:
        await conn.execute(ORDERS_TABLE)
    finally:
        await conn.close()
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    _, params = admin.db_params_from_url(pg_database)
    seeded = await seed_login(metadata_engine, db_params=params)
    gateway = Gateway(make_settings(metadata_url=metadata_url, model_refresh_seconds=0.5))
    await gateway.start()
    try:
        dsn = (
            f"host=127.0.0.1 port={gateway.port} dbname=db user={seeded.username} "
            f"password={seeded.password} sslmode=disable"
        )
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as session:
            with pytest.raises(psycopg.errors.UndefinedColumn):
                await session.execute("SELECT MEASURE(biggest) FROM orders")
            await admin.push_model_sources(
                metadata_engine,
                team=seeded.team_id,
                datasource=seeded.datasource_id,
                sources=[admin.ModelSource(name="Orders.yml", path="Orders.yml", code=SECOND_VERSION)],
            )
            deadline = time.monotonic() + 10
            while True:
                try:
                    cur = await session.execute("SELECT MEASURE(biggest) FROM orders")
                    break
                except psycopg.errors.UndefinedColumn:
                    assert time.monotonic() < deadline, "the new version was not served within 10 s"
                    await asyncio.sleep(0.2)
            assert await cur.fetchall() == [(20,)]
    finally:
        await gateway.stop(timeout=2)
