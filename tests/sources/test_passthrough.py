"""PostgreSQL pass-through: the datasource's DataRow messages, forwarded without decoding."""

from __future__ import annotations

import asyncio
import struct
import tracemalloc
import uuid
from typing import Any

import pytest

from sqlgate.errors import PgError
from sqlgate.pgproto import oids
from sqlgate.sources.passthrough import text_param
from sqlgate.sources.registry import open_source
from tests.support.sources import (
    closed_port,
    db_params_from_url,
    eventually,
    pg_active,
    pg_sqlgate_states,
    pg_terminate,
    until,
)


def data_rows(data: bytes) -> list[list[bytes | None]]:
    """Split DataRow messages into their raw column values (what a client would read)."""
    rows = []
    pos = 0
    while pos < len(data):
        assert data[pos : pos + 1] == b"D"
        length = struct.unpack_from("!I", data, pos + 1)[0]
        count = struct.unpack_from("!h", data, pos + 5)[0]
        p = pos + 7
        row: list[bytes | None] = []
        for _ in range(count):
            size = struct.unpack_from("!i", data, p)[0]
            p += 4
            row.append(None if size < 0 else data[p : p + size])
            p += max(size, 0)
        assert p == pos + 1 + length
        rows.append(row)
        pos = p
    return rows


async def fetch_all(cursor: Any, **kwargs: Any) -> list[list[bytes | None]]:
    rows = []
    try:
        async for data, count in cursor.chunks(**kwargs):
            piece = data_rows(data)
            assert len(piece) == count
            rows.extend(piece)
    finally:
        await cursor.close()
    return rows


async def test_text_rows_are_exactly_what_postgresql_prints(pg_source: Any, pg_admin: Any) -> None:
    await pg_admin.execute(
        "CREATE TABLE t (i int4, n numeric(10, 2), s text, b bool, ts timestamptz, d date, f float8, j jsonb)"
    )
    await pg_admin.execute(
        "INSERT INTO t VALUES (1, 12.5, 'x''y', true, '2024-02-29 12:00:00+02', '2024-02-29', 0.1,"
        " '{\"a\": 1}'), (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
    )
    cursor = await pg_source.open_passthrough("SELECT * FROM t ORDER BY i NULLS LAST", [])
    assert [c.type_oid for c in cursor.columns] == [
        oids.INT4, oids.NUMERIC, oids.TEXT, oids.BOOL, oids.TIMESTAMPTZ, oids.DATE, oids.FLOAT8, oids.JSONB,
    ]  # fmt: skip
    assert cursor.fields[1].type_modifier == (10 << 16 | 2) + 4  # numeric(10,2), as PostgreSQL reports it
    rows = await fetch_all(cursor)
    assert rows == [
        [b"1", b"12.50", b"x'y", b"t", b"2024-02-29 10:00:00+00", b"2024-02-29", b"0.1", b'{"a": 1}'],
        [None] * 8,
    ]
    assert cursor.command_tag == "SELECT 2"


async def test_binary_formats_are_passed_to_postgresql(pg_source: Any) -> None:
    cursor = await pg_source.open_passthrough(
        "SELECT 7::int8 AS a, 'z'::text AS b", [], result_formats=[1, 0]
    )
    assert [f.format for f in cursor.fields] == [1, 0]
    assert await fetch_all(cursor) == [[struct.pack("!q", 7), b"z"]]


async def test_parameters_are_text_of_unknown_type(pg_source: Any, pg_admin: Any) -> None:
    await pg_admin.execute("CREATE TABLE people (name text, age int4, born date)")
    await pg_admin.execute("INSERT INTO people VALUES ('ann', 31, '1993-01-02'), ('bob', 40, NULL)")
    sql = "SELECT name FROM people WHERE age > $1 AND born = $2"
    assert await fetch_all(await pg_source.open_passthrough(sql, [30, "1993-01-02"])) == [[b"ann"]]
    for hostile in ["' OR '1'='1", "x'; DROP TABLE people; --", "$1"]:
        rows = await fetch_all(
            await pg_source.open_passthrough(
                "SELECT $1::text, count(*) FROM people WHERE name = $1", [hostile]
            )
        )
        assert rows == [[hostile.encode(), b"0"]]
    with pytest.raises(PgError) as info:
        await pg_source.open_passthrough("SELECT name FROM people WHERE age > $1", ["thirty"])
    assert info.value.sqlstate == "22P02"
    assert await pg_admin.fetchval("SELECT count(*) FROM people") == 2


def test_text_param_rendering() -> None:
    import datetime
    import decimal

    assert text_param(None) is None
    assert text_param(True) == b"true"
    assert text_param(decimal.Decimal("1.50")) == b"1.50"
    assert text_param(float("nan")) == b"NaN" and text_param(float("-inf")) == b"-Infinity"
    assert (
        text_param(datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC))
        == b"2024-01-02T03:04:05+00:00"
    )
    assert text_param(b"\x00\xff") == b"\\x00ff"
    with pytest.raises(PgError):
        text_param(object())


