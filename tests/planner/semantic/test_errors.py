# ruff: noqa: E501
"""What the planner refuses, and with which SQLSTATE (no datasource involved)."""

from __future__ import annotations

import pytest
import sqlglot

from sqlgate.errors import PgError
from sqlgate.planner.semantic import SemanticPlan, plan_statement
from sqlgate.semantic import compile_model
from tests.support.semantic_harness import fixture_model, model_files


def plan(sql: str, dialect: str = "postgres", model=None) -> SemanticPlan:
    tree = sqlglot.parse_one(sql, read="postgres")
    style = {"postgres": "numeric", "mysql": "format", "duckdb": "qmark"}.get(dialect, "numeric")
    return plan_statement(tree, sql, model or fixture_model(), dialect=dialect, paramstyle=style, cache=None)[
        0
    ]


def refused(sql: str, model=None) -> PgError:
    with pytest.raises(PgError) as caught:
        plan(sql, model=model)
    return caught.value


@pytest.mark.parametrize(
    ("sql", "sqlstate", "words"),
    [
        ("SELECT MEASURE(count) FROM nope", "42P01", "nope"),
        ("SELECT MEASURE(count) FROM other_schema.orders", "42P01", "other_schema.orders"),
        ("SELECT status FROM orders o WHERE x.status = 'a'", "42P01", '"x"'),
        ("SELECT nope FROM orders", "42703", '"nope"'),
        ("SELECT q.nope FROM (SELECT status FROM orders) q", "42703", "nope"),
        ("SELECT count FROM orders CROSS JOIN users", "42702", "ambiguous"),
        ("SELECT status, MEASURE(count) FROM orders", "42803", '"status" must appear in the GROUP BY'),
        (
            "SELECT status, count FROM orders GROUP BY 1",
            "42803",
            "measure 'count' must be used with MEASURE()",
        ),
        ("SELECT MAX(min_discount) FROM orders", "42803", "'min_discount' is MIN() but MAX() was provided"),
        ("SELECT SUM(count) FROM orders", "42803", "is COUNT() but SUM() was provided"),
        ("SELECT COUNT(customers) FROM orders", "42803", "is COUNT(DISTINCT) but COUNT() was provided"),
        ("SELECT MIN(any_shipped) FROM orders", "42803", "is MEASURE() but MIN() was provided"),
        ("SELECT MEASURE(status) FROM orders", "42803", "'status' is a dimension"),
        ("SELECT MEASURE(count) FROM orders WHERE count > 3", "42803", "cannot be used in WHERE"),
        ("SELECT status FROM orders WHERE MEASURE(count) > 3", "42803", "not allowed in WHERE"),
        ("SELECT status FROM orders GROUP BY MEASURE(count)", "42803", "not allowed in GROUP BY"),
        ("SELECT MAX(MEASURE(count)) FROM orders", "42803", "cannot be nested"),
        ("SELECT status, MEASURE(count) FROM orders GROUP BY 3", "42P10", "GROUP BY position 3"),
        ("SELECT status FROM orders ORDER BY 2", "42P10", "ORDER BY position 2"),
        ("SELECT status FROM orders LIMIT -1", "2201W", "LIMIT must not be negative"),
        ("SELECT MEASURE(count) FROM orders WHERE __user = 'alice'", "42501", "__user"),
        ("SELECT MEASURE(count) FROM orders WHERE status = 'a' OR __user IN ('b')", "42501", "__user"),
        ("SELECT pg_read_file('/etc/passwd') FROM orders", "0A000", "pg_read_file"),
        ("SELECT status, dblink('x', 'y') FROM orders", "0A000", "dblink"),
        ("SELECT set_config('role', 'x', false) FROM orders", "0A000", "set_config"),
        ("SELECT current_user, MEASURE(count) FROM orders GROUP BY 1", "0A000", "current_user"),
        ("SELECT version() FROM (SELECT status FROM orders) q", "0A000", "version"),
        ("SELECT CAST(status AS regclass) FROM orders", "0A000", "cast to"),
        ("SELECT * FROM orders, pg_catalog.pg_class", "0A000", "catalog"),
        ("SELECT * FROM orders JOIN information_schema.tables t ON true", "0A000", "catalog"),
        ("SELECT DATE_TRUNC('millennium', created_at) FROM orders", "0A000", "millennium"),
        ("SELECT o.status FROM orders o JOIN users u ON o.user_id = u.id", "0A000", "__cubeJoinField"),
        ("SELECT o.status FROM orders o CROSS JOIN orders p", "0A000", "self-joins"),
        ("SELECT status FROM order_facts CROSS JOIN users", "0A000", "view cannot be joined"),
        ("SELECT users.city FROM completed_orders CROSS JOIN users", "0A000", "join path"),
        ("SELECT status, RANK() OVER (ORDER BY status) FROM orders", "0A000", "window functions"),
        ("WITH RECURSIVE t AS (SELECT status FROM orders) SELECT * FROM t", "0A000", "RECURSIVE"),
        (
            "SELECT status FROM orders JOIN (SELECT 1 AS x) q ON true",
            "0A000",
            "cannot be joined with subqueries",
        ),
        ("SELECT * FROM (SELECT status FROM orders) q JOIN nope ON true", "42P01", "nope"),
        (
            "SELECT MEASURE(c) FROM (SELECT status, MEASURE(count) c FROM orders GROUP BY 1) q",
            "0A000",
            "MEASURE()",
        ),
        (
            "SELECT status FROM orders UNION ALL SELECT city, country FROM users",
            "42601",
            "same number of columns",
        ),
        ("SELECT SUM(count * 2) FROM orders", "0A000", "expression of measure 'count'"),
        ("SELECT status FROM orders FOR UPDATE", "0A000", "LOCKS"),
        (
            "SELECT status FROM orders WHERE status IN (SELECT name FROM pg_catalog.pg_roles)",
            "0A000",
            "catalog",
        ),
        ("SELECT __cubeJoinField FROM orders ORDER BY __cubeJoinField", "0A000", "__cubeJoinField"),
        ("SELECT * FROM orders NATURAL JOIN users", "0A000", "NATURAL JOIN"),
        ("SELECT status FROM orders TABLESAMPLE SYSTEM (10)", "0A000", "SAMPLE"),
        ("SELECT status FROM orders WHERE status = $0", "42704", "no parameter $0"),
        ("SELECT MEASURE(count) FROM orders GROUP BY ROLLUP(status)", "0A000", "ROLLUP"),
        ("SELECT status FROM orders WHERE status = ANY(ARRAY['a'])", "0A000", "array"),
        ("SELECT status FROM orders WHERE status COLLATE \"C\" = 'a'", "0A000", "collate"),
        ("SELECT json_build_object('a', status) FROM orders", "0A000", "json_build_object"),
        ("SELECT status FROM orders LIMIT 'ten'", "0A000", "LIMIT"),
        ("SELECT status FROM orders FETCH FIRST 10 PERCENT ROWS ONLY", "0A000", "PERCENT"),
    ],
)
def test_refusals(sql: str, sqlstate: str, words: str) -> None:
    error = refused(sql)
    assert error.sqlstate == sqlstate, error.message
    assert words in error.message


