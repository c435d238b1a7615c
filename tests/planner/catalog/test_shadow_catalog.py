"""The shadow catalog against a real PostgreSQL: what sessions see, what the catalog role may do,
and the limits every catalog statement runs under."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import psycopg
import pytest

from sqlgate.planner.catalog.server import CatalogServer
from tests.support.catalog import CatalogEnv, running_catalog_env
from tests.support.databases import PgServer


@pytest.fixture(scope="module")
async def small_env(
    pg_server: PgServer, metadata_template: str, catalog_role: str
) -> AsyncIterator[CatalogEnv]:
    """A gateway whose catalog statements may run 1 s and return 100 rows."""
    async with running_catalog_env(
        pg_server, metadata_template, catalog_role, catalog_statement_timeout=1.0, catalog_max_rows=100
    ) as env:
        yield env


OID_AND_VERSION = (
    "SELECT 'orders'::regclass::oid, current_setting('server_version_num')::int FROM pg_class LIMIT 1"
)


async def connect(env: CatalogEnv, **kwargs: object) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(env.dsn(**kwargs), autocommit=True)  # type: ignore[arg-type]


async def fetch(conn: psycopg.AsyncConnection, sql: str, *params: object) -> list[tuple]:
    cur = await conn.execute(sql, params or None)
    return await cur.fetchall()


async def test_a_session_sees_itself_not_the_catalog_server(small_env: CatalogEnv) -> None:
    user = small_env.owner.username
    async with await connect(small_env, application_name="viewer") as conn:
        pid = conn.info.backend_pid
        assert await fetch(conn, "SELECT datname FROM pg_database") == [("db",)]
        assert await fetch(conn, "SELECT rolname, rolsuper FROM pg_catalog.pg_roles") == [(user, False)]
        assert await fetch(conn, "SELECT usename FROM pg_user") == [(user,)]
        assert await fetch(conn, "SELECT pid, usename, application_name, datname FROM pg_stat_activity") == [
            (pid, user, "viewer", "db")
        ]
        assert await fetch(conn, "SELECT count(*) FROM pg_auth_members") == [(0,)]
        owners = await fetch(
            conn, "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relkind = 'r'"
        )
        assert owners == [(user,)]
        assert await fetch(
            conn,
            "SELECT current_user, session_user, current_database(), pg_backend_pid() FROM pg_class LIMIT 1",
        ) == [(user, user, "db", pid)]
        await conn.execute("SET search_path = public, pg_catalog")
        await conn.execute("SET application_name = 'renamed'")
        assert await fetch(
            conn,
            "SELECT current_setting('search_path'), current_setting('application_name')"
            " FROM pg_class LIMIT 1",
        ) == [("public, pg_catalog", "renamed")]
        assert await fetch(conn, "SELECT setting FROM pg_settings WHERE name = 'application_name'") == [
            ("renamed",)
        ]
        assert await fetch(
            conn, "SELECT catalog_name FROM information_schema.schemata WHERE schema_name = 'public'"
        ) == [("db",)]


async def test_statements_never_leak_settings_into_the_pooled_connection(small_env: CatalogEnv) -> None:
    async with await connect(small_env) as first:
        await fetch(first, "SELECT set_config('work_mem', '1234kB', false) FROM pg_class LIMIT 1")
        assert await fetch(first, "SELECT setting FROM pg_settings WHERE name = 'work_mem'") != [("1234",)]
    async with await connect(small_env) as second:
        assert await fetch(second, "SELECT setting FROM pg_settings WHERE name = 'work_mem'") != [("1234",)]


async def test_limits_time_and_rows(small_env: CatalogEnv) -> None:
    async with await connect(small_env) as conn:
        with pytest.raises(psycopg.errors.QueryCanceled):
            await conn.execute("SELECT pg_sleep(10) FROM pg_class LIMIT 1")
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as info:
            await conn.execute("SELECT * FROM pg_attribute")
        assert "100 rows" in str(info.value)
        assert len(await fetch(conn, "SELECT * FROM pg_attribute LIMIT 100")) == 100
        with pytest.raises(psycopg.errors.ProgramLimitExceeded):  # one huge value: refused unbuffered
            await conn.execute("SELECT repeat('x', 100000000) FROM pg_class LIMIT 1")
        assert await fetch(conn, "SELECT 1") == [(1,)]  # the session is fine afterwards


async def test_describe_does_not_execute(small_env: CatalogEnv) -> None:
    conn = await asyncpg.connect(small_env.url(), ssl=False)
    try:
        statement = await conn.prepare("SELECT pg_sleep(5)::text AS slept, relname FROM pg_class LIMIT 1")
        assert [a.name for a in statement.get_attributes()] == ["slept", "relname"]
        with pytest.raises(asyncpg.QueryCanceledError):
            await statement.fetch()
    finally:
        await conn.close()


async def test_refused_statements(small_env: CatalogEnv) -> None:
    async with await connect(small_env) as conn:
        for sql, error in (
            ("SELECT pg_read_file('/etc/passwd') FROM pg_class", psycopg.errors.InsufficientPrivilege),
            ("SELECT lo_import('/etc/passwd')", psycopg.errors.InsufficientPrivilege),
            ("SELECT o.status, c.relname FROM orders o, pg_class c", psycopg.errors.FeatureNotSupported),
            ("DELETE FROM pg_class", psycopg.errors.ReadOnlySqlTransaction),
        ):
            with pytest.raises(error):
                await conn.execute(sql)


async def test_the_catalog_role_has_no_rights_beyond_connect(
    small_env: CatalogEnv, pg_server: PgServer, catalog_role: str
) -> None:
    admin = await asyncpg.connect(pg_server.url)
    try:
        role = await admin.fetchrow("SELECT * FROM pg_roles WHERE rolname = $1", catalog_role)
        assert role["rolcanlogin"] and not any(
            role[k]
            for k in (
                "rolsuper",
                "rolcreatedb",
                "rolcreaterole",
                "rolreplication",
                "rolbypassrls",
                "rolinherit",
            )
        )
        assert not await admin.fetchval(
            "SELECT count(*) FROM pg_auth_members"
            " WHERE member = (SELECT oid FROM pg_roles WHERE rolname = $1)",
            catalog_role,
        )
        shadows = await admin.fetch(
            "SELECT datname, datacl::text[] AS acl FROM pg_database WHERE datname LIKE 'sqlgate\\_cat\\_%'"
            " AND has_database_privilege($1, oid, 'CONNECT')",
            catalog_role,
        )
        assert shadows and all(
            not any(a.startswith("=") for a in row["acl"]) for row in shadows
        )  # not PUBLIC
    finally:
        await admin.close()
    server: CatalogServer = small_env.gateway.catalog_server
    metadata_db = small_env.metadata_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(
        pg_server.url_for(metadata_db), user=catalog_role, password=server.options.role_password
    )
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT * FROM public.sql_credentials")
    finally:
        await conn.close()


async def test_visible_sets_have_their_own_databases_with_stable_oids(
    small_env: CatalogEnv, pg_server: PgServer, metadata_template: str, catalog_role: str
) -> None:
    async with await connect(small_env) as owner:
        first = await fetch(owner, OID_AND_VERSION)
    async with await psycopg.AsyncConnection.connect(
        small_env.dsn(small_env.member), autocommit=True
    ) as member:
        assert await fetch(
            member,
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace",
        ) == [("orders",)]
    assert len(small_env.gateway.catalog_server.databases) == 2
    # Another gateway (a restart, or a second process) uses the same database: the same OIDs.
    async with running_catalog_env(pg_server, metadata_template, catalog_role) as other:
        async with await connect(other) as conn:
            again = await fetch(conn, OID_AND_VERSION)
        assert again == first and first[0][1] == 150000
        assert other.gateway.catalog_server.databases <= small_env.gateway.catalog_server.databases


async def test_concurrent_builds_of_one_database_build_it_once(
    small_env: CatalogEnv, pg_server: PgServer
) -> None:
    options = small_env.gateway.catalog_server.options
    name = f"sqlgate_cat_race_{uuid.uuid4().hex[:8]}"
    builds = 0

    async def build(conn: object) -> None:
        nonlocal builds
        builds += 1
        await asyncio.sleep(0.2)

    servers = [CatalogServer(options) for _ in range(3)]
    try:
        await asyncio.gather(*(s.ensure_database(name, build) for s in servers))
        assert builds == 1
        admin = await asyncpg.connect(pg_server.url)
        try:
            names = await admin.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1", name + "%")
            assert [r["datname"] for r in names] == [name]
        finally:
            await admin.close()
    finally:
        for server in servers:
            await server.close()
