"""Plan-cache hits/misses and the datasource slot wait are on /metrics after real queries (issue 7)."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import psycopg
import pytest

from sqlgate.gateway import Gateway
from sqlgate.metastore.admin import db_params_from_url
from tests.support.gateways import make_settings
from tests.support.metadata import SeededLogin, seed_login

ORDERS_TABLE = """
CREATE TABLE orders (id integer PRIMARY KEY, status text NOT NULL, amount numeric NOT NULL,
                     created_at timestamp NOT NULL DEFAULT '2024-01-01');
INSERT INTO orders (id, status, amount) SELECT g, CASE WHEN g % 2 = 0 THEN 'new' ELSE 'shipped' END, g
FROM generate_series(1, 50) g;
"""


@pytest.fixture
async def seeded(metadata_engine: Any, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> SeededLogin:
    conn = await asyncpg.connect(pg_database)
    try:
        await conn.execute(ORDERS_TABLE)
    finally:
        await conn.close()
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    _, params = db_params_from_url(pg_database)
    return await seed_login(metadata_engine, db_params=params)


@pytest.fixture
async def gateway(metadata_url: str) -> AsyncIterator[Gateway]:
    gw = Gateway(make_settings(metadata_url=metadata_url, metrics_port=0, datasource_max_concurrent=1))
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop(timeout=2)


def _scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


async def test_plan_cache_hits_and_slot_waits_are_exported(seeded: SeededLogin, gateway: Gateway) -> None:
    assert gateway.metrics_port
    before = await asyncio.to_thread(_scrape, gateway.metrics_port)
    dsn = f"host=127.0.0.1 port={gateway.port} dbname=db user={seeded.username} password={seeded.password}"
    async with await psycopg.AsyncConnection.connect(dsn + " sslmode=disable", autocommit=True) as conn:
        for status in ("new", "shipped", "gone"):  # one shape, three values: planned once
            cur = await conn.execute(f"SELECT MEASURE(count) FROM orders WHERE status = '{status}'")
            assert (await cur.fetchall())[0][0] in (25, 0)
        await conn.execute("SELECT id FROM orders WHERE id = 7 LIMIT 10")  # another shape
    # Three sessions at once on a datasource with one query slot: they take turns.
    sessions = [
        await psycopg.AsyncConnection.connect(dsn + " sslmode=disable", autocommit=True) for _ in range(3)
    ]
    try:
        results = await asyncio.gather(
            *(s.execute("SELECT status, MEASURE(amount) FROM orders GROUP BY 1 ORDER BY 1") for s in sessions)
        )
        for cur in results:
            assert await cur.fetchall() == [("new", 650), ("shipped", 625)]
    finally:
        for s in sessions:
            await s.close()
    after = await asyncio.to_thread(_scrape, gateway.metrics_port)

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert delta("sqlgate_plan_cache_misses_total") == 3  # three shapes
    assert delta("sqlgate_plan_cache_hits_total") == 4  # two repeated values, two repeated statements
    assert after["sqlgate_plan_cache_entries"] > 0
    hit_rate = after["sqlgate_plan_cache_hits_total"] / (
        after["sqlgate_plan_cache_hits_total"] + after["sqlgate_plan_cache_misses_total"]
    )
    assert 0 < hit_rate < 1
    # Every datasource query took a slot and was observed, waiting or not.
    assert delta("sqlgate_datasource_slot_wait_seconds_count") == 7
    assert delta('sqlgate_datasource_slot_wait_seconds_bucket{le="+Inf"}') == 7
    assert delta("sqlgate_datasource_slot_wait_seconds_sum") >= 0