def test_non_select_statements_are_refused() -> None:
    tree = sqlglot.parse_one("DELETE FROM orders", read="postgres")
    with pytest.raises(PgError) as caught:
        plan_statement(
            tree, "DELETE FROM orders", fixture_model(), dialect="postgres", paramstyle="numeric", cache=None
        )
    assert caught.value.sqlstate == "0A000"


def test_count_star_needs_a_count_measure_when_joined() -> None:
    model = compile_model(
        [
            *model_files(),
            (
                "extra.yml",
                "cubes:\n  - name: plain\n    sql_table: products\n    joins:\n      - name: users\n"
                "        relationship: many_to_one\n        sql: '{CUBE}.id = {users.id}'\n    dimensions:\n"
                "      - name: id\n        sql: id\n        type: number\n",
            ),
        ]
    )
    assert plan("SELECT COUNT(*) FROM plain", model=model).columns[0].type_oid == 20  # ad-hoc row count
    error = refused("SELECT COUNT(*) FROM plain CROSS JOIN users", model=model)
    assert error.sqlstate == "0A000" and "measure of type count" in error.message


def test_model_problems_found_while_planning_name_the_member() -> None:
    text = (
        "cubes:\n  - name: broken\n    sql_table: orders\n    measures:\n      - name: raw\n        type: number\n"
        "        sql: '{CUBE}.discount'\n      - name: bad_sql\n        type: sum\n        sql: 'discount +* 2'\n"
        "    dimensions:\n      - name: id\n        sql: id\n        type: number\n        primary_key: true\n"
    )
    model = compile_model([("broken.yml", text)])
    error = refused("SELECT MEASURE(raw) FROM broken", model=model)
    assert error.sqlstate == "F0000"
    assert (
        "broken.yml" in error.message
        and "measure 'raw'" in error.message
        and "must aggregate" in error.message
    )
    error = refused("SELECT MEASURE(bad_sql) FROM broken", model=model)
    assert (
        error.sqlstate == "F0000" and "measure 'bad_sql'" in error.message and "invalid SQL" in error.message
    )


def test_multiplied_cube_without_primary_key_is_refused() -> None:
    text = (
        "cubes:\n  - name: a\n    sql_table: orders\n    joins:\n      - name: b\n        relationship: one_to_many\n"
        "        sql: '{CUBE}.id = {b}.order_id'\n    measures:\n      - name: total\n        type: sum\n"
        "        sql: discount\n    dimensions:\n      - name: status\n        sql: status\n        type: string\n"
        "  - name: b\n    sql_table: line_items\n    measures:\n      - name: count\n        type: count\n"
        "    dimensions:\n      - name: id\n        sql: id\n        type: number\n        primary_key: true\n"
    )
    model = compile_model([("ab.yml", text)])
    error = refused(
        "SELECT a.status, MEASURE(a.total), MEASURE(b.count) FROM a CROSS JOIN b GROUP BY 1", model=model
    )
    assert error.sqlstate == "0A000" and "needs a primary_key" in error.message
    # without the one-to-many side in the query there is no fan-out, so no key is needed
    assert plan("SELECT a.status, MEASURE(a.total) FROM a GROUP BY 1", model=model).sql


def test_limit_all_means_no_limit() -> None:
    assert "LIMIT" not in plan("SELECT status FROM orders LIMIT ALL").sql
