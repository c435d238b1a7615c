"""The e-commerce fixture dataset loaded into each real database, session-wide.

Used by the planner's corpus tests and by the gateway corpus run in tests/e2e. Registered in
tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.support.databases import PgServer, create_pg_database, drop_pg_database, unique_name
from tests.support.dataset import (
    drop_mysql,
    generate,
    load_duckdb,
    load_mysql,
    load_postgres,
    mysql_connect_args,
)
from tests.support.direct_sources import DuckDBDirect, MySQLDirect, PostgresDirect


@pytest.fixture(scope="session")
def dataset() -> Any:
    return generate()


@pytest.fixture(scope="session")
async def postgres_source(pg_server: PgServer, dataset: Any) -> AsyncIterator[PostgresDirect]:
    """The dataset in a fresh PostgreSQL database (dropped at the end of the run)."""
    name = await create_pg_database(pg_server, prefix="sqlgate_semantic")
    try:
        url = pg_server.url_for(name)
        await load_postgres(url, dataset)
        source = PostgresDirect(url)
        yield source
        await source.close()
    finally:
        await drop_pg_database(pg_server, name)


@pytest.fixture(scope="session")
async def mysql_source(mysql_url: str, dataset: Any) -> AsyncIterator[MySQLDirect]:
    """The dataset in a fresh MariaDB/MySQL database (skipped with a reason when there is no server)."""
    name = unique_name("sqlgate_semantic")
    await load_mysql(mysql_url, name, dataset)
    source = MySQLDirect(mysql_connect_args(mysql_url), name)
    try:
        yield source
    finally:
        await source.close()
        await drop_mysql(mysql_url, name)


@pytest.fixture(scope="session")
def duckdb_source(dataset: Any) -> Iterator[DuckDBDirect]:
    """The dataset in an in-memory DuckDB."""
    import duckdb

    connection = duckdb.connect(":memory:")
    load_duckdb(connection, dataset)
    source = DuckDBDirect(connection)
    yield source
    connection.close()
