"""Whole numbers compared with number dimensions are bound as BIGINT on PostgreSQL, so an index on an
integer column stays usable; other numbers keep NUMERIC (exact digits)."""

from __future__ import annotations

from typing import Any

import asyncpg

from sqlgate.planner.api import BoundParams
from tests.support.semantic_harness import make_session, prepare, run_semantic


async def _plan_text(postgres_source: Any, sql: str) -> str:
    statement = await prepare(sql, postgres_source)
    execution = await statement.execute(make_session(), BoundParams.from_values([]), [])
    try:
        return execution.sql
    finally:
        await execution.close()


async def test_whole_literal_uses_the_bigint_variant(postgres_source: Any) -> None:
    sql = "SELECT MEASURE(count) FROM orders WHERE id = 42"
    text = await _plan_text(postgres_source, sql)
    assert "AS BIGINT" in text and "AS DECIMAL" not in text
    conn = await asyncpg.connect(postgres_source.url)
    try:
        plan = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {text}", 42)
    finally:
        await conn.close()
    assert "Index" in plan  # the primary key index, not a sequential scan over a cast column


async def test_fractional_literal_keeps_numeric_and_the_right_answer(postgres_source: Any) -> None:
    text = await _plan_text(postgres_source, "SELECT MEASURE(count) FROM orders WHERE id = 42.5")
    assert "AS DECIMAL" in text
    result = await run_semantic("SELECT MEASURE(count) FROM orders WHERE id = 42.5", postgres_source)
    assert result.rows == [(0,)]
    result = await run_semantic("SELECT MEASURE(count) FROM orders WHERE id < 42.5", postgres_source)
    assert result.rows == [(42,)]


async def test_client_parameter_chooses_per_execution(postgres_source: Any) -> None:
    whole = await run_semantic("SELECT MEASURE(count) FROM orders WHERE id <= $1", postgres_source, ["10"])
    part = await run_semantic("SELECT MEASURE(count) FROM orders WHERE id <= $1", postgres_source, ["10.5"])
    assert whole.rows == part.rows == [(10,)]
