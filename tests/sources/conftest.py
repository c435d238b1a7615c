"""Fixtures for the driver tests: sources opened the way the gateway opens them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from sqlgate.sources.registry import open_source
from tests.support.databases import unique_name
from tests.support.sources import db_params_from_url


@pytest.fixture
async def pg_admin(pg_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test database, for setup and for watching pg_stat_activity."""
    conn = await asyncpg.connect(pg_database)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def pg_source(pg_database: str) -> AsyncIterator[Any]:
    """A PostgreSQL source on the test database, from string-port Synmetrix db_params."""
    source = open_source("POSTGRES", db_params_from_url(pg_database), name="test-pg", pool_max_size=4)
    try:
        yield source
    finally:
        await source.close()


@pytest.fixture
async def mysql_database(mysql_url: str) -> AsyncIterator[dict[str, Any]]:
    """A fresh MariaDB/MySQL database (dropped afterwards), as Synmetrix-style db_params."""
    import asyncmy

    params = db_params_from_url(mysql_url, database=unique_name("sqlgate_test"))
    admin = await asyncmy.connect(
        host=params["host"], port=int(params["port"] or 3306), user=params["user"],
        password=params["password"], autocommit=True,
    )  # fmt: skip
    try:
        async with admin.cursor() as cur:
            await cur.execute(f"CREATE DATABASE `{params['database']}`")
        yield params
    finally:
        async with admin.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{params['database']}`")
        admin.close()
