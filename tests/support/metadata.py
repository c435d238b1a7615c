"""Freshly migrated Synmetrix metadata databases for tests.

The migrations run once per test session into a template database; each test then gets its own copy
(``CREATE DATABASE … TEMPLATE``, a file copy that takes milliseconds) and drops it afterwards.

Fixtures (registered in tests/conftest.py):
- ``metadata_url``: URL of a new metadata database at head, empty apart from the enum rows.
- ``metadata_engine``: an async engine (asyncpg) on ``metadata_url``, disposed after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.databases import PgServer, create_pg_database, drop_pg_database, unique_name


async def create_metadata_template(server: PgServer) -> str:
    """A new database migrated to head, to be used as a template; returns its name."""
    from sqlgate.metastore.migrate import upgrade

    name = await create_pg_database(server, prefix="sqlgate_meta_tpl")
    await upgrade(server.url_for(name))
    return name


async def copy_database(server: PgServer, template: str, prefix: str = "sqlgate_meta") -> str:
    """A new database copied from ``template``; returns its name."""
    import asyncpg

    name = unique_name(prefix)
    conn = await asyncpg.connect(server.url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return name


@pytest.fixture(scope="session")
async def metadata_template(pg_server: PgServer) -> AsyncIterator[str]:
    """Name of this session's migrated template database (never connect to it: copies would fail)."""
    name = await create_metadata_template(pg_server)
    try:
        yield name
    finally:
        await drop_pg_database(pg_server, name)


@pytest.fixture
async def metadata_url(pg_server: PgServer, metadata_template: str) -> AsyncIterator[str]:
    """URL of a new metadata database migrated to head (dropped after the test)."""
    name = await copy_database(pg_server, metadata_template)
    try:
        yield pg_server.url_for(name)
    finally:
        await drop_pg_database(pg_server, name)


@pytest.fixture
async def metadata_engine(metadata_url: str) -> AsyncIterator[object]:
    """An async SQLAlchemy engine on ``metadata_url``."""
    from sqlgate.metastore.engine import create_metadata_engine

    engine = create_metadata_engine(metadata_url)
    try:
        yield engine
    finally:
        await engine.dispose()
