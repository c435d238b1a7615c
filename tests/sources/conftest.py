"""Fixtures for the driver tests: sources opened the way the gateway opens them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from sqlgate.sources.registry import open_source
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
