"""Support for the security tests: users, access lists, an extra model, and datasources whose own
statement logs are read back.

Each datasource is a fresh database with the e-commerce dataset, reached by the gateway through a
dedicated login that may only SELECT. The datasource logs every statement of that login:

* PostgreSQL: ``ALTER ROLE … IN DATABASE … SET log_statement = 'all'``; the server log (stderr
  file, ``log_line_prefix`` with ``%u@%d``) is read with ``pg_read_file`` by the test's superuser.
* MariaDB: ``SET GLOBAL general_log = 1, log_output = 'TABLE'`` while a test runs; rows of
  ``mysql.general_log`` whose ``user_host`` is the dedicated login.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from tests.support.databases import PgServer, create_pg_database, drop_pg_database, unique_name
from tests.support.dataset import drop_mysql, load_mysql, load_postgres, mysql_connect_args

USERS = {
    "owner": "owner@security.test",
    "admin": "admin@security.test",
    "analyst": "analyst@security.test",
    "viewer": "viewer@security.test",
    "stranger": "stranger@security.test",
    "changer": "changer@security.test",
}

# Cubes of the fixture models plus EXTRA_MODEL. "limited": some members of orders, users, products
# and order_codes (not users.id: joins orders -> users need it; nothing of line_items).
ACCESS_LISTS: dict[str, dict[str, dict[str, list[str]]]] = {
    "limited": {
        "orders": {
            "measures": ["orders.count", "orders.total_discount", "orders.completed_share"],
            "dimensions": ["orders.status", "orders.created_at", "orders.id"],
            "segments": ["orders.completed"],
        },
        "users": {"measures": ["users.count"], "dimensions": ["users.country"]},
        "products": {"dimensions": ["products.category"]},
        "order_codes": {
            "measures": ["order_codes.count", "order_codes.discount_per_order"],
            "dimensions": ["order_codes.status_code", "order_codes.status"],
        },
        "order_facts": {"measures": ["order_facts.count"], "dimensions": ["order_facts.status"]},
        "hidden_facts": {"measures": ["hidden_facts.count"], "dimensions": ["hidden_facts.status"]},
    },
    "views": {
        "order_facts": {"measures": ["order_facts.count"], "dimensions": ["order_facts.status"]},
        "orders": {"measures": ["orders.count"], "dimensions": ["orders.status", "orders.user_city"]},
    },
    "joins": {
        "orders": {"measures": ["orders.count"], "dimensions": ["orders.status"]},
        "users": {"dimensions": ["users.country", "users.id"]},
    },
}

EXTRA_MODEL = (
    "security.yml",
    """\
cubes:
  - name: order_codes
    sql_table: orders
    measures:
      - name: count
        type: count
      - name: discount_total
        type: sum
        sql: "{discount_value}"
      - name: discount_per_order
        type: number
        sql: "{discount_total} / NULLIF({count}, 0)"
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: status
        sql: status
        type: string
      - name: status_upper
        sql: "UPPER({status})"
        type: string
      - name: status_code
        sql: "{status_upper}"
        type: string
      - name: discount_value
        sql: discount
        type: number
        public: false

  - name: hidden_orders
    sql_table: orders
    public: false
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: status
        sql: status
        type: string

views:
  - name: hidden_facts
    cubes:
      - join_path: hidden_orders
        includes: [count, status]
""",
)


@dataclass
class Datasource:
    """A datasource database and the gateway's login to it (its db_params)."""

    db_type: str
    database: str
    login: str
    params: dict[str, Any]
    admin_url: str  # superuser/root URL of the server (for oracles and log reading)


@dataclass
class SecureSetup:
    engine: Any
    metadata_url: str
    pg: Datasource
    mysql: Datasource
    team_id: str = ""
    gateway: Any = None
    datasources: dict[str, str] = field(default_factory=dict)  # db_type -> datasource id
    credentials: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def dsn(self, user: str, db_type: str = "POSTGRES") -> str:
        username, password = self.credentials[(user, db_type)]
        return (
            f"host=127.0.0.1 port={self.gateway.port} dbname=db user={username} password={password}"
            " sslmode=disable"
        )

    async def connect(self, user: str, db_type: str = "POSTGRES") -> psycopg.AsyncConnection:
        return await psycopg.AsyncConnection.connect(self.dsn(user, db_type), autocommit=True)


