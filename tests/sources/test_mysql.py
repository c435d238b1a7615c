"""The MariaDB/MySQL driver against a real server: types, streaming, KILL QUERY, failures, binding."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncmy
import pytest

from sqlgate.errors import PgError
from sqlgate.pgproto import oids
from sqlgate.sources.mysql import format_query
from sqlgate.sources.registry import open_source
from tests.support.sources import cancel_while_running, closed_port, collect, drain, stream_traced, until

pytestmark = pytest.mark.mariadb

# Rows from MariaDB's sequence engine (seq_1_to_N), slowed down so the query runs for minutes. The
# first 5000 come at once: the server sends rows only when its network buffer fills.
SLOW = "SELECT seq, IF(seq > 5000, SLEEP(0.05), 0) AS pause, '{marker}' AS marker FROM seq_1_to_100000"


@pytest.fixture
async def admin(mysql_database: dict[str, Any]) -> AsyncIterator[Any]:
    conn = await asyncmy.connect(
        host=mysql_database["host"], port=int(mysql_database["port"] or 3306), user=mysql_database["user"],
        password=mysql_database["password"], db=mysql_database["database"], autocommit=True,
    )  # fmt: skip
    try:
        yield conn
    finally:
        conn.close()


async def run(conn: Any, sql: str) -> list[Any]:
    async with conn.cursor() as cur:
        await cur.execute(sql)
        return list(await cur.fetchall())


@pytest.fixture
async def source(mysql_database: dict[str, Any]) -> AsyncIterator[Any]:
    src = open_source("MYSQL", mysql_database, name="test-maria", pool_max_size=4)
    try:
        yield src
    finally:
        await src.close()


async def running(admin: Any, marker: str) -> int:
    rows = await run(
        admin,
        "SELECT count(*) FROM information_schema.processlist "
        f"WHERE command = 'Query' AND info LIKE '%{marker}%' AND info NOT LIKE '%processlist%'",
    )
    return int(rows[0][0])


async def test_types_and_nulls(source: Any, admin: Any) -> None:
    await run(
        admin,
        """CREATE TABLE typed (
            flag TINYINT(1), ti TINYINT, si SMALLINT, siu SMALLINT UNSIGNED, i INT, iu INT UNSIGNED,
            bi BIGINT, biu BIGINT UNSIGNED, dec_ DECIMAL(12, 3), f FLOAT, d DOUBLE, vc VARCHAR(20),
            tx TEXT, dt DATE, dtm DATETIME(3), ts TIMESTAMP NULL, tm TIME, yr YEAR, bin VARBINARY(4),
            bit1 BIT(1), bits BIT(12), en ENUM('a', 'b'), js JSON
        )""",
    )
    await run(
        admin,
        """INSERT INTO typed VALUES
           (1, -5, -300, 65000, -70000, 4000000000, -9000000000, 18446744073709551615, 12.345, 1.5,
            2.25, 'varchar', 'text', '2024-02-29', '2024-02-29 12:34:56.789', '2024-02-29 12:34:56',
            '25:00:01', 2024, x'00ff', b'1', b'000000000101', 'b', '{"a": 1}'),
           (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
    )
    cursor = await source.open_cursor("SELECT * FROM typed ORDER BY flag IS NULL", [])
    assert [c.type_oid for c in cursor.columns] == [
        oids.BOOL, oids.INT2, oids.INT2, oids.INT4, oids.INT4, oids.INT8, oids.INT8, oids.NUMERIC,
        oids.NUMERIC, oids.FLOAT4, oids.FLOAT8, oids.TEXT, oids.TEXT, oids.DATE, oids.TIMESTAMP,
        oids.TIMESTAMP, oids.INTERVAL, oids.INT2, oids.BYTEA, oids.BOOL, oids.INT8, oids.TEXT, oids.TEXT,
    ]  # fmt: skip
    first, nulls = await collect(cursor)
    assert first == (
        True, -5, -300, 65000, -70000, 4000000000, -9000000000, 18446744073709551615,
        decimal.Decimal("12.345"), 1.5, 2.25, "varchar", "text", datetime.date(2024, 2, 29),
        datetime.datetime(2024, 2, 29, 12, 34, 56, 789000), datetime.datetime(2024, 2, 29, 12, 34, 56),
        datetime.timedelta(hours=25, seconds=1), 2024, b"\x00\xff", True, 5, "b", '{"a": 1}',
    )  # fmt: skip
    assert nulls == (None,) * 23


