"""The embedded DuckDB driver: types, streaming, interrupt on cancel and timeout, binding, threads."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sqlgate.errors import PgError
from sqlgate.pgproto import oids
from sqlgate.sources.registry import open_source
from tests.support.sources import collect, stream_traced

# Queries DuckDB needs minutes for: only an interrupt ends them in test time. ENDLESS blocks in
# execute() (an aggregate); SLOW_STREAM starts streaming at once, then takes minutes per batch.
ENDLESS = "SELECT count(*) FROM range(100000000000) AS a(x) WHERE x % 7 = 3"
SLOW_STREAM = "SELECT x FROM range(100000000000) AS a(x) WHERE x % 40000000000 = 1"


@pytest.fixture
def duckdb_file(tmp_path: Path) -> str:
    path = tmp_path / "typed.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            """
            CREATE TYPE mood AS ENUM ('sad', 'happy');
            CREATE TABLE typed (
                i1 TINYINT, i2 SMALLINT, i4 INTEGER, i8 BIGINT, h HUGEINT, num DECIMAL(12, 3),
                f4 FLOAT, f8 DOUBLE, t VARCHAR, b BOOLEAN, d DATE, ts TIMESTAMP, tstz TIMESTAMPTZ,
                u UUID, j JSON, m mood, l INTEGER[]
            );
            INSERT INTO typed VALUES
              (1, 2, 3, 3000000000, 170141183460469231731687303715884105727, 12.345, 1.5, 2.25, 'text',
               true, DATE '2024-02-29', TIMESTAMP '2024-02-29 12:34:56.789',
               TIMESTAMPTZ '2024-02-29 12:34:56+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
               '{"a": 1}', 'happy', [1, 2]),
              (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL);
            CREATE TABLE people AS SELECT * FROM (VALUES ('ann', 31), ('bob', 40)) AS p(name, age);
            """
        )
    return str(path)


@pytest.fixture
async def duck(duckdb_file: str) -> Any:
    source = open_source("DUCKDB", {"database": duckdb_file}, name="test-duck", pool_max_size=2)
    try:
        yield source
    finally:
        await source.close()


async def test_types_and_nulls(duck: Any) -> None:
    cursor = await duck.open_cursor("SELECT * FROM typed ORDER BY i1 NULLS LAST", [])
    assert [(c.name, c.type_oid) for c in cursor.columns] == [
        ("i1", oids.INT2), ("i2", oids.INT2), ("i4", oids.INT4), ("i8", oids.INT8), ("h", oids.NUMERIC),
        ("num", oids.NUMERIC), ("f4", oids.FLOAT4), ("f8", oids.FLOAT8), ("t", oids.TEXT),
        ("b", oids.BOOL), ("d", oids.DATE), ("ts", oids.TIMESTAMP), ("tstz", oids.TIMESTAMPTZ),
        ("u", oids.UUID), ("j", oids.JSON), ("m", oids.TEXT), ("l", oids.TEXT),
    ]  # fmt: skip
    first, nulls = await collect(cursor)
    assert first == (
        1, 2, 3, 3000000000, 170141183460469231731687303715884105727, decimal.Decimal("12.345"), 1.5, 2.25,
        "text", True, datetime.date(2024, 2, 29), datetime.datetime(2024, 2, 29, 12, 34, 56, 789000),
        datetime.datetime(2024, 2, 29, 10, 34, 56, tzinfo=datetime.UTC),
        uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), '{"a": 1}', "happy", "[1, 2]",
    )  # fmt: skip
    assert first[12].utcoffset() == datetime.timedelta(0)
    assert nulls == (None,) * 17


async def test_streams_in_batches_with_bounded_memory(duck: Any) -> None:
    seen = await stream_traced(duck, "SELECT range AS g, repeat('x', 200) AS filler FROM range(100000)", 1000)
    assert (seen.rows, seen.first_column_sum, seen.batches) == (100000, 99999 * 100000 // 2, 100)
    # The whole result is ~25 MB as Python objects; one batch is ~0.25 MB.
    assert seen.peak_bytes < 8 * 1024 * 1024, f"peak traced memory {seen.peak_bytes} bytes"


async def test_cancel_interrupts_the_query_and_frees_the_thread(duckdb_file: str) -> None:
    source = open_source("DUCKDB", {"database": duckdb_file}, pool_max_size=1)
    try:

        async def run_query() -> None:
            cursor = await source.open_cursor(SLOW_STREAM, [])
            try:
                async for _ in cursor.batches(10):
                    pass
            finally:
                await cursor.close()

        task = asyncio.create_task(run_query())
        await asyncio.sleep(0.3)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # One worker thread only: this query can run only because the endless one was interrupted.
        assert await collect(await source.open_cursor("SELECT 42", [])) == [(42,)]
        assert source.gate.active == 0
    finally:
        await source.close()


async def test_cancel_between_batches_closes_the_stream(duckdb_file: str) -> None:
    source = open_source("DUCKDB", {"database": duckdb_file}, pool_max_size=1)
    try:
        cursor = await source.open_cursor("SELECT x, repeat('x', 100) FROM range(100000000000) AS a(x)", [])
        batches = cursor.batches(10)
        assert len(await anext(batches)) == 10
        await batches.aclose()
        await cursor.close()
        assert await collect(await source.open_cursor("SELECT 41", [])) == [(41,)]
    finally:
        await source.close()


async def test_cancel_while_executing(duckdb_file: str) -> None:
    # A query that is still in execute() (a blocking aggregate) when the task is cancelled.
    source = open_source("DUCKDB", {"database": duckdb_file}, pool_max_size=1)
    try:
        task = asyncio.create_task(source.open_cursor(ENDLESS, []))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await collect(await source.open_cursor("SELECT 43", [])) == [(43,)]
        assert source.gate.active == 0
    finally:
        await source.close()


async def test_timeout_gives_57014_and_interrupts(duckdb_file: str) -> None:
    source = open_source("DUCKDB", {"database": duckdb_file}, pool_max_size=1)
    try:
        with pytest.raises(PgError) as info:
            await collect(await source.open_cursor(ENDLESS, [], timeout=0.3))
        assert info.value.sqlstate == "57014"
        assert info.value.message == "canceling statement due to statement timeout"
        assert await collect(await source.open_cursor("SELECT 44", [])) == [(44,)]
    finally:
        await source.close()


async def test_missing_file_is_08006(tmp_path: Path) -> None:
    source = open_source("DUCKDB", {"database": str(tmp_path / "nope.duckdb")}, name="gone")
    try:
        with pytest.raises(PgError) as info:
            await source.open_cursor("SELECT 1", [])
        assert info.value.sqlstate == "08006"
        assert "gone" in info.value.message and "not found" in info.value.message
        assert str(tmp_path) not in info.value.message
    finally:
        await source.close()


async def test_parameters_are_bound(duck: Any) -> None:
    for value in ["' OR '1'='1", "x'; DROP TABLE people; --", "?", "ann' --"]:
        rows = await collect(
            await duck.open_cursor("SELECT ?::VARCHAR, count(*) FROM people WHERE name = ?", [value, value])
        )
        assert rows == [(value, 0)]
    assert await collect(await duck.open_cursor("SELECT name FROM people WHERE age > ?", [35])) == [("bob",)]
    assert await collect(await duck.open_cursor("SELECT count(*) FROM people", [])) == [(2,)]


async def test_errors_and_read_only(duck: Any) -> None:
    with pytest.raises(PgError) as info:
        await duck.open_cursor("SELECT * FROM no_such_table", [])
    assert info.value.sqlstate == "42P01" and "no_such_table" in info.value.message
    assert "\n" not in info.value.message
    with pytest.raises(PgError) as info:
        await duck.open_cursor("SELECT nope FROM people", [])
    assert info.value.sqlstate == "42703"
    with pytest.raises(PgError) as info:
        await collect(await duck.open_cursor("CREATE TABLE sneaky (x INTEGER)", []))
    assert info.value.sqlstate == "25006"
    assert await collect(await duck.open_cursor("SELECT 1", [])) == [(1,)]


async def test_concurrent_queries_on_threads(duck: Any) -> None:
    async def total(n: int) -> int:
        rows = await collect(await duck.open_cursor("SELECT range FROM range(?)", [n]), batch_size=97)
        return sum(r[0] for r in rows)

    results = await asyncio.gather(*(total(n) for n in (1000, 2000, 3000, 4000, 5000, 6000)))
    assert results == [n * (n - 1) // 2 for n in (1000, 2000, 3000, 4000, 5000, 6000)]


async def test_in_memory_database() -> None:
    source = open_source("DUCKDB", {})
    try:
        assert await collect(await source.open_cursor("SELECT ? + 1", [1])) == [(2,)]
        assert (await source.server_version()).startswith("DuckDB v")
        assert source.dialect == "duckdb" and source.paramstyle == "qmark"
    finally:
        await source.close()


@pytest.mark.parametrize(
    ("sql", "sqlstate"),
    [
        # Type errors in the client's SQL are the client's to fix, as PostgreSQL reports them
        # (found by tests/fuzz; they used to be 58000, "the datasource failed").
        ("SELECT avg(name) FROM people", "42883"),
        ("SELECT * FROM people WHERE age IN (SELECT name FROM people)", "42883"),
        ("SELECT coalesce(name, 4) FROM people", "42804"),
        ("SELECT name FROM people GROUP BY name HAVING name || row_number() OVER () = 'x'", "42P20"),
        ("SELECT sum(sum(age)) FROM people", "42803"),
    ],
)
async def test_type_errors_get_postgres_sqlstates(duck: Any, sql: str, sqlstate: str) -> None:
    with pytest.raises(PgError) as info:
        await collect(await duck.open_cursor(sql, []))
    assert info.value.sqlstate == sqlstate, info.value


async def test_parameter_beyond_duckdb_integers_is_22003(duck: Any) -> None:
    with pytest.raises(PgError) as info:
        await collect(await duck.open_cursor("SELECT count(*) FROM people WHERE age <> ?", [10**40]))
    assert info.value.sqlstate == "22003"


async def test_ambiguous_function_is_42725(duck: Any) -> None:
    with pytest.raises(PgError) as info:
        await collect(await duck.open_cursor("SELECT '1' % '2'", []))
    assert info.value.sqlstate == "42725"


@pytest.mark.parametrize(
    ("sql", "params", "sqlstate"),
    [
        # Found by tests/fuzz: both were 58000 ("the datasource failed") for a client's mistake.
        ("SELECT name FROM people LIMIT ?", [-1], "2201W"),
        ("SELECT name FROM people WHERE regexp_matches(name, '[')", [], "2201B"),
        ("SELECT name FROM people WHERE regexp_matches(name, 'a**')", [], "2201B"),
    ],
)
async def test_client_mistakes_found_by_fuzzing(
    duck: Any, sql: str, params: list[Any], sqlstate: str
) -> None:
    with pytest.raises(PgError) as info:
        await collect(await duck.open_cursor(sql, params))
    assert info.value.sqlstate == sqlstate, info.value