# ---------------------------------------------------------------------------------- PostgreSQL

# A table of the datasource that no model describes, readable by the gateway's login: the attack
# corpus tries to reach it.
SECRETS_DDL = "secrets (id integer, secret_value varchar(100))"
SECRETS_ROW = "secrets VALUES (1, 'sgatk-secret-value')"


async def _add_secrets_table(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE TABLE {SECRETS_DDL}; INSERT INTO {SECRETS_ROW}")
    finally:
        await conn.close()


@asynccontextmanager
async def postgres_datasource(server: PgServer, dataset: Any) -> AsyncIterator[Datasource]:
    """A database with the dataset and a SELECT-only login whose statements the server logs."""
    import asyncpg

    name = await create_pg_database(server, prefix="sqlgate_sec")
    login = unique_name("sqlgate_sec_login")
    password = secrets.token_hex(12)
    url = server.url_for(name)
    admin = await asyncpg.connect(server.url)
    try:
        await load_postgres(url, dataset)
        await _add_secrets_table(url)
        await admin.execute(f"CREATE ROLE {login} LOGIN PASSWORD '{password}'")
        await admin.execute(f"ALTER ROLE {login} IN DATABASE \"{name}\" SET log_statement = 'all'")
        db = await asyncpg.connect(url)
        try:
            await db.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {login}")
        finally:
            await db.close()
        params = {
            "host": "127.0.0.1",
            "port": str(server_port(server.url)),
            "database": name,
            "user": login,
            "password": password,
        }
        yield Datasource("POSTGRES", name, login, params, url)
    finally:
        await drop_pg_database(server, name)
        await admin.execute(f"DROP ROLE IF EXISTS {login}")
        await admin.close()


def server_port(url: str) -> int:
    from urllib.parse import urlsplit

    return urlsplit(url).port or 5432


async def postgres_log_position(admin_url: str) -> tuple[str, int]:
    """(log file, its current size): statements logged later start after this offset."""
    path = await _pg_log_file(admin_url)
    conn = await psycopg.AsyncConnection.connect(admin_url, autocommit=True)
    try:
        cur = await conn.execute("SELECT size FROM pg_stat_file(%s)", (path,))
        row = await cur.fetchone()
        assert row is not None
        return path, int(row[0])
    finally:
        await conn.close()


async def postgres_statements(admin_url: str, since: tuple[str, int], login: str, database: str) -> list[str]:
    """The statements ``login`` ran in ``database`` since ``since`` (from the server's own log)."""
    path, offset = since
    conn = await psycopg.AsyncConnection.connect(admin_url, autocommit=True)
    try:
        await conn.execute("SELECT 1")  # nothing; the log is written synchronously by backends
        cur = await conn.execute(
            "SELECT pg_read_binary_file(%s, %s, (pg_stat_file(%s)).size - %s)", (path, offset, path, offset)
        )
        row = await cur.fetchone()
    finally:
        await conn.close()
    text = bytes(row[0]).decode("utf-8", "replace") if row and row[0] is not None else ""
    return _statements_of(text, f" {login}@{database} ")


def _statements_of(log_text: str, marker: str) -> list[str]:
    """Statement texts (``statement:`` / ``execute …:`` lines and their continuation lines)."""
    statements: list[str] = []
    current: list[str] | None = None
    for line in log_text.split("\n"):
        if line.startswith("\t") and current is not None:
            current.append(line[1:])
            continue
        if current is not None:
            statements.append("\n".join(current))
            current = None
        if marker not in line:
            continue
        for tag in ("LOG:  statement: ", "LOG:  execute "):
            at = line.find(tag)
            if at >= 0:
                rest = line[at + len(tag) :]
                if tag == "LOG:  execute ":
                    rest = rest.split(": ", 1)[1] if ": " in rest else rest
                current = [rest]
                break
    if current is not None:
        statements.append("\n".join(current))
    return statements


async def _pg_log_file(admin_url: str) -> str:
    """The server's log file: pg_current_logfile() with the collector, else the Debian stderr file,
    else $SQLGATE_TEST_PG_LOG."""
    conn = await psycopg.AsyncConnection.connect(admin_url, autocommit=True)
    try:
        cur = await conn.execute(
            "SELECT pg_current_logfile(), current_setting('data_directory'),"
            " current_setting('server_version_num')::int / 10000"
        )
        row = await cur.fetchone()
        assert row is not None
        current, data_dir, major = row
        candidates = []
        if current:
            candidates.append(current if current.startswith("/") else f"{data_dir}/{current}")
        if os.environ.get("SQLGATE_TEST_PG_LOG"):
            candidates.append(os.environ["SQLGATE_TEST_PG_LOG"])
        candidates.append(f"/var/log/postgresql/postgresql-{major}-main.log")
        for path in candidates:
            try:
                await conn.execute("SELECT pg_stat_file(%s)", (path,))
                return path
            except psycopg.Error:
                continue
    finally:
        await conn.close()
    raise AssertionError(
        "cannot find the PostgreSQL server log (enable logging_collector or set SQLGATE_TEST_PG_LOG)"
    )


# ---------------------------------------------------------------------------------- MariaDB


@asynccontextmanager
async def mysql_datasource(admin_url: str, dataset: Any) -> AsyncIterator[Datasource]:
    """A MariaDB database with the dataset and a SELECT-only login."""
    import asyncmy

    name = unique_name("sqlgate_sec")
    login = unique_name("sgsec")[:32]
    password = secrets.token_hex(12)
    args = mysql_connect_args(admin_url)
    await load_mysql(admin_url, name, dataset)
    conn = await asyncmy.connect(**args, autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"CREATE TABLE `{name}`.{SECRETS_DDL}")
            await cur.execute(f"INSERT INTO `{name}`.{SECRETS_ROW}")
            await cur.execute(f"CREATE USER '{login}'@'%' IDENTIFIED BY '{password}'")
            await cur.execute(f"CREATE USER '{login}'@'localhost' IDENTIFIED BY '{password}'")
            await cur.execute(f"GRANT SELECT ON `{name}`.* TO '{login}'@'%'")
            await cur.execute(f"GRANT SELECT ON `{name}`.* TO '{login}'@'localhost'")
        params = {
            "host": args["host"],
            "port": str(args["port"]),
            "database": name,
            "user": login,
            "password": password,
        }
        yield Datasource("MYSQL", name, login, params, admin_url)
    finally:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP USER IF EXISTS '{login}'@'%'")
            await cur.execute(f"DROP USER IF EXISTS '{login}'@'localhost'")
        await conn.ensure_closed()
        await drop_mysql(admin_url, name)


@asynccontextmanager
async def mysql_general_log(admin_url: str) -> AsyncIterator[Any]:
    """Turn MariaDB's general log on (to the mysql.general_log table) for the block; restores the
    previous settings after. Yields the time it was turned on (rows before it are ignored)."""
    import asyncmy

    conn = await asyncmy.connect(**mysql_connect_args(admin_url), autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT @@global.general_log, @@global.log_output, NOW(6)")
            general, output, started = await cur.fetchone()
            await cur.execute("SET GLOBAL log_output = 'TABLE', general_log = 1")
        try:
            yield started
        finally:
            async with conn.cursor() as cur:
                await cur.execute(f"SET GLOBAL general_log = {int(general)}, log_output = '{output}'")
    finally:
        await conn.ensure_closed()


async def mysql_statements(admin_url: str, since: Any, login: str) -> list[tuple[str, str]]:
    """(command, statement) rows the server logged for ``login``'s connections since ``since``."""
    import asyncmy

    conn = await asyncmy.connect(**mysql_connect_args(admin_url), autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT DISTINCT thread_id FROM mysql.general_log WHERE event_time >= %s"
                " AND (user_host LIKE %s OR (command_type = 'Connect'"
                " AND CONVERT(argument USING utf8mb4) LIKE %s))",
                (since, f"{login}[%", f"{login}@%"),
            )
            threads = [row[0] for row in await cur.fetchall()]
            if not threads:
                return []
            marks = ", ".join(["%s"] * len(threads))
            await cur.execute(
                "SELECT command_type, CONVERT(argument USING utf8mb4) FROM mysql.general_log"
                f" WHERE event_time >= %s AND thread_id IN ({marks}) ORDER BY event_time",
                (since, *threads),
            )
            return [(str(c), str(a)) for c, a in await cur.fetchall()]
    finally:
        await conn.ensure_closed()
