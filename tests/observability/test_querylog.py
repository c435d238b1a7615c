"""The query log writes Synmetrix request logs in the background and never blocks a query."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any

import asyncpg
import pytest

from sqlgate.observability.querylog import (
    EVENT_ERROR,
    EVENT_REQUEST,
    EVENT_SQL,
    EVENT_SUCCESS,
    QueryLog,
    RequestEvent,
    RequestRecord,
    new_request_id,
    sql_request,
)
from tests.support.databases import PgServer, unique_name
from tests.support.sources import closed_port


async def owner_and_datasource(meta: asyncpg.Connection) -> tuple[str, str]:
    user_id = await meta.fetchval("INSERT INTO public.users (display_name) VALUES ('a@b.c') RETURNING id")
    ds_id = await meta.fetchval(
        "INSERT INTO public.datasources (user_id, name, db_type, db_params) "
        """VALUES ($1, 'ds', 'POSTGRES', '{"password": "db-secret"}') RETURNING id""",
        user_id,
    )
    return str(user_id), str(ds_id)


T0 = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)


def record(user_id: str, ds_id: str, **kwargs: Any) -> RequestRecord:
    return sql_request(
        user_id=user_id,
        datasource_id=ds_id,
        start_time=T0,
        end_time=T0 + datetime.timedelta(milliseconds=42),
        query={"measures": ["Orders.count"], "dimensions": ["Orders.status"]},
        query_sql='SELECT status, count(*) FROM "public"."orders" GROUP BY 1',
        planning_ms=3.5,
        **kwargs,
    )


async def test_a_query_writes_request_and_events(querylog_dsn: str, meta: asyncpg.Connection) -> None:
    user_id, ds_id = await owner_and_datasource(meta)
    qlog = QueryLog(querylog_dsn, flush_interval=0.01)
    qlog.start()
    ok = record(user_id, ds_id)
    failed = record(user_id, ds_id, error="42501: no access to member Orders.amount")
    assert qlog.submit(ok) and qlog.submit(failed)
    await qlog.aclose()

    rows = await meta.fetch(
        "SELECT request_id, user_id::text, datasource_id::text, start_time, end_time, path "
        "FROM public.request_logs ORDER BY request_id"
    )
    assert sorted(r["request_id"] for r in rows) == sorted([ok.request_id, failed.request_id])
    for row in rows:
        assert (row["user_id"], row["datasource_id"], row["path"]) == (user_id, ds_id, "sql")
        assert row["start_time"] == T0 and row["end_time"] == T0 + datetime.timedelta(milliseconds=42)

    events = await meta.fetch(
        'SELECT event, duration, query, query_sql, error, "timestamp", path FROM public.request_event_logs '
        'WHERE request_id = $1 ORDER BY "timestamp", event',
        ok.request_id,
    )
    assert [e["event"] for e in events] == [EVENT_REQUEST, EVENT_SQL, EVENT_SUCCESS]
    assert json.loads(events[0]["query"]) == {"measures": ["Orders.count"], "dimensions": ["Orders.status"]}
    assert float(events[1]["duration"]) == 3.5 and events[1]["query_sql"].startswith("SELECT status")
    assert float(events[2]["duration"]) == 42.0 and events[2]["error"] is None
    assert all(e["path"] == "sql" for e in events)

    error_events = await meta.fetch(
        "SELECT event, error FROM public.request_event_logs WHERE request_id = $1 AND error IS NOT NULL",
        failed.request_id,
    )
    assert [(e["event"], e["error"]) for e in error_events] == [
        (EVENT_ERROR, "42501: no access to member Orders.amount")
    ]
    # Nothing secret travels into the log tables.
    dump = await meta.fetchval("SELECT string_agg(t::text, ' ') FROM public.request_event_logs t")
    assert "db-secret" not in dump
    assert qlog.stats.written == 2 and qlog.stats.dropped == 0


async def test_many_records_go_in_batches(querylog_dsn: str, meta: asyncpg.Connection) -> None:
    user_id, ds_id = await owner_and_datasource(meta)
    qlog = QueryLog(querylog_dsn, batch_size=100, flush_interval=0.05)
    qlog.start()
    for _ in range(1000):
        assert qlog.submit(record(user_id, ds_id))
    await qlog.flush()
    assert await meta.fetchval("SELECT count(*) FROM public.request_logs") == 1000
    assert await meta.fetchval("SELECT count(*) FROM public.request_event_logs") == 3000
    assert qlog.stats.written == 1000
    await qlog.aclose()


async def test_rows_of_deleted_users_are_skipped_not_failing_the_batch(
    querylog_dsn: str, meta: asyncpg.Connection
) -> None:
    user_id, ds_id = await owner_and_datasource(meta)
    qlog = QueryLog(querylog_dsn, flush_interval=0.05)
    qlog.start()
    gone = record("00000000-0000-4000-8000-000000000001", ds_id)
    kept = record(user_id, ds_id)
    qlog.submit(gone)
    qlog.submit(kept)
    assert not qlog.submit(record("not-a-uuid", ds_id))
    await qlog.aclose()
    ids = [r[0] for r in await meta.fetch("SELECT request_id FROM public.request_logs")]
    assert ids == [kept.request_id]
    assert qlog.stats.skipped == 1 and qlog.stats.invalid == 1 and qlog.stats.written == 1


async def test_database_down_drops_and_counts_without_blocking() -> None:
    qlog = QueryLog(
        f"postgresql://postgres@127.0.0.1:{closed_port()}/meta",
        max_queue=20,
        flush_interval=0.01,
        retry_interval=60,
    )
    qlog.start()
    user, ds = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
    # submit() is not a coroutine: it cannot wait for the database; a full queue drops instead.
    accepted = sum(qlog.submit(record(user, ds)) for _ in range(500))
    assert accepted <= 20 + 1 and qlog.stats.dropped_full >= 500 - 21
    await asyncio.sleep(0.2)
    await qlog.aclose(timeout=2)
    assert qlog.stats.written == 0
    assert qlog.stats.failed_batches >= 1
    assert qlog.stats.dropped == qlog.stats.submitted == 500


async def test_writer_recovers_when_the_database_comes_back(pg_server: PgServer) -> None:
    from sqlgate.metastore.migrate import upgrade

    name = unique_name("sqlgate_qlog")
    dsn = pg_server.url_for(name)
    qlog = QueryLog(dsn, flush_interval=0.01, retry_interval=0.05)
    qlog.start()
    user = "00000000-0000-4000-8000-0000000000c1"
    ds = "00000000-0000-4000-8000-0000000000c2"
    qlog.submit(record(user, ds))
    await qlog.flush()
    assert qlog.stats.failed_batches == 1  # the database does not exist yet

    admin = await asyncpg.connect(pg_server.url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        await upgrade(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("INSERT INTO public.users (id) VALUES ($1)", user)
            await conn.execute(
                "INSERT INTO public.datasources (id, user_id, name, db_type) VALUES ($1, $2, 'd', 'X')",
                ds,
                user,
            )
            later = record(user, ds)
            await asyncio.sleep(0.1)
            qlog.submit(later)
            await qlog.aclose()
            assert await conn.fetchval("SELECT request_id FROM public.request_logs") == later.request_id
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_an_existing_pool_can_be_shared(querylog_dsn: str, meta: asyncpg.Connection) -> None:
    user_id, ds_id = await owner_and_datasource(meta)
    pool = await asyncpg.create_pool(querylog_dsn, min_size=0, max_size=2)
    try:
        qlog = QueryLog(pool=pool, flush_interval=0.01)
        qlog.start()
        qlog.submit(
            RequestRecord(
                request_id=new_request_id(), user_id=user_id, datasource_id=ds_id, start_time=T0, end_time=T0,
                events=(RequestEvent("Custom", T0),),
            )
        )  # fmt: skip
        await qlog.aclose()
        assert await pool.fetchval("SELECT event FROM public.request_event_logs") == "Custom"
    finally:
        await pool.close()


def test_exactly_one_of_dsn_or_pool() -> None:
    with pytest.raises(ValueError):
        QueryLog()
