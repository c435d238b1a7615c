"""The planner fuzz through a whole gateway in front of PostgreSQL (a smaller profile than DuckDB's).

asyncpg sends random SQL over the extended protocol (Parse/Describe/Bind/Execute) to an in-process
gateway whose semantic planner runs on the dataset in PostgreSQL (production driver). Every
statement ends in rows or an ErrorResponse with a proper SQLSTATE, the same connection keeps
answering, and queries with an oracle give the answer of hand-written SQL on the raw tables.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from hypothesis import given

from sqlgate.errors import PgError
from sqlgate.planner.semantic import PlanCache, prepare_semantic
from sqlgate.sources.registry import open_source
from tests.fuzz import sql_strategies as ss
from tests.fuzz.planner_harness import check_error
from tests.fuzz.profile import fuzz_settings
from tests.support.gateways import password_of, running_gateway
from tests.support.semantic_harness import StaticModels, StaticSources, assert_same_rows, fixture_model
from tests.support.sources import db_params_from_url

pytestmark = pytest.mark.slow

HANG_SECONDS = 30
ALIVE = "SELECT MEASURE(count) FROM orders"


@dataclass
class PgTarget:
    client: Any  # asyncpg connection to the gateway
    raw: Any  # asyncpg connection straight to the dataset
    alive: int


@pytest.fixture(scope="module")
async def pg_target(postgres_source: Any) -> AsyncIterator[PgTarget]:
    source = open_source("POSTGRES", db_params_from_url(postgres_source.url), name="fuzz-pg", pool_max_size=2)
    semantic = functools.partial(
        prepare_semantic,
        models=StaticModels(fixture_model()),
        sources=StaticSources(source),
        plan_cache=PlanCache(),
    )
    try:
        async with running_gateway(semantic=semantic) as gateway:
            client = await asyncpg.connect(
                host="127.0.0.1",
                port=gateway.port,
                user="alice",
                password=password_of("alice"),
                database="db",
                ssl=False,
                statement_cache_size=0,
            )
            raw = await asyncpg.connect(postgres_source.url, server_settings={"timezone": "UTC"})
            try:
                yield PgTarget(client, raw, int(await client.fetchval(ALIVE)))
            finally:
                await client.close()
                await raw.close()
    finally:
        await source.close()


async def _reset(client: Any) -> None:
    await client.execute("ROLLBACK")
    await client.execute("DISCARD ALL")


def _as_pg_error(exc: asyncpg.PostgresError) -> PgError:
    return PgError(exc.sqlstate or "", getattr(exc, "message", str(exc)) or str(exc))


@fuzz_settings(40, weight=0.1)
@given(sql=ss.any_sql())
async def test_random_sql_through_the_gateway(pg_target: PgTarget, sql: str) -> None:
    async with asyncio.timeout(HANG_SECONDS):
        try:
            await pg_target.client.fetch(sql)
        except asyncpg.PostgresError as exc:
            check_error(sql, _as_pg_error(exc))
        except asyncpg.InterfaceError:
            pass  # asyncpg itself refuses (e.g. a statement with $n but no arguments given)
        # The same connection keeps answering, once out of whatever transaction the statement began
        # (an error inside one leaves it aborted, as in PostgreSQL) and with its settings reset.
        await _reset(pg_target.client)
        assert await pg_target.client.fetchval(ALIVE) == pg_target.alive


@fuzz_settings(20, weight=0.05)
@given(query=ss.oracle_queries())
async def test_gateway_answers_match_sql_on_the_raw_tables(
    pg_target: PgTarget, query: ss.OracleQuery
) -> None:
    async with asyncio.timeout(HANG_SECONDS):
        await _reset(pg_target.client)
        got = [tuple(r) for r in await pg_target.client.fetch(query.semantic)]
        want = [tuple(r) for r in await pg_target.raw.fetch(query.raw)]
    assert_same_rows(got, want, ordered=False, tolerance=1e-9, label=query.semantic)
