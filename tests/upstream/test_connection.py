"""The upstream client against a real PostgreSQL: start-up, framed reads, errors, cancel, pools, URLs."""

from __future__ import annotations

import asyncio

import pytest

from sqlgate.errors import PgError
from sqlgate.pgproto import frontend as fe
from sqlgate.upstream import ConnectFailed, UpstreamConnection, UpstreamPool
from sqlgate.upstream.sqltext import quote_ident, quote_literal
from sqlgate.upstream.urls import UrlError, endpoint_from_url


async def test_connects_reads_parameters_and_runs_simple_queries(pg_database: str) -> None:
    endpoint = endpoint_from_url(pg_database)
    conn = await UpstreamConnection.connect(
        endpoint.with_database(endpoint.database, parameters={"application_name": "sqlgate_test_up"})
    )
    try:
        assert conn.server_version and conn.backend_pid > 0
        assert conn.parameters["application_name"] == "sqlgate_test_up"
        rows = await conn.simple_query("SELECT 1, NULL::text, 'x''y' UNION ALL SELECT 2, 'b', 'c' ORDER BY 1")
        assert rows == [("1", None, "x'y"), ("2", "b", "c")]
        with pytest.raises(PgError) as info:
            await conn.simple_query("SELECT * FROM no_such_table")
        assert info.value.sqlstate == "42P01" and info.value.position == 15
        assert await conn.simple_query("SELECT 3") == [("3",)]  # back in step after the error
    finally:
        conn.close()


async def test_many_rows_are_framed_across_reads(pg_database: str) -> None:
    conn = await UpstreamConnection.connect(endpoint_from_url(pg_database))
    try:
        rows = await conn.simple_query("SELECT i, repeat('x', 300) FROM generate_series(1, 5000) i")
        assert len(rows) == 5000 and rows[-1][0] == "5000" and len(rows[0][1] or "") == 300
    finally:
        conn.close()


async def test_refused_start_up_is_connect_failed_with_the_server_fields(pg_database: str) -> None:
    endpoint = endpoint_from_url(pg_database)
    with pytest.raises(ConnectFailed) as info:
        await UpstreamConnection.connect(endpoint.with_database("sqlgate_no_such_database"))
    assert info.value.sqlstate == "3D000" and info.value.reason == "the database does not exist"


async def test_unreachable_server_is_connect_failed_with_the_os_error() -> None:
    with pytest.raises(ConnectFailed) as info:
        await UpstreamConnection.connect(endpoint_from_url("postgresql://u:secret@127.0.0.1:1/db"))
    assert isinstance(info.value.__cause__, OSError) and "secret" not in str(info.value)


async def test_cancel_stops_the_running_statement(pg_database: str) -> None:
    conn = await UpstreamConnection.connect(endpoint_from_url(pg_database))
    try:
        task = asyncio.ensure_future(conn.simple_query("SELECT pg_sleep(30)"))
        await asyncio.sleep(0.2)
        await conn.cancel()
        with pytest.raises(PgError) as info:
            await asyncio.wait_for(task, 10)
        assert info.value.sqlstate == "57014"
    finally:
        conn.close()


async def test_bounded_pool_waits_reuses_and_times_out(pg_database: str) -> None:
    endpoint = endpoint_from_url(pg_database)
    opened = 0

    async def connect() -> UpstreamConnection:
        nonlocal opened
        opened += 1
        return await UpstreamConnection.connect(endpoint)

    pool = UpstreamPool(connect, max_size=1)
    try:
        first, fresh = await pool.acquire()
        assert fresh
        with pytest.raises(TimeoutError):
            await pool.acquire(timeout=0.1)
        waiter = asyncio.ensure_future(pool.acquire(timeout=5))
        await asyncio.sleep(0.05)
        pool.release(first, reusable=True)
        second, fresh = await waiter
        assert second is first and not fresh and opened == 1
        second.send(fe.Query("SELECT 1").encode() + fe.Sync().encode())
        second.pending_ready = 2  # the Query and the Sync each answer ReadyForQuery
        pool.release(second, reusable=True)
        third, _ = await pool.acquire()
        assert third is first and third.pending_ready == 0  # the answers were read before reuse
        pool.release(third, reusable=False)
        assert third.broken and pool.size == 0
    finally:
        pool.close()


def test_urls() -> None:
    endpoint = endpoint_from_url("postgresql+asyncpg://alice:p%40ss@db.example:6543/meta?sslmode=require")
    assert (endpoint.host, endpoint.port, endpoint.user, endpoint.password, endpoint.database) == (
        "db.example", 6543, "alice", "p@ss", "meta",
    )  # fmt: skip
    assert endpoint.tls is not None and "p@ss" not in repr(endpoint)
    socket = endpoint_from_url("postgresql://postgres:@/x?host=/tmp/pg&port=5433")
    assert socket.is_unix_socket and socket.socket_path == "/tmp/pg/.s.PGSQL.5433" and socket.tls is None
    with pytest.raises(UrlError):
        endpoint_from_url("mysql://root@localhost/x")


def test_quoting() -> None:
    assert quote_ident('we"ird') == '"we""ird"'
    assert quote_literal("it's") == "'it''s'"
    with pytest.raises(PgError):
        quote_literal("nul\x00")


async def test_stale_idle_connections_are_closed(pg_database: str) -> None:
    endpoint = endpoint_from_url(pg_database)

    async def connect() -> UpstreamConnection:
        return await UpstreamConnection.connect(endpoint)

    pool = UpstreamPool(connect, max_size=2, idle_timeout=60)
    try:
        old, _ = await pool.acquire()
        new, _ = await pool.acquire()
        pool.release(old, reusable=True)
        pool.release(new, reusable=True)
        old.last_used -= 120
        pool.expire_stale()
        assert old.broken and not new.broken and pool.size == 1 and pool.in_use == 0
    finally:
        pool.close()
