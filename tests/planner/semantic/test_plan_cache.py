"""Plans are cached by query shape: other values reuse the plan, other shapes do not."""

from __future__ import annotations

import sqlglot

from sqlgate.planner.semantic import PlanCache, plan_statement
from tests.support.semantic_harness import fixture_model


def run(sql: str, cache: PlanCache, dialect: str = "postgres"):
    tree = sqlglot.parse_one(sql, read="postgres")
    return plan_statement(tree, sql, fixture_model(), dialect=dialect, paramstyle="numeric", cache=cache)


def test_same_text_and_same_shape_share_the_plan() -> None:
    cache = PlanCache()
    first, lifted_a = run("SELECT MEASURE(count) FROM orders WHERE status = 'a' AND id IN (1, 2, 3)", cache)
    again, _ = run("SELECT MEASURE(count) FROM orders WHERE status = 'a' AND id IN (1, 2, 3)", cache)
    other, lifted_c = run("SELECT MEASURE(count) FROM orders WHERE status = 'zz' AND id IN (7, 8, 9)", cache)
    assert first is again is other
    assert [v.value for v in lifted_a] == ["a", 1, 2, 3]
    assert [v.value for v in lifted_c] == ["zz", 7, 8, 9]
    assert cache.hits >= 2


def test_different_shapes_get_different_plans() -> None:
    cache = PlanCache()
    month, _ = run("SELECT DATE_TRUNC('month', created_at), MEASURE(count) FROM orders GROUP BY 1", cache)
    year, _ = run("SELECT DATE_TRUNC('year', created_at), MEASURE(count) FROM orders GROUP BY 1", cache)
    limit5, _ = run("SELECT id FROM orders ORDER BY id LIMIT 5", cache)
    limit6, _ = run("SELECT id FROM orders ORDER BY id LIMIT 6", cache)
    two, _ = run("SELECT MEASURE(count) FROM orders WHERE id IN (1, 2)", cache)
    three, _ = run("SELECT MEASURE(count) FROM orders WHERE id IN (1, 2, 3)", cache)
    assert month is not year and "YEAR" in year.sql
    assert limit5 is not limit6 and "LIMIT 6" in limit6.sql
    assert two is not three and len(three.slots) == 3


def test_dialect_and_declared_types_are_part_of_the_key() -> None:
    cache = PlanCache()
    sql = "SELECT MEASURE(count) FROM orders WHERE status = $1"
    tree = sqlglot.parse_one(sql, read="postgres")
    pg = plan_statement(tree, sql, fixture_model(), dialect="postgres", paramstyle="numeric", cache=cache)[0]
    duck = plan_statement(tree, sql, fixture_model(), dialect="duckdb", paramstyle="qmark", cache=cache)[0]
    typed = plan_statement(
        tree, sql, fixture_model(), dialect="postgres", paramstyle="numeric", param_oids=[1043], cache=cache
    )[0]
    assert pg is not duck and pg is not typed
    assert typed.param_oids == (1043,)


def test_cache_is_bounded() -> None:
    cache = PlanCache(max_entries=4)
    for i in range(10):
        run(f"SELECT id FROM orders LIMIT {i}", cache)
    assert len(cache) == 4
