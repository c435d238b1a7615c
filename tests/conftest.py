"""Fixtures every test package may use. Layer-specific fixtures live in tests/<layer>/conftest.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from tests.support.catalog import catalog_env, catalog_role
from tests.support.databases import (
    PgServer,
    create_pg_database,
    drop_pg_database,
    drop_shadow_databases,
    find_mysql_url,
    find_pg_server,
    shadow_databases,
)
from tests.support.dataset_fixtures import dataset, duckdb_source, mysql_source, postgres_source
from tests.support.metadata import metadata_engine, metadata_login, metadata_template, metadata_url

__all__ = [
    "catalog_env",
    "catalog_role",
    "dataset",
    "duckdb_source",
    "metadata_engine",
    "metadata_login",
    "metadata_template",
    "metadata_url",
    "mysql_source",
    "postgres_source",
]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The PostgreSQL server of this run (env URL, local 5432, or an embedded one)."""
    server = find_pg_server()
    before = asyncio.run(shadow_databases(server))
    yield server
    # Gateways of the tests build shadow catalog databases on this server (kept by design in
    # production, where they are reused across restarts); drop the ones this run made.
    asyncio.run(drop_shadow_databases(server, keep=before))
    server.stop()


@pytest.fixture(scope="session")
def mysql_url() -> str:
    """Admin URL of a MariaDB/MySQL server; skips the test when none answers."""
    url = find_mysql_url()
    if url is None:
        pytest.skip("no MariaDB/MySQL server answers on 127.0.0.1:3306 and SQLGATE_TEST_MYSQL_URL is unset")
    return url


@pytest.fixture
async def pg_database(pg_server: PgServer) -> AsyncIterator[str]:
    """URL of a new empty PostgreSQL database, dropped after the test."""
    name = await create_pg_database(pg_server)
    try:
        yield pg_server.url_for(name)
    finally:
        await drop_pg_database(pg_server, name)


@pytest.fixture(scope="session")
def pg_database_factory(pg_server: PgServer) -> Iterator[Callable[[], object]]:
    """Create extra databases inside a test: ``url = await pg_database_factory()``; all dropped at the end."""
    created: list[str] = []

    async def make() -> str:
        name = await create_pg_database(pg_server)
        created.append(name)
        return pg_server.url_for(name)

    yield make

    import asyncio

    async def drop_all() -> None:
        for name in created:
            await drop_pg_database(pg_server, name)

    asyncio.run(drop_all())
