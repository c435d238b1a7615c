"""The metadata database goes away (issue 6 item 4): open sessions keep querying; new logins fail with
FATAL 08006 saying the metadata database is unavailable, or, with ``auth_offline_cache_seconds``, are
checked against the credential record of a recent successful login; once it is back, logins work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import psycopg
import pytest

from sqlgate.metastore.engine import create_metadata_engine
from sqlgate.metastore.migrate import upgrade
from tests.support.metadata import SeededLogin
from tests.support.throwaway_pg import ThrowawayPg, throwaway_pg
from tests.support.warehouse import another_credential, login_dsn, seed_warehouse, served

pytestmark = pytest.mark.slow


class Metadata:
    """A metadata database on a throw-away server, with one registered datasource."""

    def __init__(self, server: ThrowawayPg, url: str, login: SeededLogin, spare: tuple[str, str]) -> None:
        self.server = server
        self.url = url
        self.login = login
        self.spare = spare  # a second credential that never logs in before the outage

    async def stop(self) -> None:
        await asyncio.to_thread(self.server.stop, "fast")

    async def start(self) -> None:
        await asyncio.to_thread(self.server.start)


@pytest.fixture
async def metadata(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Metadata]:
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    with throwaway_pg() as server:
        conn = await asyncpg.connect(server.url)
        try:
            await conn.execute("CREATE DATABASE synmetrix")
        finally:
            await conn.close()
        url = server.url_for("synmetrix")
        await upgrade(url)
        engine = create_metadata_engine(url)
        try:
            login = await seed_warehouse(engine, pg_database)
            spare = await another_credential(engine, login)
        finally:
            await engine.dispose()
        yield Metadata(server, url, login, spare)


async def _count(conn: Any) -> Any:
    return await (await conn.execute("SELECT status, MEASURE(count) FROM orders GROUP BY 1")).fetchall()


async def _login(port: int, user: str, password: str) -> Any:
    return await asyncpg.connect(f"postgresql://{user}:{password}@127.0.0.1:{port}/db", ssl=False)


EXPECTED = [("open", 25), ("paid", 25)]


async def test_open_sessions_keep_querying_and_new_logins_fail_clearly(metadata: Metadata) -> None:
    login = metadata.login
    async with served(metadata.url, model_refresh_seconds=0.1) as gw:
        session = await psycopg.AsyncConnection.connect(login_dsn(gw.port, login), autocommit=True)
        try:
            assert sorted(await _count(session)) == EXPECTED
            await metadata.stop()
            for _ in range(3):
                await asyncio.sleep(0.15)  # past model_refresh_seconds: the version look-up fails
                assert sorted(await _count(session)) == EXPECTED
            with pytest.raises(psycopg.OperationalError) as caught:
                await psycopg.AsyncConnection.connect(login_dsn(gw.port, login))
            assert "the metadata database is unavailable" in str(caught.value)
            with pytest.raises(asyncpg.exceptions.ConnectionFailureError) as refused:
                await _login(gw.port, login.username, login.password)
            assert refused.value.sqlstate == "08006"
            assert sorted(await _count(session)) == EXPECTED
            await metadata.start()
            again = await _login(gw.port, login.username, login.password)
            assert await again.fetchval("SELECT MEASURE(count) FROM orders") == 50
            await again.close()
        finally:
            await session.close()


async def test_recent_logins_are_served_from_the_offline_cache_when_configured(metadata: Metadata) -> None:
    login = metadata.login
    async with served(metadata.url, auth_offline_cache_seconds=300) as gw:
        first = await _login(gw.port, login.username, login.password)
        assert await first.fetchval("SELECT MEASURE(count) FROM orders") == 50  # the model is loaded
        await first.close()
        await metadata.stop()
        # The same credential logs in again: its password is still checked …
        with pytest.raises(asyncpg.exceptions.InvalidPasswordError):
            await _login(gw.port, login.username, "not-the-password")
        offline = await _login(gw.port, login.username, login.password)
        try:
            assert await offline.fetchval("SELECT MEASURE(count) FROM orders") == 50
        finally:
            await offline.close()
        # … and a credential that did not log in recently cannot.
        with pytest.raises(asyncpg.exceptions.ConnectionFailureError) as refused:
            await _login(gw.port, *metadata.spare)
        assert "the metadata database is unavailable" in str(refused.value)
        await metadata.start()
        spare = await _login(gw.port, *metadata.spare)
        assert await spare.fetchval("SELECT MEASURE(count) FROM orders") == 50
        await spare.close()
