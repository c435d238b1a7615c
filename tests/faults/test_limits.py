"""Limits (issue 6 item 3), end to end through a gateway on a real metadata database and a real
PostgreSQL datasource: the server's statement timeout (57014), the result-row limit (54000, never
truncated), the per-credential session limit (53300) and ``--require-tls`` (28000)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest

from tests.support.metadata import SeededLogin
from tests.support.tls import make_certificate
from tests.support.warehouse import (
    another_credential,
    dsn,
    login_dsn,
    running_on_datasource,
    served,
    wait_until,
)


async def _no_sleeper(database: str) -> bool:
    return await running_on_datasource(database, "%pg_sleep%") == 0


# ---------------------------------------------------------------------------- statement timeout


async def test_server_statement_timeout_cancels_the_datasource_query(
    warehouse: SeededLogin, metadata_url: str, pg_database: str
) -> None:
    async with (
        served(metadata_url, statement_timeout=0.5) as gw,
        await psycopg.AsyncConnection.connect(login_dsn(gw.port, warehouse), autocommit=True) as conn,
    ):
        shown = await (await conn.execute("SHOW statement_timeout")).fetchone()
        assert shown == ("500ms",)
        with pytest.raises(psycopg.errors.QueryCanceled) as caught:
            await conn.execute("SELECT MEASURE(count) FROM slow")
        assert caught.value.sqlstate == "57014"
        assert "statement timeout" in str(caught.value)
        await wait_until(lambda: _no_sleeper(pg_database), "the datasource query was cancelled")
        rows = await (await conn.execute("SELECT MEASURE(count) FROM orders")).fetchall()
        assert rows == [(50,)]


async def test_a_session_may_lower_the_statement_timeout(
    warehouse: SeededLogin, metadata_url: str, pg_database: str
) -> None:
    async with (
        served(metadata_url, statement_timeout=600) as gw,
        await psycopg.AsyncConnection.connect(login_dsn(gw.port, warehouse), autocommit=True) as conn,
    ):
        await conn.execute("SET statement_timeout = '200ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            await conn.execute("SELECT MEASURE(count) FROM slow")
        await wait_until(lambda: _no_sleeper(pg_database), "the datasource query was cancelled")
        await conn.execute("RESET statement_timeout")
        assert await (await conn.execute("SHOW statement_timeout")).fetchone() == ("10min",)


@pytest.mark.parametrize("raised", ["0", "1h"])
async def test_a_session_cannot_raise_the_statement_timeout(
    warehouse: SeededLogin, metadata_url: str, pg_database: str, raised: str
) -> None:
    async with served(metadata_url, statement_timeout=0.3) as gw:
        # Through the start-up packet as well as SET: neither lifts the server's limit.
        options = f"-c statement_timeout={raised}"
        async with await psycopg.AsyncConnection.connect(
            login_dsn(gw.port, warehouse, options=options.replace(" ", "\\ ")), autocommit=True
        ) as conn:
            with pytest.raises(psycopg.errors.QueryCanceled):
                await conn.execute("SELECT MEASURE(count) FROM slow")
            await conn.execute(f"SET statement_timeout = '{raised}'")
            with pytest.raises(psycopg.errors.QueryCanceled):
                await conn.execute("SELECT MEASURE(count) FROM slow")
            await wait_until(lambda: _no_sleeper(pg_database), "the datasource queries were cancelled")


# ---------------------------------------------------------------------------- result rows


async def test_too_many_rows_is_an_error_not_a_truncated_result(
    warehouse: SeededLogin, metadata_url: str
) -> None:
    async with (
        served(metadata_url, max_result_rows=1000) as gw,
        await psycopg.AsyncConnection.connect(login_dsn(gw.port, warehouse), autocommit=True) as conn,
    ):
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as caught:
            await conn.execute("SELECT id FROM big")
        assert caught.value.sqlstate == "54000"
        assert "exceeds the limit of 1000 rows" in str(caught.value)
        # Exactly the limit is allowed, and the session is still usable.
        rows = await (await conn.execute("SELECT id FROM big ORDER BY id LIMIT 1000")).fetchall()
        assert len(rows) == 1000 and rows[-1] == (1000,)
        # A server-side cursor (DECLARE … WITH HOLD, then FETCHes) is one query: its rows count together.
        async with conn.cursor(name="portions", withhold=True) as cursor:
            with pytest.raises(psycopg.errors.ProgramLimitExceeded):
                await cursor.execute("SELECT id FROM big")
                while await cursor.fetchmany(300):
                    pass


async def test_too_many_rows_through_the_simple_protocol_and_cursors(
    warehouse: SeededLogin, metadata_url: str
) -> None:
    psql = shutil.which("psql")
    assert psql is not None, "psql is required (scripts/install-test-clients)"
    async with served(metadata_url, max_result_rows=1000) as gw:
        result = await asyncio.to_thread(
            subprocess.run,
            [psql, login_dsn(gw.port, warehouse), "-At", "-c", "SELECT id FROM big", "-c", "SELECT 42"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert "query result exceeds the limit of 1000 rows" in result.stderr
        # No partial result is printed, and the session goes on to the next command.
        assert result.stdout.strip() == "42", result.stdout[:200]
        conn = await asyncpg.connect(
            f"postgresql://{warehouse.username}:{warehouse.password}@127.0.0.1:{gw.port}/db", ssl=False
        )
        try:
            with pytest.raises(asyncpg.exceptions.ProgramLimitExceededError):
                await conn.fetch("SELECT id FROM big")
            # Rows read in portions (Execute with a row count, PortalSuspended) count together.
            with pytest.raises(asyncpg.exceptions.ProgramLimitExceededError):
                async with conn.transaction():
                    async for _ in conn.cursor("SELECT id FROM big", prefetch=300):
                        pass
            async with conn.transaction():
                await conn.execute("DECLARE c CURSOR FOR SELECT id FROM big")
                assert len(await conn.fetch("FETCH 600 FROM c")) == 600
                with pytest.raises(asyncpg.exceptions.ProgramLimitExceededError):
                    await conn.fetch("FETCH 600 FROM c")
                raise _Rollback
        except _Rollback:
            pass
        finally:
            assert await conn.fetchval("SELECT MEASURE(count) FROM orders") == 50
            await conn.close()


class _Rollback(Exception):
    """Leave the transaction block by rolling it back."""


# ---------------------------------------------------------------------------- sessions per credential


async def _asyncpg(port: int, user: str, password: str) -> Any:
    return await asyncpg.connect(f"postgresql://{user}:{password}@127.0.0.1:{port}/db", ssl=False)


async def test_sessions_per_credential_are_limited(
    warehouse: SeededLogin, metadata_url: str, metadata_engine: Any
) -> None:
    other_user, other_password = await another_credential(metadata_engine, warehouse)
    async with served(metadata_url, max_connections_per_credential=2) as gw:
        first = await _asyncpg(gw.port, warehouse.username, warehouse.password)
        second = await _asyncpg(gw.port, warehouse.username, warehouse.password)
        try:
            with pytest.raises(asyncpg.exceptions.TooManyConnectionsError) as caught:
                await _asyncpg(gw.port, warehouse.username, warehouse.password)
            assert caught.value.sqlstate == "53300"
            assert f'too many connections for credential "{warehouse.username}"' in str(caught.value)
            # Another credential is not affected, and the open sessions keep working.
            other = await _asyncpg(gw.port, other_user, other_password)
            assert await other.fetchval("SELECT MEASURE(count) FROM orders") == 50
            await other.close()
            assert await first.fetchval("SELECT MEASURE(count) FROM orders") == 50
            # A wrong password does not count against (or reveal) the limit.
            with pytest.raises(asyncpg.exceptions.InvalidPasswordError):
                await _asyncpg(gw.port, warehouse.username, "wrong")
        finally:
            await first.close()
        # A closed session frees its place.

        async def third_connects() -> bool:
            try:
                conn = await _asyncpg(gw.port, warehouse.username, warehouse.password)
            except asyncpg.exceptions.TooManyConnectionsError:
                return False
            await conn.close()
            return True

        await wait_until(third_connects, "a freed place was reused")
        await second.close()


# ---------------------------------------------------------------------------- require TLS


async def test_require_tls_refuses_plain_connections(
    warehouse: SeededLogin, metadata_url: str, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    async with served(metadata_url, tls_cert=str(cert), tls_key=str(key), require_tls=True) as gw:
        with pytest.raises(psycopg.OperationalError) as caught:
            await psycopg.AsyncConnection.connect(login_dsn(gw.port, warehouse, sslmode="disable"))
        assert "connection requires TLS" in str(caught.value)
        with pytest.raises(asyncpg.exceptions.InvalidAuthorizationSpecificationError) as refused:
            await _asyncpg(gw.port, warehouse.username, warehouse.password)
        assert refused.value.sqlstate == "28000"
        async with await psycopg.AsyncConnection.connect(
            login_dsn(gw.port, warehouse, sslmode="require"), autocommit=True
        ) as conn:
            assert conn.info.pgconn.ssl_in_use
            rows = await (await conn.execute("SELECT MEASURE(count) FROM orders")).fetchall()
            assert rows == [(50,)]
        psql = shutil.which("psql")
        assert psql is not None, "psql is required (scripts/install-test-clients)"
        for sslmode, expect_ok in (("disable", False), ("require", True)):
            target = dsn(gw.port, warehouse.username, warehouse.password, sslmode=sslmode)
            result = await asyncio.to_thread(
                subprocess.run,
                [psql, target, "-Atc", "SELECT MEASURE(count) FROM orders"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if expect_ok:
                assert result.returncode == 0 and result.stdout.strip() == "50", result.stderr
            else:
                assert result.returncode != 0 and "connection requires TLS" in result.stderr


async def test_an_idle_cursor_does_not_outlive_the_statement_timeout(
    warehouse: SeededLogin, metadata_url: str, pg_database: str
) -> None:
    """A cursor read in portions holds a datasource query and slot; a client that stops reading must
    not hold them past the timeout (clients doing so could otherwise block the datasource)."""
    async with served(metadata_url, statement_timeout=1.0, datasource_max_concurrent=2) as gw:
        conn = await _asyncpg(gw.port, warehouse.username, warehouse.password)
        try:
            source: Any = None

            async def released() -> bool:
                stopped = await running_on_datasource(pg_database, "%generate_series%", suspended=True) == 0
                return stopped and source.gate.active == 0

            # A SQL cursor, and a protocol portal read with Execute row counts.
            async with conn.transaction():
                await conn.execute("DECLARE c CURSOR FOR SELECT id FROM trickle")
                assert len(await conn.fetch("FETCH 10 FROM c")) == 10
                source = next(iter(gw.sources.sources().values()))
                assert source.gate.active == 1
                await wait_until(released, "the idle cursor's query and slot were released")
                # Rows the gateway had already read may still be served; the query itself is over.
                with pytest.raises(asyncpg.exceptions.QueryCanceledError):
                    await conn.fetch("FETCH ALL FROM c")
            async with conn.transaction():
                cursor = await conn.cursor("SELECT id FROM trickle")
                assert len(await cursor.fetch(10)) == 10
                assert source.gate.active == 1
                await wait_until(released, "the idle portal's query and slot were released")
                with pytest.raises(asyncpg.exceptions.QueryCanceledError):
                    await cursor.fetch(100_000)
            assert await conn.fetchval("SELECT MEASURE(count) FROM orders") == 50
        finally:
            await conn.close()
