"""Regression tests for what the planner fuzzing (tests/fuzz) found, as plain examples.

Each ran on the real DuckDB dataset through the planner; the comment says what happened before.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sqlgate.errors import PgError
from sqlgate.pgproto import oids
from sqlgate.pgproto.values import decode_value
from sqlgate.planner.semantic.params import convert
from tests.support.semantic_harness import run_semantic


async def _error_of(sql: str, source: Any, params: tuple[Any, ...] = ()) -> PgError:
    with pytest.raises(PgError) as info:
        await run_semantic(sql, source, params)
    return info.value


@pytest.mark.parametrize(
    "sql",
    [
        # int(Decimal("1e999999")) built a million-digit integer: 70 s of CPU on the event loop, and
        # the whole gateway stalled, for one comparison literal.
        "SELECT status, MEASURE(count) FROM orders GROUP BY 1 HAVING MEASURE(count) != 1e999999",
        "SELECT status FROM orders WHERE id = 1e999999 GROUP BY 1",
        "SELECT status FROM orders WHERE discount > 1e999999 GROUP BY 1",
        "SELECT status FROM orders WHERE discount > -1e-999999 GROUP BY 1",
    ],
)
async def test_numeric_literals_beyond_postgres_range_are_22003(sql: str, duckdb_source: Any) -> None:
    assert (await _error_of(sql, duckdb_source)).sqlstate == "22003"


async def test_integer_comparison_beyond_bigint_is_22003(duckdb_source: Any) -> None:
    # Used to reach DuckDB as a 128-bit overflow reported as 58000 (a datasource failure).
    error = await _error_of("SELECT MEASURE(count) FROM orders HAVING MEASURE(count) <> 1e30", duckdb_source)
    assert error.sqlstate == "22003"


async def test_numeric_in_range_still_works(duckdb_source: Any) -> None:
    result = await run_semantic("SELECT MEASURE(count) FROM orders WHERE discount < 1e300", duckdb_source)
    assert result.rows[0][0] > 0


@pytest.mark.parametrize(
    ("value", "oid"),
    [
        (Decimal("1e999999"), oids.INT8),
        (Decimal("-1e999999"), oids.INT4),
        (Decimal("Infinity"), oids.INT8),
        (float("inf"), oids.INT8),
        (Decimal("1e999999"), oids.NUMERIC),
        ("1e999999", oids.NUMERIC),
        (10**30, oids.INT8),
    ],
)
def test_bound_values_out_of_range_are_22003(value: Any, oid: int) -> None:
    with pytest.raises(PgError) as info:
        convert(value, oid)
    assert info.value.sqlstate == "22003"


def test_numeric_parameter_text_beyond_postgres_range_is_22003() -> None:
    # A client's $1 = '1e999999' took the same path as the literal.
    with pytest.raises(PgError) as info:
        decode_value(b"1e999999", oids.NUMERIC)
    assert info.value.sqlstate == "22003"
    assert decode_value(b"1e131071", oids.NUMERIC) == Decimal("1e131071")


@pytest.mark.parametrize(
    ("sql", "sqlstate"),
    [
        # int("1.5") raised ValueError: an internal error (XX000) instead of PostgreSQL's 42601.
        ("SELECT status FROM orders GROUP BY 1 ORDER BY 1.5", "42601"),
        ("SELECT status FROM orders GROUP BY 1.5", "42601"),
        ("SELECT * FROM (SELECT status FROM orders GROUP BY 1) q ORDER BY 1e3", "42601"),
        ("SELECT * FROM (SELECT status FROM orders GROUP BY 1) q GROUP BY 2.0", "42601"),
        ("SELECT status FROM orders GROUP BY 99999999999999999999", "42P10"),
        # A bare SELECT reached the datasource as "SELECT" (a syntax error there).
        ("SELECT", "0A000"),
    ],
)
async def test_positions_and_empty_select_lists(sql: str, sqlstate: str, duckdb_source: Any) -> None:
    assert (await _error_of(sql, duckdb_source)).sqlstate == sqlstate


@pytest.mark.parametrize(
    "sql",
    [
        # Two equal constant items: ORDER BY 2 was rendered as "ORDER BY 0" (a position out of
        # range) or "ORDER BY 'a'" (refused by DuckDB), reported as 58000.
        "SELECT id, 0, 0 FROM products GROUP BY 1, 2, 3 ORDER BY 2, 1 LIMIT 3",
        "SELECT DISTINCT id, 'a', 'a' FROM products GROUP BY 1, 2, 3 ORDER BY 3 DESC, 1 LIMIT 3",
        "SELECT FALSE, FALSE, MEASURE(count) FROM users ORDER BY 2",
    ],
)
async def test_order_by_a_repeated_constant_item(sql: str, duckdb_source: Any, postgres_source: Any) -> None:
    result = await run_semantic(sql, duckdb_source)
    reference = await run_semantic(sql, postgres_source)
    assert result.rows == reference.rows and result.rows


async def test_limit_inside_an_unparenthesised_union_operand_is_42601(duckdb_source: Any) -> None:
    # sqlglot parsed it; the generated SQL then failed on the datasource.
    sql = "SELECT status FROM orders GROUP BY 1 OFFSET 0 UNION SELECT status FROM orders GROUP BY 1"
    assert (await _error_of(sql, duckdb_source)).sqlstate == "42601"
    parenthesised = (
        "(SELECT status FROM orders GROUP BY 1 LIMIT 1) UNION SELECT status FROM orders GROUP BY 1"
    )
    assert len((await run_semantic(parenthesised, duckdb_source)).rows) == 5


@pytest.mark.parametrize(
    "sql",
    [
        # A CTE query whose FROM was lost: "SELECT * t" reached DuckDB as a FROM-less star (58000).
        "WITH t AS (SELECT MEASURE(count) FROM orders) SELECT * t ORDER BY 1",
        "SELECT *",
    ],
)
async def test_star_without_from_is_42601(sql: str, duckdb_source: Any) -> None:
    assert (await _error_of(sql, duckdb_source)).sqlstate == "42601"


async def test_boolean_measure_of_a_multi_cube_query_compared_in_having(
    duckdb_source: Any, postgres_source: Any
) -> None:
    # Rendered "HAVING MAX(l1) = 1 = TRUE": a syntax error on the datasource.
    base = "SELECT MEASURE(users.count) FROM orders CROSS JOIN users HAVING MEASURE(orders.any_shipped) = "
    for source in (duckdb_source, postgres_source):
        assert (await run_semantic(base + "TRUE", source)).rows == [(400,)]
        assert (await run_semantic(base + "FALSE", source)).rows == []
