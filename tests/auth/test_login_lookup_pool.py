"""Logins look their credential up on a plain asyncpg pool: still at every login, so revoking or
rotating a credential refuses the next login at once (issue 7: a fast login path without a cache
that outlives a revocation)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from sqlgate.gateway import Gateway
from sqlgate.metastore import admin
from tests.support.gateways import make_settings
from tests.support.metadata import SeededLogin


@pytest.fixture
async def gateway(metadata_url: str) -> AsyncIterator[Gateway]:
    gw = Gateway(make_settings(metadata_url=metadata_url))
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop(timeout=2)


def _dsn(gw: Gateway, user: str, password: str) -> str:
    return f"host=127.0.0.1 port={gw.port} dbname=db user={user} password={password} sslmode=disable"


async def _login(gw: Gateway, user: str, password: str) -> None:
    async with await psycopg.AsyncConnection.connect(_dsn(gw, user, password), autocommit=True) as conn:
        cur = await conn.execute("SELECT current_user")
        assert (await cur.fetchone()) == (user,)


async def test_revoked_and_rotated_credentials_are_refused_at_the_next_login(
    metadata_login: SeededLogin, metadata_engine: Any, gateway: Gateway
) -> None:
    for _ in range(3):  # the look-up pool is reused across logins
        await _login(gateway, metadata_login.username, metadata_login.password)
    pool = gateway.authenticator.store._pool  # type: ignore[union-attr]
    assert pool is not None
    rotated = await admin.rotate_credential(metadata_engine, username=metadata_login.username)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        await _login(gateway, metadata_login.username, metadata_login.password)
    await _login(gateway, metadata_login.username, rotated["password"])
    await admin.revoke_credential(metadata_engine, username=metadata_login.username)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        await _login(gateway, metadata_login.username, rotated["password"])


async def test_a_restarted_metadata_connection_is_replaced(
    metadata_login: SeededLogin, metadata_url: str, gateway: Gateway
) -> None:
    import asyncpg

    await _login(gateway, metadata_login.username, metadata_login.password)
    admin_conn = await asyncpg.connect(metadata_url)
    try:
        await admin_conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'sqlgate-login' AND datname = current_database()"
        )
    finally:
        await admin_conn.close()
    await _login(gateway, metadata_login.username, metadata_login.password)
