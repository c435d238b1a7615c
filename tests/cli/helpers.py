"""Look into the metadata database from synchronous CLI tests."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.metastore.catalog import fetch_all


def query(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of ``sql`` on the database at ``url``."""
    return asyncio.run(fetch_all(url, sql, *args))


def scalar(url: str, sql: str, *args: Any) -> Any:
    """The single value of ``sql``."""
    rows = query(url, sql, *args)
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return next(iter(rows[0].values()))
