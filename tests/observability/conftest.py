"""The query log writes into a migrated metadata database (``metadata_url``, tests/support/metadata.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest


@pytest.fixture
def querylog_dsn(metadata_url: str) -> str:
    """A metadata database migrated to head."""
    return metadata_url


@pytest.fixture
async def meta(querylog_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(querylog_dsn)
    try:
        yield conn
    finally:
        await conn.close()
