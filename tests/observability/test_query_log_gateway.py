"""Every SQL query through the gateway writes request_logs/request_event_logs rows (issue 4 item 6):
successful, failed and refused queries alike, with the generated SQL and no secrets."""

from __future__ import annotations

import asyncio
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
CREATE TABLE orders (id integer PRIMARY KEY, status text NOT NULL, amount numeric NOT NULL);
INSERT INTO orders VALUES (1, 'new', 10.5), (2, 'new', 4.5), (3, 'shipped', 20);
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
    gw = Gateway(make_settings(metadata_url=metadata_url))
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop(timeout=2)


async def _rows(metadata_url: str) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    conn = await asyncpg.connect(metadata_url)
    try:
        requests = await conn.fetch("SELECT * FROM public.request_logs ORDER BY start_time")
        events = await conn.fetch(
            'SELECT * FROM public.request_event_logs ORDER BY request_id, "timestamp", event'
        )
    finally:
        await conn.close()
    return requests, events


async def test_queries_are_logged_with_generated_sql_and_errors(
    seeded: SeededLogin, gateway: Gateway, metadata_url: str
) -> None:
    dsn = f"host=127.0.0.1 port={gateway.port} dbname=db user={seeded.username} password={seeded.password}"
    async with await psycopg.AsyncConnection.connect(dsn + " sslmode=disable", autocommit=True) as conn:
        await conn.execute("SET application_name = 'audit-test'")  # a session command: not logged
        cur = await conn.execute(
            "SELECT status, MEASURE(count) FROM orders WHERE status = %s GROUP BY 1", ["new"]
        )
        assert await cur.fetchall() == [("new", 2)]
        with pytest.raises(psycopg.errors.UndefinedTable):
            await conn.execute("SELECT * FROM no_such_cube")
    assert gateway.query_log is not None
    await gateway.query_log.flush()
    requests, events = await _rows(metadata_url)

    assert len(requests) == 2
    for row in requests:
        assert str(row["user_id"]) == seeded.owner_id
        assert str(row["datasource_id"]) == seeded.datasource_id
        assert row["path"] == "sql"
        assert row["end_time"] >= row["start_time"]
    by_request: dict[str, list[asyncpg.Record]] = {}
    for event in events:
        by_request.setdefault(event["request_id"], []).append(event)
    ok, failed = (by_request[r["request_id"]] for r in requests)
    assert {e["event"] for e in ok} == {"Load Request", "Load Request SQL", "Load Request Success"}
    sql_event = next(e for e in ok if e["event"] == "Load Request SQL")
    assert "orders" in sql_event["query_sql"].lower()
    assert "'new'" not in sql_event["query_sql"]  # client values are bound, never in the SQL text
    assert '"Orders.status"' in sql_event["query"] and '"where"' in sql_event["query"]
    assert {e["event"] for e in failed} == {"Load Request", "Cube SQL Error"}
    error = next(e for e in failed if e["event"] == "Cube SQL Error")["error"]
    assert error.startswith("42P01")
    for event in events:
        text = " ".join(str(v) for v in event.values())
        assert seeded.password not in text


async def test_query_log_can_be_turned_off(seeded: SeededLogin, metadata_url: str) -> None:
    gw = Gateway(make_settings(metadata_url=metadata_url, query_log=False))
    await gw.start()
    try:
        dsn = f"host=127.0.0.1 port={gw.port} dbname=db user={seeded.username} password={seeded.password}"
        async with await psycopg.AsyncConnection.connect(dsn + " sslmode=disable", autocommit=True) as conn:
            await conn.execute("SELECT MEASURE(count) FROM orders")
        assert gw.query_log is None
    finally:
        await gw.stop(timeout=2)
    await asyncio.sleep(0)
    requests, _ = await _rows(metadata_url)
    assert requests == []
