"""The model provider: compiled once per version, new versions picked up within the refresh time."""

from __future__ import annotations

import dataclasses

import pytest
import sqlglot

from sqlgate.auth.context import ModelVersion
from sqlgate.errors import PgError
from sqlgate.planner.semantic import prepare_semantic
from sqlgate.planner.semantic.models import CachedModelProvider
from sqlgate.semantic import ModelError
from tests.support.semantic_harness import StaticSources, make_session, model_files

V1 = [
    (
        "orders.yml",
        "cubes:\n  - name: orders\n    sql_table: orders\n"
        "    measures:\n      - {name: count, type: count}\n",
    )
]
V2 = [
    (
        "orders.yml",
        V1[0][1]
        + "  - name: users\n    sql_table: users\n    measures:\n      - {name: count, type: count}\n",
    )
]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_new_versions_are_served_after_the_refresh_interval() -> None:
    files = {"v1": V1, "v2": V2}
    current = {"ds-1": ModelVersion("v1", "b1", "sum-1")}
    loads: list[str] = []

    async def load_files(version_id: str) -> list[tuple[str, str]]:
        loads.append(version_id)
        return files[version_id]

    async def current_version(datasource_id: str) -> ModelVersion:
        return current[datasource_id]

    clock = Clock()
    provider = CachedModelProvider(load_files, current_version, refresh_seconds=2.0, clock=clock)
    ctx = make_session().ctx
    first = await provider.get(ctx)
    assert await provider.get(ctx) is first
    assert sorted(first.cubes) == ["orders"]
    current["ds-1"] = ModelVersion("v2", "b1", "sum-2")
    clock.now = 1.0
    assert await provider.get(ctx) is first  # within the refresh interval
    clock.now = 2.5
    second = await provider.get(ctx)
    assert sorted(second.cubes) == ["orders", "users"]
    assert loads == ["v1", "v2"]


async def test_no_model_means_no_tables_and_a_broken_model_is_f0000() -> None:
    async def no_files(version_id: str) -> list[tuple[str, str]]:
        return [
            (
                "bad.yml",
                "cubes:\n  - name: x\n    sql_table: t\n    measures:\n      - {name: m, type: summ}\n",
            )
        ]

    provider = CachedModelProvider(no_files)
    session = make_session()
    empty_ctx = dataclasses.replace(session.ctx, model_version=ModelVersion(None, None, ""))
    assert not (await provider.get(empty_ctx)).cubes
    with pytest.raises(ModelError):
        await provider.get(session.ctx)
    with pytest.raises(PgError) as caught:
        await prepare_semantic(
            sqlglot.parse_one("SELECT 1 FROM x"),
            "SELECT 1 FROM x",
            session,
            [],
            models=provider,
            sources=StaticSources(None),
        )
    assert caught.value.sqlstate == "F0000" and "bad.yml" in caught.value.message


async def test_without_a_version_loader_the_session_version_is_used() -> None:
    async def load_files(version_id: str) -> list[tuple[str, str]]:
        return model_files()

    provider = CachedModelProvider(load_files)
    model = await provider.get(make_session().ctx)
    assert "order_facts" in model.views