async def test_batches_stream_with_bounded_memory(pg_source: Any) -> None:
    sql = "SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g"
    tracemalloc.start()
    try:
        cursor = await pg_source.open_passthrough(sql, [], batch_rows=1000)
        total = pieces = 0
        async for _data, count in cursor.chunks():
            assert count <= 1000
            total += count
            pieces += 1
        await cursor.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 100000 and pieces == 100 and cursor.command_tag == "SELECT 100000"
    assert peak < 8 * 1024 * 1024, f"peak traced memory {peak} bytes"


async def test_pieces_are_cut_at_max_bytes(pg_source: Any) -> None:
    cursor = await pg_source.open_passthrough("SELECT repeat('x', 1000) FROM generate_series(1, 50)", [])
    sizes = [len(data) async for data, _ in cursor.chunks(max_bytes=10_000)]
    await cursor.close()
    assert len(sizes) >= 5 and sum(sizes) == 50 * (7 + 4 + 1000)


async def test_errors_keep_sqlstate_and_the_connection_is_reused(pg_source: Any, pg_admin: Any) -> None:
    with pytest.raises(PgError) as info:
        await pg_source.open_passthrough("SELECT * FROM no_such_table", [])
    assert info.value.sqlstate == "42P01"
    with pytest.raises(PgError) as info:
        await fetch_all(
            await pg_source.open_passthrough("SELECT 1 / (g - 3) FROM generate_series(1, 5) g", [])
        )
    assert info.value.sqlstate == "22012"
    with pytest.raises(PgError) as info:
        await fetch_all(await pg_source.open_passthrough("CREATE TABLE sneaky (x int)", []))
    assert info.value.sqlstate == "25006"
    assert await fetch_all(await pg_source.open_passthrough("SELECT 5", [])) == [[b"5"]]
    # Every failure above left the one connection usable (close's Sync is answered asynchronously).
    assert await eventually(lambda: _states_are(pg_admin, ["idle"]))


async def test_close_between_batches_keeps_the_connection(pg_source: Any, pg_admin: Any) -> None:
    cursor = await pg_source.open_passthrough("SELECT g FROM generate_series(1, 100000) g", [], batch_rows=10)
    chunks = cursor.chunks()
    _, count = await anext(chunks)
    assert count == 10
    await chunks.aclose()
    await cursor.close()
    await cursor.close()
    assert await fetch_all(await pg_source.open_passthrough("SELECT 6", [])) == [[b"6"]]
    assert await eventually(lambda: _states_are(pg_admin, ["idle"]))


async def test_cancel_and_timeout_stop_the_query(pg_source: Any, pg_admin: Any) -> None:
    marker = "pt_cancel_" + uuid.uuid4().hex[:8]

    async def run() -> None:
        await fetch_all(await pg_source.open_passthrough(f"SELECT pg_sleep(60), '{marker}'", []))

    task = asyncio.create_task(run())
    assert await until(lambda: pg_active(pg_admin, marker), lambda n: n == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await until(lambda: pg_active(pg_admin, marker), lambda n: n == 0, timeout=5)

    marker = "pt_timeout_" + uuid.uuid4().hex[:8]
    with pytest.raises(PgError) as info:
        await fetch_all(await pg_source.open_passthrough(f"SELECT pg_sleep(60), '{marker}'", [], timeout=0.5))
    assert (
        info.value.sqlstate == "57014"
        and info.value.message == "canceling statement due to statement timeout"
    )
    assert await until(lambda: pg_active(pg_admin, marker), lambda n: n == 0, timeout=5)
    assert await fetch_all(await pg_source.open_passthrough("SELECT 7", [])) == [[b"7"]]
    assert pg_source.gate.active == 0


async def test_backend_killed_gives_08006_then_recovers(pg_source: Any, pg_admin: Any) -> None:
    marker = "pt_kill_" + uuid.uuid4().hex[:8]
    task = asyncio.create_task(
        fetch_all(await pg_source.open_passthrough(f"SELECT pg_sleep(60), '{marker}'", []))
    )
    assert await until(lambda: pg_active(pg_admin, marker), lambda n: n == 1)
    await pg_terminate(pg_admin, marker)
    with pytest.raises(PgError) as info:
        await task
    assert info.value.sqlstate == "08006" and "test-pg" in info.value.message
    # Idle pooled connections killed behind the pool's back are replaced transparently.
    await fetch_all(await pg_source.open_passthrough("SELECT 1", []))
    await pg_admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = 'sqlgate' AND datname = current_database()"
    )
    await asyncio.sleep(0.1)
    assert await fetch_all(await pg_source.open_passthrough("SELECT 8", [])) == [[b"8"]]


