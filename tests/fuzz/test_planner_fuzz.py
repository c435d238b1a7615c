"""Fuzzing the planner with random SQL over the fixture models, run on a real DuckDB datasource.

Every statement must end in rows or a PgError with a SQLSTATE a client can act on — never an
internal error, another exception, or SQL the datasource rejects. A subset with a known answer
(single-cube grouped counts with random filters) is compared with SQL run directly on the dataset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqlgate.planner.core import CorePlanner
from sqlgate.planner.session import Session
from tests.fuzz import sql_strategies as ss
from tests.fuzz.planner_harness import RecordingSource, check_error, make_planner, run_sql
from tests.fuzz.profile import fuzz_settings
from tests.support.semantic_harness import assert_same_rows, make_session

HANG_SECONDS = 30
PARAM_VALUES = st.lists(
    st.one_of(
        st.none(), st.sampled_from([b"1", b"completed", b"2024-01-01", b"NaN", b"abc", b"-1", b"1e400"])
    ),
    max_size=2,
)


@pytest.fixture(scope="module")
def duckdb_planner(fuzz_duckdb_source: RecordingSource) -> CorePlanner:
    return make_planner(fuzz_duckdb_source)


@pytest.fixture
def duck_session() -> Session:
    return make_session("DUCKDB")


@fuzz_settings(250, weight=1.0)
@given(sql=ss.any_sql(), params=PARAM_VALUES)
async def test_random_sql_gives_rows_or_a_proper_error(
    duckdb_planner: CorePlanner,
    fuzz_duckdb_source: RecordingSource,
    duck_session: Session,
    sql: str,
    params: list[bytes | None],
) -> None:
    fuzz_duckdb_source.errors.clear()
    async with asyncio.timeout(HANG_SECONDS):  # a statement that never ends fails the test as a hang
        outcome = await run_sql(duckdb_planner, duck_session, sql, params)
    if outcome.error is not None:
        check_error(sql, outcome.error, fuzz_duckdb_source)


@pytest.fixture(scope="module")
def raw_duckdb(fuzz_duckdb_file: Path) -> Iterator[Any]:
    """A direct connection to the same dataset, for the oracle side."""
    import duckdb

    connection = duckdb.connect(str(fuzz_duckdb_file), read_only=True)
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


@fuzz_settings(60, weight=0.3)
@given(query=ss.oracle_queries())
async def test_answers_match_sql_on_the_raw_tables(
    duckdb_planner: CorePlanner, duck_session: Session, raw_duckdb: Any, query: ss.OracleQuery
) -> None:
    async with asyncio.timeout(HANG_SECONDS):
        outcome = await run_sql(duckdb_planner, duck_session, query.semantic)
    assert outcome.error is None, f"{query.semantic}: {outcome.error}"
    assert outcome.rows is not None
    expected = raw_duckdb.execute(query.raw).fetchall()
    assert_same_rows(outcome.rows, expected, ordered=False, tolerance=1e-9, label=query.semantic)


@fuzz_settings(100, weight=0.3)
@given(script=ss.session_scripts())
async def test_session_statements_give_rows_or_a_proper_error(
    duckdb_planner: CorePlanner, fuzz_duckdb_source: RecordingSource, script: list[str]
) -> None:
    """Statement sequences on one session: transactions, SET/SHOW, PREPARE/EXECUTE, cursors."""
    session = make_session("DUCKDB")
    for sql in script:
        fuzz_duckdb_source.errors.clear()
        async with asyncio.timeout(HANG_SECONDS):
            outcome = await run_sql(duckdb_planner, session, sql)
        if outcome.error is not None:
            check_error(sql, outcome.error, fuzz_duckdb_source)
            session.fail_transaction()
