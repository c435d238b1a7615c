"""Joins with a grouped subquery that only filter (Superset's series limit, Tableau's Top N) become
``IN`` filters, and answer exactly what the join answers."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from sqlgate.planner.semantic.semijoin import semi_joins_as_filters
from tests.support.semantic_harness import assert_same_rows, run_semantic


def rewrite(sql: str) -> str | None:
    tree = sqlglot.parse_one(sql, read="postgres")
    assert isinstance(tree, exp.Select)
    result = semi_joins_as_filters(tree, lambda item: isinstance(item, exp.Table) and item.name == "orders")
    return result.sql("postgres") if result is not None else None


TOP = "(SELECT status AS s, MEASURE(count) AS n FROM orders GROUP BY status ORDER BY n DESC LIMIT 2)"


def test_equality_join_becomes_in() -> None:
    assert rewrite(f"SELECT status, MEASURE(count) FROM orders JOIN {TOP} AS t ON status = s GROUP BY 1") == (
        f'SELECT status, MEASURE(count) FROM orders WHERE (status IN (SELECT "t"."s" FROM {TOP} AS "t"))'
        " GROUP BY 1"
    )


def test_null_safe_join_also_matches_a_null_key() -> None:
    sql = rewrite(
        f"SELECT o.status FROM orders o INNER JOIN {TOP} t0 ON (o.status IS NOT DISTINCT FROM t0.s)"
        " WHERE o.id > 1"
    )
    assert sql is not None
    assert 'WHERE (o.status IN (SELECT "t0"."s" FROM' in sql
    assert (
        f'OR (o.status IS NULL AND EXISTS(SELECT 1 FROM {TOP} AS "t0" WHERE "t0"."s" IS NULL))) AND o.id > 1'
        in sql
    )


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT status FROM orders LEFT JOIN {TOP} t ON status = t.s",  # keeps unmatched rows
        f"SELECT status, t.n FROM orders JOIN {TOP} t ON status = t.s",  # reads the subquery
        f"SELECT * FROM orders JOIN {TOP} t ON status = t.s",
        "SELECT status FROM orders JOIN (SELECT status AS s, id FROM orders GROUP BY 1, 2) t ON status = t.s",
        "SELECT status FROM orders JOIN (SELECT status AS s FROM orders) t ON status = t.s",  # not unique
        f"SELECT status FROM orders JOIN {TOP} t ON status > t.s",
        f"SELECT status FROM users JOIN {TOP} t ON status = t.s",  # not a cube query
    ],
)
def test_joins_that_do_more_than_filter_are_left_alone(sql: str) -> None:
    assert rewrite(sql) is None


SEMANTIC_TOP_CITIES = (
    'SELECT "users"."city" AS "city", MEASURE("users"."count") AS "n" FROM "users" "users" INNER JOIN ('
    ' SELECT "users"."city" AS "city", MEASURE("users"."count") AS "x" FROM "users" "users"'
    ' GROUP BY 1 ORDER BY 1 NULLS FIRST LIMIT 2) "t0"'
    ' ON ("users"."city" IS NOT DISTINCT FROM "t0"."city") GROUP BY 1'
)
ORACLE_TOP_CITIES = {
    "*": "SELECT u.city, count(*) FROM users u JOIN (SELECT city FROM users GROUP BY 1 ORDER BY 1 NULLS FIRST"
    " LIMIT 2) t ON u.city IS NOT DISTINCT FROM t.city GROUP BY 1",
    "mysql": "SELECT u.city, count(*) FROM users u JOIN (SELECT city FROM users GROUP BY 1 ORDER BY 1"
    " LIMIT 2) t ON u.city <=> t.city GROUP BY 1",
}


async def test_top_n_join_answers_what_the_join_answers(dataset_source: Any) -> None:
    result = await run_semantic(SEMANTIC_TOP_CITIES, dataset_source)
    oracle = ORACLE_TOP_CITIES.get(dataset_source.dialect, ORACLE_TOP_CITIES["*"])
    expected = await dataset_source.fetch(oracle)
    assert any(row[0] is None for row in expected), "the top 2 must include the NULL city"
    assert_same_rows(result.rows, expected, ordered=False, label=dataset_source.dialect)