async def test_down_is_08006_without_secrets() -> None:
    params = {"host": "127.0.0.1", "port": str(closed_port()), "user": "u", "password": "hunter2-secret"}
    source = open_source("POSTGRES", params, name="down-pt")
    try:
        with pytest.raises(PgError) as info:
            await source.open_passthrough("SELECT 1", [])
        assert info.value.sqlstate == "08006" and "connection refused" in info.value.message
        assert "hunter2" not in str(info.value)
        assert source.gate.active == 0
    finally:
        await source.close()


async def test_session_settings_fix_the_output(pg_database: str) -> None:
    source = open_source("POSTGRES", db_params_from_url(pg_database) | {"port": None})
    try:
        cursor = await source.open_passthrough(
            "SELECT current_setting('TimeZone'), current_setting('DateStyle'),"
            " current_setting('transaction_read_only')",
            [],
        )
        assert await fetch_all(cursor) == [[b"UTC", b"ISO, MDY", b"on"]]
    finally:
        await source.close()


async def _states_are(admin: Any, expected: list[str]) -> bool:
    return await pg_sqlgate_states(admin) == expected


def _idle_statements(pg_source: Any) -> list[dict[str, str]]:
    """The named statements of the source's idle pass-through connections."""
    return [dict(conn.statements) for conn in pg_source._raw_pool._idle]


async def test_each_connection_parses_a_statement_once(pg_source: Any, pg_admin: Any) -> None:
    await pg_admin.execute("CREATE TABLE items (id int4 PRIMARY KEY, name text)")
    await pg_admin.execute("INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 20) g")
    sql = "SELECT id, name FROM items WHERE id = CAST($1 AS BIGINT)"
    for value in (3, 4, 5):
        assert await fetch_all(await pg_source.open_passthrough(sql, [value])) == [
            [str(value).encode(), f"n{value}".encode()]
        ]
    [statements] = _idle_statements(pg_source)
    assert list(statements) == [sql]  # prepared once, then only bound
    # A run that fails after the Parse leaves nothing behind: the next one parses again.
    other = "SELECT name FROM items WHERE id = CAST($1 AS INT2)"
    with pytest.raises(PgError) as info:
        await pg_source.open_passthrough(other, ["70000"])
    assert info.value.sqlstate == "22003"
    assert await fetch_all(await pg_source.open_passthrough(other, ["7"])) == [[b"n7"]]
    assert await fetch_all(await pg_source.open_passthrough(sql, [6])) == [[b"6", b"n6"]]
    [statements] = _idle_statements(pg_source)
    assert set(statements) == {sql, other}


async def test_a_changed_table_is_prepared_again_without_an_error(pg_source: Any, pg_admin: Any) -> None:
    await pg_admin.execute("CREATE TABLE shapes (a int4)")
    await pg_admin.execute("INSERT INTO shapes VALUES (1)")
    sql = "SELECT * FROM shapes"
    assert await fetch_all(await pg_source.open_passthrough(sql, [])) == [[b"1"]]
    await pg_admin.execute("ALTER TABLE shapes ADD COLUMN b text DEFAULT 'x'")
    cursor = await pg_source.open_passthrough(sql, [])
    assert [f.name for f in cursor.fields] == ["a", "b"]
    assert await fetch_all(cursor) == [[b"1", b"x"]]
    assert await fetch_all(await pg_source.open_passthrough(sql, [])) == [[b"1", b"x"]]


async def test_one_shot_queries_share_a_connection_in_step(pg_source: Any, pg_admin: Any) -> None:
    """Execute without a row limit plus Sync in one write: results, errors and early closes leave the
    connection (or its replacement) in step for the next query."""
    for n in (1, 3, 20000):
        cursor = await pg_source.open_passthrough(
            "SELECT g, 'x' || g FROM generate_series(1, $1::int) g", [n], one_shot=True
        )
        rows = await fetch_all(cursor)
        assert len(rows) == n and rows[-1] == [str(n).encode(), f"x{n}".encode()]
        assert cursor.command_tag == f"SELECT {n}"
    with pytest.raises(PgError) as info:
        await fetch_all(
            await pg_source.open_passthrough(
                "SELECT 1 / (g - 3) FROM generate_series(1, 5) g", [], one_shot=True
            )
        )
    assert info.value.sqlstate == "22012"
    with pytest.raises(PgError) as info:
        await pg_source.open_passthrough("SELECT * FROM no_such_table", [], one_shot=True)
    assert info.value.sqlstate == "42P01"
    # Closed before the end: the query is cancelled, and the next one runs normally.
    cursor = await pg_source.open_passthrough(
        "SELECT g FROM generate_series(1, 5000000) g", [], one_shot=True
    )
    chunks = cursor.chunks(max_bytes=4096)
    _, count = await anext(chunks)
    assert count > 0
    await chunks.aclose()
    await cursor.close()
    assert await fetch_all(await pg_source.open_passthrough("SELECT 5", [], one_shot=True)) == [[b"5"]]
    assert await fetch_all(await pg_source.open_passthrough("SELECT $1::int + 1", [6])) == [[b"7"]]
    assert await eventually(lambda: _states_are(pg_admin, ["idle"]))
