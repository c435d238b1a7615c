"""SourceRegistry: one source per datasource, replaced (gracefully) when its db_params change."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sqlgate.auth.context import DatasourceInfo
from sqlgate.errors import PgError
from sqlgate.sources.registry import SourceRegistry
from tests.support.sources import collect, db_params_from_url


def datasource(ds_id: str, db_type: str, db_params: Any, name: str = "ds") -> DatasourceInfo:
    return DatasourceInfo(id=ds_id, name=name, db_type=db_type, db_params=db_params)


async def test_one_source_per_datasource_until_params_change(pg_database: str) -> None:
    registry = SourceRegistry(pool_max_size=2)
    params = db_params_from_url(pg_database)
    try:
        first = registry.get(datasource("a", "POSTGRES", params))
        assert registry.get(datasource("a", "POSTGRES", dict(params))) is first
        # Same settings written differently (int port, falsy keys) are the same settings.
        same = dict(params, port=int(params["port"]), ssl=False)
        assert registry.get(datasource("a", "POSTGRES", same)) is first
        other = registry.get(datasource("b", "POSTGRES", params))
        assert other is not first

        running = await first.open_cursor("SELECT g FROM generate_series(1, 5000) g", [])
        batches = running.batches(100)
        assert len(await anext(batches)) == 100
        changed = registry.get(datasource("a", "POSTGRES", dict(params, application="x")))
        assert changed is not first
        # The replaced pool closes gracefully: the running query still finishes.
        rest = [row async for batch in batches for row in batch]
        await running.close()
        assert len(rest) == 4900
        assert await collect(await changed.open_cursor("SELECT 1", [])) == [(1,)]
    finally:
        await registry.aclose()
    with pytest.raises(PgError) as info:
        await first.open_cursor("SELECT 1", [])
    assert info.value.sqlstate == "08006"


async def test_unsupported_type_is_0a000_from_get() -> None:
    registry = SourceRegistry()
    try:
        with pytest.raises(PgError) as info:
            registry.get(datasource("c", "CLICKHOUSE", {"host": "h"}))
        assert info.value.sqlstate == "0A000" and "CLICKHOUSE" in info.value.message
    finally:
        await registry.aclose()


async def test_datasource_name_labels_errors(tmp_path: Any) -> None:
    registry = SourceRegistry()
    try:
        source = registry.get(
            datasource("d", "DUCKDB", {"database": str(tmp_path / "x.duckdb")}, name="Sales")
        )
        with pytest.raises(PgError) as info:
            await source.open_cursor("SELECT 1", [])
        assert "'Sales'" in info.value.message
        assert registry.sources() == {"d": source}
    finally:
        await registry.aclose()


async def test_options_are_checked_up_front() -> None:
    with pytest.raises(TypeError):
        SourceRegistry(pool_size=3)


async def test_aclose_waits_for_replaced_sources() -> None:
    registry = SourceRegistry()
    old = registry.get(datasource("e", "DUCKDB", {}))
    assert await collect(await old.open_cursor("SELECT 1", [])) == [(1,)]
    new = registry.get(datasource("e", "DUCKDB", {"database": ":memory:", "extra": "1"}))
    assert new is not old
    await registry.aclose()
    await asyncio.sleep(0)
    with pytest.raises(PgError):
        await old.open_cursor("SELECT 1", [])
    with pytest.raises(RuntimeError):
        registry.get(datasource("e", "DUCKDB", {}))