async def test_streams_in_batches_with_bounded_memory(source: Any) -> None:
    seen = await stream_traced(source, "SELECT seq, REPEAT('x', 200) AS filler FROM seq_1_to_100000", 1000)
    assert (seen.rows, seen.first_column_sum, seen.batches) == (100000, 100000 * 100001 // 2, 100)
    # The whole result is ~25 MB as Python objects; one batch is ~0.25 MB.
    assert seen.peak_bytes < 8 * 1024 * 1024, f"peak traced memory {seen.peak_bytes} bytes"


async def test_cancel_kills_the_query_on_the_server(source: Any, admin: Any) -> None:
    marker = "cancel_" + uuid.uuid4().hex[:8]
    await cancel_while_running(drain(source, SLOW.format(marker=marker)), lambda: running(admin, marker))
    assert await collect(await source.open_cursor("SELECT 1", [])) == [(1,)]


async def test_close_before_the_end_kills_the_query(source: Any, admin: Any) -> None:
    marker = "early_" + uuid.uuid4().hex[:8]
    cursor = await source.open_cursor(SLOW.format(marker=marker), [])
    batches = cursor.batches(2)
    assert len(await anext(batches)) == 2
    await batches.aclose()
    await cursor.close()
    assert await until(lambda: running(admin, marker), lambda n: n == 0, timeout=5)


async def test_timeout_gives_57014_and_kills(source: Any, admin: Any) -> None:
    marker = "timeout_" + uuid.uuid4().hex[:8]
    with pytest.raises(PgError) as info:
        await collect(await source.open_cursor(SLOW.format(marker=marker), [], timeout=0.5))
    assert info.value.sqlstate == "57014"
    assert info.value.message == "canceling statement due to statement timeout"
    assert await until(lambda: running(admin, marker), lambda n: n == 0, timeout=5)
    assert await collect(await source.open_cursor("SELECT 2", [])) == [(2,)]


async def test_timeout_while_the_server_computes_the_first_row(source: Any) -> None:
    with pytest.raises(PgError) as info:
        await source.open_cursor("SELECT SLEEP(30)", [], timeout=0.3)
    assert info.value.sqlstate == "57014"


async def test_down_gives_08006_without_secrets() -> None:
    params = {"host": "127.0.0.1", "port": str(closed_port()), "user": "u", "password": "hunter2-secret"}
    src = open_source("MYSQL", params, name="down-maria", connect_timeout=5)
    try:
        with pytest.raises(PgError) as info:
            await src.open_cursor("SELECT 1", [])
        assert info.value.sqlstate == "08006" and "down-maria" in info.value.message
        assert "hunter2" not in str(info.value)
    finally:
        await src.close()


async def test_connection_killed_mid_query_gives_08006_then_recovers(source: Any, admin: Any) -> None:
    marker = "killconn_" + uuid.uuid4().hex[:8]

    async def consume() -> Any:
        return await collect(await source.open_cursor(SLOW.format(marker=marker), []), batch_size=10)

    task = asyncio.create_task(consume())
    assert await until(lambda: running(admin, marker), lambda n: n > 0)
    ids = await run(admin, f"SELECT id FROM information_schema.processlist WHERE info LIKE '%{marker}%' "
                           "AND info NOT LIKE '%processlist%'")  # fmt: skip
    for (thread_id,) in ids:
        await run(admin, f"KILL CONNECTION {int(thread_id)}")
    with pytest.raises(PgError) as info:
        await task
    assert info.value.sqlstate == "08006"
    assert await collect(await source.open_cursor("SELECT 3", [])) == [(3,)]


async def test_parameters_are_escaped_and_bound(source: Any, admin: Any) -> None:
    await run(admin, "CREATE TABLE people (name VARCHAR(50), age INT)")
    await run(admin, "INSERT INTO people VALUES ('ann', 31), ('bob', 40)")
    hostile = ["' OR '1'='1", "x'; DROP TABLE people; --", "\\' OR 1=1 -- ", "%s", "a\\", "ann' #"]
    for value in hostile:
        rows = await collect(
            await source.open_cursor("SELECT %s AS v, count(*) FROM people WHERE name = %s", [value, value])
        )
        assert rows == [(value, 0)]
    rows = await collect(
        await source.open_cursor("SELECT name FROM people WHERE age > %s AND name LIKE 'a%%'", [30])
    )
    assert rows == [("ann",)]
    assert (await run(admin, "SELECT count(*) FROM people"))[0][0] == 2


async def test_binding_holds_with_no_backslash_escapes(mysql_database: dict[str, Any], admin: Any) -> None:
    await run(admin, "CREATE TABLE people (name VARCHAR(50))")
    await run(admin, "INSERT INTO people VALUES ('ann')")
    await run(admin, "SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')")
    try:
        src = open_source("MYSQL", mysql_database, name="nbe")
        try:
            for value in ["\\' OR 1=1 -- ", "' OR '1'='1", "a\\"]:
                rows = await collect(
                    await src.open_cursor("SELECT %s, count(*) FROM people WHERE name = %s", [value, value])
                )
                assert rows == [(value, 0)]
        finally:
            await src.close()
    finally:
        await run(admin, "SET GLOBAL sql_mode = REPLACE(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES', '')")


def test_format_query_needs_doubled_percent() -> None:
    assert format_query("SELECT %s, 'a%%'", ["1"]) == "SELECT 1, 'a%'"
    with pytest.raises(PgError) as info:
        format_query("SELECT %s, %s", ["1"])
    assert info.value.sqlstate == "XX000"


async def test_errors_and_read_only(source: Any) -> None:
    with pytest.raises(PgError) as info:
        await source.open_cursor("SELECT * FROM no_such_table", [])
    assert info.value.sqlstate == "42P01"
    with pytest.raises(PgError) as info:
        await source.open_cursor("SELECT nope FROM seq_1_to_3", [])
    assert info.value.sqlstate == "42703"
    with pytest.raises(PgError) as info:
        await source.open_cursor("CREATE TABLE sneaky (x INT)", [])
    assert info.value.sqlstate == "25006"
    assert await collect(await source.open_cursor("SELECT 4", [])) == [(4,)]


async def test_sessions_are_utc_and_version(source: Any) -> None:
    assert await collect(await source.open_cursor("SELECT @@session.time_zone", [])) == [("+00:00",)]
    assert "MariaDB" in await source.server_version() or (await source.server_version())[0].isdigit()
    assert source.dialect == "mysql" and source.paramstyle == "format"


async def test_close_lets_running_queries_finish(mysql_database: dict[str, Any]) -> None:
    src = open_source("MYSQL", mysql_database, close_timeout=30)
    cursor = await src.open_cursor("SELECT seq FROM seq_1_to_5000", [])
    batches = cursor.batches(100)
    assert len(await anext(batches)) == 100
    closing = asyncio.create_task(src.close())
    await asyncio.sleep(0.05)
    rest = [row async for batch in batches for row in batch]
    await cursor.close()
    await asyncio.wait_for(closing, 5)
    assert len(rest) == 4900
    with pytest.raises(PgError) as info:
        await src.open_cursor("SELECT 1", [])
    assert info.value.sqlstate == "08006"


async def test_a_slow_consumer_does_not_make_the_result_pile_up(source: Any) -> None:
    # asyncmy has no flow control of its own; the cursor reads the socket only while fetching.
    tracemalloc.start()
    try:
        cursor = await source.open_cursor("SELECT seq, REPEAT('x', 200) FROM seq_1_to_200000", [])
        batches = cursor.batches(500)
        await anext(batches)
        await asyncio.sleep(1.0)  # the server could send all ~45 MB meanwhile
        _, peak = tracemalloc.get_traced_memory()
        rest = sum([len(batch) async for batch in batches])
        await cursor.close()
    finally:
        tracemalloc.stop()
    assert rest == 200000 - 500
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak} bytes"
