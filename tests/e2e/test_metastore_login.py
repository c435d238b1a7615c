"""Log in with credentials issued by the admin operations/CLI on a freshly migrated metadata database,
and query a real datasource through the semantic engine."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import psycopg
import pytest

from sqlgate.auth.passwords import is_bcrypt_hash
from sqlgate.gateway import Gateway
from tests.e2e.conftest import require_program
from tests.support.gateways import make_settings
from tests.support.metadata import SeededLogin, seed_login


@pytest.fixture
async def warehouse(pg_database: str) -> dict[str, Any]:
    """A real PostgreSQL datasource with a small ``orders`` table; returns its Synmetrix db_params."""
    conn = await asyncpg.connect(pg_database)
    try:
        await conn.execute(
            "CREATE TABLE orders (id integer PRIMARY KEY, status text NOT NULL, amount numeric NOT NULL,"
            " created_at timestamptz NOT NULL);"
            "INSERT INTO orders VALUES (1, 'new', 10.5, '2024-01-01 10:00+00'),"
            " (2, 'new', 4.5, '2024-01-02 11:00+00'), (3, 'shipped', 20, '2024-01-03 12:00+00')"
        )
    finally:
        await conn.close()
    parts = urlsplit(pg_database)
    params: dict[str, Any] = {"database": parts.path.lstrip("/"), "user": parts.username or "postgres"}
    if parts.password:
        params["password"] = parts.password
    host = parts.hostname or dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get("host", "")
    params["host"] = host
    if parts.port:
        params["port"] = str(parts.port)
    return params


@pytest.fixture
async def seeded(
    metadata_engine: Any, warehouse: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> SeededLogin:
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    return await seed_login(metadata_engine, db_params=warehouse)


@pytest.fixture
async def gateway(metadata_url: str) -> AsyncIterator[Gateway]:
    gw = Gateway(make_settings(metadata_url=metadata_url))
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop(timeout=2)


def _dsn(gw: Gateway, username: str, password: str) -> str:
    return f"host=127.0.0.1 port={gw.port} dbname=db user={username} password={password} sslmode=disable"


async def test_issued_credential_logs_in_with_scram_and_queries_the_model(
    seeded: SeededLogin, gateway: Gateway
) -> None:
    async with await psycopg.AsyncConnection.connect(
        _dsn(gateway, seeded.username, seeded.password), autocommit=True
    ) as conn:
        cur = await conn.execute("SELECT current_user, current_database()")
        assert await cur.fetchone() == (seeded.username, "db")
        cur = await conn.execute("SELECT status, MEASURE(count) AS n FROM Orders GROUP BY 1 ORDER BY 1")
        assert await cur.fetchall() == [("new", 2), ("shipped", 1)]
    conn2 = await asyncpg.connect(
        host="127.0.0.1",
        port=gateway.port,
        user=seeded.username,
        password=seeded.password,
        database="db",
        ssl=False,
    )
    try:
        total = await conn2.fetchval("SELECT MEASURE(amount) FROM Orders WHERE status = $1", "new")
        assert float(total) == 15.0
    finally:
        await conn2.close()


async def test_wrong_password_unknown_user_and_non_member(
    seeded: SeededLogin, gateway: Gateway, metadata_engine: Any
) -> None:
    for user, password in ((seeded.username, "wrong"), ("nobody", "whatever")):
        with pytest.raises(psycopg.OperationalError) as info:
            await psycopg.AsyncConnection.connect(_dsn(gateway, user, password))
        assert f'password authentication failed for user "{user}"' in str(info.value)
    from sqlgate.metastore import admin

    await admin.create_user(metadata_engine, email="ann@example.com")
    await admin.add_member(metadata_engine, team=seeded.team_id, user="ann@example.com", role="member")
    issued = await admin.create_credential(
        metadata_engine, team=seeded.team_id, datasource=seeded.datasource_id, user="ann@example.com"
    )
    async with await psycopg.AsyncConnection.connect(_dsn(gateway, issued["username"], issued["password"])):
        pass
    await admin.remove_member(metadata_engine, team=seeded.team_id, user="ann@example.com")
    with pytest.raises(psycopg.OperationalError) as info:
        await psycopg.AsyncConnection.connect(_dsn(gateway, issued["username"], issued["password"]))
    assert "not a member of the team" in str(info.value)


async def test_legacy_plain_text_password_is_upgraded_after_login(
    seeded: SeededLogin, gateway: Gateway, metadata_url: str
) -> None:
    db = await asyncpg.connect(metadata_url)
    try:
        await db.execute(
            "UPDATE sql_credentials SET password = 'plain-synmetrix-pw', scram_verifier = NULL"
            " WHERE username = $1",
            seeded.username,
        )
        async with await psycopg.AsyncConnection.connect(
            _dsn(gateway, seeded.username, "plain-synmetrix-pw")
        ):
            pass
        assert gateway.authenticator is not None
        await gateway.authenticator.wait_upgrades()
        row = await db.fetchrow(
            "SELECT password, scram_verifier FROM sql_credentials WHERE username = $1", seeded.username
        )
        assert is_bcrypt_hash(row["password"]) and row["scram_verifier"].startswith("SCRAM-SHA-256$4096:")
    finally:
        await db.close()
    async with await psycopg.AsyncConnection.connect(
        _dsn(gateway, seeded.username, "plain-synmetrix-pw")
    ) as conn:
        cur = await conn.execute("SELECT 1")
        assert await cur.fetchone() == (1,)


async def test_database_without_the_verifier_column_uses_cleartext(
    seeded: SeededLogin, metadata_url: str
) -> None:
    db = await asyncpg.connect(metadata_url)
    try:
        await db.execute("ALTER TABLE sql_credentials DROP COLUMN scram_verifier")
    finally:
        await db.close()
    gw = Gateway(make_settings(metadata_url=metadata_url))
    await gw.start()
    try:
        async with await psycopg.AsyncConnection.connect(_dsn(gw, seeded.username, seeded.password)) as conn:
            cur = await conn.execute("SELECT session_user")
            assert await cur.fetchone() == (seeded.username,)
    finally:
        await gw.stop(timeout=2)


async def test_credential_created_with_the_cli_logs_in_with_psql(
    seeded: SeededLogin, gateway: Gateway, metadata_url: str
) -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sqlgate",
        "credentials",
        "create",
        "--team",
        seeded.team,
        "--datasource",
        seeded.datasource,
        "--email",
        seeded.owner_email,
        "--username",
        "cli_user",
        "--metadata-url",
        metadata_url,
        "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=root,
        env={**os.environ, "SQLGATE_BCRYPT_COST": "4"},
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    issued = json.loads(out)
    psql = require_program("psql")
    process = await asyncio.create_subprocess_exec(
        psql,
        "-X",
        "-A",
        "-t",
        "-h",
        "127.0.0.1",
        "-p",
        str(gateway.port),
        "-U",
        issued["username"],
        "-d",
        "db",
        "-c",
        "SELECT current_user",
        "-c",
        "SELECT MEASURE(count) FROM Orders",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PGPASSWORD": issued["password"], "PGSSLMODE": "disable"},
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode().splitlines() == ["cli_user", "3"]
