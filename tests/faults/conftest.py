"""Fixtures of the limit and fault tests: a real PostgreSQL datasource registered in a real metadata
database (see tests/support/warehouse.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.metadata import SeededLogin
from tests.support.warehouse import seed_warehouse


@pytest.fixture
async def warehouse(metadata_engine: Any, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> SeededLogin:
    """``pg_database`` filled with ``orders`` and registered, with its model, in ``metadata_url``."""
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")  # fast hashes in tests
    return await seed_warehouse(metadata_engine, pg_database)
