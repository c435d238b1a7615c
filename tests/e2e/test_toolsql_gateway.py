"""The tool-SQL corpus replayed through sqlgate (issue 5, item 3).

Every entry of tests/e2e/toolsql/ runs on its own fresh connection to a gateway serving the corpus
model (cubes orders/users/products/line_items on a real PostgreSQL datasource, catalog answered by
shadow databases), with the entry's protocol — simple Query, extended Parse/Bind/Describe/Execute/Sync,
or a pipeline with one Sync — and its answer is checked with the same checker as the PostgreSQL
self-test. Where sqlgate deliberately answers differently (it never writes; some query shapes are
refused with 0A000), the entry says so with ``gateway_expect`` and a ``gateway_reason``.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.support.catalog import CatalogEnv
from tests.support.toolsql import Step, StepResult, ToolStatement, check, load_corpus
from tests.support.toolsql_replay import run_statement, run_statement_asyncpg

pytestmark = pytest.mark.e2e

CORPUS = load_corpus()


ASYNCPG = [s for s in CORPUS if s.tool == "asyncpg" and all(st.protocol == "extended" for st in s.steps)]


@pytest.mark.parametrize("statement", CORPUS, ids=[s.id for s in CORPUS])
async def test_statement_through_the_gateway(catalog_env: CatalogEnv, statement: ToolStatement) -> None:
    outcomes = await asyncio.to_thread(run_statement, catalog_env.dsn(), statement, gateway=True)
    assert_answered(statement, outcomes)


@pytest.mark.parametrize("statement", ASYNCPG, ids=[s.id for s in ASYNCPG])
async def test_asyncpg_entry_through_asyncpg(catalog_env: CatalogEnv, statement: ToolStatement) -> None:
    """asyncpg's own statements through asyncpg itself: Parse + Describe + Flush, binary parameters
    (the oid[] of its type introspection) and binary results."""
    conn = await asyncpg.connect(catalog_env.url(), ssl=False)
    try:
        outcomes = await run_statement_asyncpg(conn, statement)
    finally:
        await conn.close()
    assert_answered(statement, outcomes)


def assert_answered(statement: ToolStatement, outcomes: list[tuple[Step, StepResult]]) -> None:
    failures = [
        f"step {i + 1}: {r.sqlstate} {r.message}"
        for i, (s, r) in enumerate(outcomes)
        if r.sqlstate is not None and s.expect_from_gateway.error is None
    ]
    assert not failures, failures
    assert len(outcomes) == len(statement.steps)
    problems = [
        f"step {i + 1}: {p}"
        for i, (step, result) in enumerate(outcomes)
        for p in check(step.expect_from_gateway, result)
    ]
    assert not problems, problems


def test_every_difference_from_postgresql_is_justified() -> None:
    justified = [s for s in CORPUS if s.gateway_reason]
    for statement in justified:
        assert len(statement.gateway_reason or "") > 80, f"{statement.id}: say why and what the tool does"
        assert any(step.gateway_expect is not None for step in statement.steps)
    # Kept small on purpose: each one is a deliberate refusal, listed in the corpus README.
    assert len(justified) <= 10, [s.id for s in justified]
