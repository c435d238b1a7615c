"""The PostgreSQL driver against a real server: types, streaming, cancel, timeout, failures, binding."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import uuid
from typing import Any

import pytest

from sqlgate.errors import PgError
from sqlgate.pgproto import oids
from sqlgate.sources.registry import open_source
from tests.support.sources import (
    cancel_while_running,
    closed_port,
    collect,
    db_params_from_url,
    drain,
    pg_active,
    pg_terminate,
    stream_traced,
    until,
)

TYPES_DDL = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE typed (
    i2 int2, i4 int4, i8 int8, num numeric(12, 3), f4 float4, f8 float8, t text, vc varchar(20),
    b bool, d date, ts timestamp, tstz timestamptz, u uuid, j json, jb jsonb, m mood
);
INSERT INTO typed VALUES
  (1, 2, 3000000000, 12.345, 1.5, 2.25, 'text', 'varchar', true, '2024-02-29',
   '2024-02-29 12:34:56.789', '2024-02-29 12:34:56+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '{"a": 1}', '{"b": [1, 2]}', 'happy'),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""


async def test_types_map_to_postgres_oids_and_values_round_trip(pg_source: Any, pg_admin: Any) -> None:
    await pg_admin.execute(TYPES_DDL)
    cursor = await pg_source.open_cursor("SELECT * FROM typed ORDER BY i2 NULLS LAST", [])
    assert [(c.name, c.type_oid) for c in cursor.columns] == [
        ("i2", oids.INT2), ("i4", oids.INT4), ("i8", oids.INT8), ("num", oids.NUMERIC),
        ("f4", oids.FLOAT4), ("f8", oids.FLOAT8), ("t", oids.TEXT), ("vc", oids.VARCHAR),
        ("b", oids.BOOL), ("d", oids.DATE), ("ts", oids.TIMESTAMP), ("tstz", oids.TIMESTAMPTZ),
        ("u", oids.UUID), ("j", oids.JSON), ("jb", oids.JSONB), ("m", oids.TEXT),
    ]  # fmt: skip
    first, nulls = await collect(cursor)
    assert first == (
        1, 2, 3000000000, decimal.Decimal("12.345"), 1.5, 2.25, "text", "varchar", True,
        datetime.date(2024, 2, 29), datetime.datetime(2024, 2, 29, 12, 34, 56, 789000),
        datetime.datetime(2024, 2, 29, 10, 34, 56, tzinfo=datetime.UTC),
        uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), '{"a": 1}', '{"b": [1, 2]}', "happy",
    )  # fmt: skip
    assert nulls == (None,) * 16


async def test_streams_in_batches_with_bounded_memory(pg_source: Any) -> None:
    seen = await stream_traced(
        pg_source, "SELECT g, repeat('x', 200) AS filler FROM generate_series(1, 100000) AS g", 1000
    )
    assert (seen.rows, seen.first_column_sum, seen.batches) == (100000, 100000 * 100001 // 2, 100)
    # The whole result is ~25 MB as Python objects; one batch is ~0.25 MB.
    assert seen.peak_bytes < 8 * 1024 * 1024, f"peak traced memory {seen.peak_bytes} bytes"


async def test_cancelling_the_task_cancels_the_query_on_the_server(pg_source: Any, pg_admin: Any) -> None:
    marker = "cancel_me_" + uuid.uuid4().hex[:8]
    query = drain(pg_source, f"SELECT pg_sleep(60), '{marker}' AS m")
    await cancel_while_running(query, lambda: pg_active(pg_admin, marker))
    # The source (and its pool) keeps working.
    assert await collect(await pg_source.open_cursor("SELECT 1", [])) == [(1,)]


async def test_timeout_gives_57014_and_the_query_stops(pg_source: Any, pg_admin: Any) -> None:
    marker = "timeout_me_" + uuid.uuid4().hex[:8]
    with pytest.raises(PgError) as info:
        cursor = await pg_source.open_cursor(f"SELECT pg_sleep(60), '{marker}' AS m", [], timeout=0.5)
        await collect(cursor)
    assert info.value.sqlstate == "57014"
    assert info.value.message == "canceling statement due to statement timeout"
    assert await until(lambda: pg_active(pg_admin, marker), lambda n: n == 0, timeout=5)
    assert await collect(await pg_source.open_cursor("SELECT 2", [])) == [(2,)]


async def test_datasource_down_gives_08006_without_secrets() -> None:
    params = {"host": "127.0.0.1", "port": str(closed_port()), "user": "u", "password": "hunter2-secret",
              "database": "db"}  # fmt: skip
    source = open_source("POSTGRES", params, name="down-db", connect_timeout=5)
    try:
        with pytest.raises(PgError) as info:
            await source.open_cursor("SELECT 1", [])
        assert info.value.sqlstate == "08006"
        assert "down-db" in info.value.message and "connection refused" in info.value.message
        assert "hunter2" not in str(info.value) and "hunter2" not in (info.value.detail or "")
        with pytest.raises(PgError) as again:
            await source.server_version()
        assert again.value.sqlstate == "08006"
    finally:
        await source.close()


async def test_missing_database_is_08006(pg_database: str) -> None:
    params = db_params_from_url(pg_database) | {"database": "no_such_db_" + uuid.uuid4().hex[:8]}
    source = open_source("POSTGRES", params, name="nodb")
    try:
        with pytest.raises(PgError) as info:
            await source.open_cursor("SELECT 1", [])
        assert info.value.sqlstate == "08006" and "database does not exist" in info.value.message
    finally:
        await source.close()


async def test_backend_killed_mid_query_gives_08006_then_the_next_query_works(
    pg_source: Any, pg_admin: Any
) -> None:
    marker = "kill_me_" + uuid.uuid4().hex[:8]
    cursor = await pg_source.open_cursor(f"SELECT pg_sleep(60), '{marker}' AS m", [])

    async def consume() -> list[Any]:
        return await collect(cursor)

    task = asyncio.create_task(consume())
    assert await until(lambda: pg_active(pg_admin, marker), lambda n: n > 0)
    await pg_terminate(pg_admin, marker)
    with pytest.raises(PgError) as info:
        await task
    assert info.value.sqlstate == "08006"
    assert "test-pg" in info.value.message
    assert await collect(await pg_source.open_cursor("SELECT 3", [])) == [(3,)]


async def test_pool_recovers_when_idle_connections_died(pg_source: Any, pg_admin: Any) -> None:
    # Fill the pool with idle connections, kill them all behind its back, then query again.
    cursors = [await pg_source.open_cursor("SELECT 1", []) for _ in range(3)]
    for cursor in cursors:
        await collect(cursor)
    await pg_admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'sqlgate' AND datname = current_database()"
    )
    await asyncio.sleep(0.1)
    assert await collect(await pg_source.open_cursor("SELECT 4", [])) == [(4,)]


async def test_parameters_are_bound_never_spliced(pg_source: Any, pg_admin: Any) -> None:
    await pg_admin.execute("CREATE TABLE people (name text, age int4, born date, score numeric)")
    await pg_admin.execute("INSERT INTO people VALUES ('ann', 31, '1993-01-02', 1.5), ('bob', 40, NULL, 2)")
    hostile = ["' OR '1'='1", "x'; DROP TABLE people; --", "$1", "\\' OR 1=1 --", "ann' --"]
    for value in hostile:
        rows = await collect(
            await pg_source.open_cursor("SELECT $1::text AS v, count(*) FROM people WHERE name = $1", [value])
        )
        assert rows == [(value, 0)]
    assert await pg_admin.fetchval("SELECT count(*) FROM people") == 2
    # Client values arrive as text of unspecified type: parsed for the inferred parameter types.
    rows = await collect(
        await pg_source.open_cursor(
            "SELECT name FROM people WHERE age > $1 AND born = $2 AND score = $3", ["30", "1993-01-02", "1.5"]
        )
    )
    assert rows == [("ann",)]
    with pytest.raises(PgError) as info:
        await pg_source.open_cursor("SELECT name FROM people WHERE age > $1", ["thirty"])
    assert info.value.sqlstate == "22P02"


async def test_query_errors_keep_their_sqlstate_and_the_source_stays_usable(pg_source: Any) -> None:
    with pytest.raises(PgError) as info:
        await pg_source.open_cursor("SELECT * FROM no_such_table", [])
    assert info.value.sqlstate == "42P01"
    with pytest.raises(PgError) as info:
        await collect(await pg_source.open_cursor("SELECT 1 / (g - 3) FROM generate_series(1, 5) g", []))
    assert info.value.sqlstate == "22012"
    assert await collect(await pg_source.open_cursor("SELECT 5", [])) == [(5,)]


async def test_queries_run_read_only(pg_source: Any) -> None:
    with pytest.raises(PgError) as info:
        await collect(await pg_source.open_cursor("CREATE TABLE sneaky (x int)", []))
    assert info.value.sqlstate == "25006"


async def test_concurrency_limit_queues_and_times_out(pg_database: str) -> None:
    source = open_source(
        "POSTGRES", db_params_from_url(pg_database), name="busy", max_concurrent_queries=1, queue_timeout=0.3
    )
    try:
        holder = await source.open_cursor("SELECT 1", [])
        with pytest.raises(PgError) as info:
            await source.open_cursor("SELECT 2", [])
        assert info.value.sqlstate == "53300" and "busy" in info.value.message
        waiter = asyncio.create_task(source.open_cursor("SELECT 3", []))
        await asyncio.sleep(0.05)
        await collect(holder)  # frees the slot: the waiter gets it
        assert await collect(await waiter) == [(3,)]
        assert source.gate.stats.timeouts == 1
    finally:
        await source.close()


async def test_server_version(pg_source: Any) -> None:
    version = await pg_source.server_version()
    assert version[:2].isdigit()


async def test_close_while_unfinished_releases_the_connection(pg_source: Any, pg_admin: Any) -> None:
    cursor = await pg_source.open_cursor("SELECT g FROM generate_series(1, 100000) g", [])
    batches = cursor.batches(10)
    first = await anext(batches)
    assert len(first) == 10
    await batches.aclose()
    await cursor.close()
    await cursor.close()  # idempotent
    assert not await pg_admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sqlgate' AND state <> 'idle'"
        " AND datname = current_database()"  # other tests' gateways may be busy on the same server
    )
