# ruff: noqa: E501
"""Generated SQL for dialects we do not run here (ClickHouse, BigQuery, Snowflake, Trino) and
the guarantees that hold for every dialect: client values never appear in the SQL text."""

from __future__ import annotations

import pytest
import sqlglot

from sqlgate.planner.semantic import SemanticPlan, plan_statement
from tests.support.semantic_harness import fixture_model

DIALECTS = ("postgres", "mysql", "duckdb", "clickhouse", "bigquery", "snowflake", "trino")
STYLE = {"postgres": "numeric", "mysql": "format", "duckdb": "qmark"}

SHAPES = {
    "grouped": "SELECT status, MEASURE(count), SUM(total_discount) FROM orders WHERE status IN ('a', 'b')"
    " GROUP BY 1 HAVING MEASURE(count) > 3 ORDER BY 2 DESC LIMIT 10",
    "time": "SELECT DATE_TRUNC('week', created_at), DATE_TRUNC('quarter', created_at), MEASURE(count) FROM orders"
    " WHERE created_at >= '2024-01-01' GROUP BY 1, 2",
    "fan_out": "SELECT products_category, MEASURE(count), MEASURE(revenue) FROM order_facts GROUP BY 1",
    "approx": "SELECT MEASURE(customers_approx) FROM orders",
    "ilike": "SELECT note FROM orders WHERE note ILIKE 'gift%' LIMIT 5 OFFSET 5",
    "outer": "WITH t AS (SELECT status, MEASURE(count) c FROM orders GROUP BY 1)"
    " SELECT status, c, RANK() OVER (ORDER BY c DESC) FROM t UNION ALL SELECT 'x', 1, 1",
    "params": "SELECT id FROM orders WHERE status = $1 AND created_at < $2 ORDER BY id LIMIT $3",
}


def plan(sql: str, dialect: str) -> SemanticPlan:
    tree = sqlglot.parse_one(sql, read="postgres")
    return plan_statement(
        tree, sql, fixture_model(), dialect=dialect, paramstyle=STYLE.get(dialect, "numeric"), cache=None
    )[0]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_generated_sql_parses_back_in_its_dialect(dialect: str, shape: str) -> None:
    generated = plan(SHAPES[shape], dialect)
    text = generated.sql
    if generated.paramstyle == "numeric":
        text = text.replace("$", "@p")  # parse placeholders as identifiers-ish in every dialect
    elif generated.paramstyle == "format":
        text = text.replace("%s", "NULL").replace("%%", "%")
    assert sqlglot.parse_one(text.replace("?", "NULL"), read=dialect) is not None


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("clickhouse", ["dateTrunc('WEEK'", "uniq", "ILIKE"]),
        ("bigquery", ["TIMESTAMP_TRUNC(", "WEEK(MONDAY)", "APPROX_COUNT_DISTINCT", "LOWER("]),
        ("snowflake", ["DATE_TRUNC('WEEK'", "APPROX_COUNT_DISTINCT", "ILIKE"]),
        ("trino", ["DATE_TRUNC('WEEK'", "APPROX_DISTINCT", "LOWER("]),
        ("mysql", ["WEEKDAY(", "MAKEDATE(", "COUNT(DISTINCT", "LOWER("]),
        ("postgres", ["DATE_TRUNC('WEEK'", "COUNT(DISTINCT", "ILIKE"]),
        ("duckdb", ["DATE_TRUNC('WEEK'", "APPROX_COUNT_DISTINCT", "ILIKE"]),
    ],
)
def test_dialect_specific_spellings(dialect: str, expected: list[str]) -> None:
    text = " ".join(plan(SHAPES[s], dialect).sql for s in ("time", "approx", "ilike"))
    for fragment in expected:
        assert fragment.lower() in text.lower(), (fragment, text)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_client_values_never_reach_the_sql_text(dialect: str) -> None:
    sql = (
        "SELECT status, MEASURE(count) FROM orders WHERE status = 'x''); DROP TABLE orders; --'"
        " AND note LIKE 'zz%\\' AND user_id IN (424242, -7) AND created_at BETWEEN '2031-01-01' AND '2031-02-01'"
        " GROUP BY 1 HAVING SUM(total_discount) > 987.65"
    )
    generated = plan(sql, dialect)
    for value in ("DROP TABLE", "zz", "424242", "2031-01-01", "987.65", "-7"):
        assert value not in generated.sql
    assert len(generated.slots) == 7
    assert [s.oid for s in generated.slots] == [25, 25, 1700, 1700, 1114, 1114, 1700]


def test_placeholder_styles() -> None:
    sql = "SELECT id FROM orders WHERE status = $1 AND note LIKE '%a%' ORDER BY id LIMIT $2"
    assert "$1" in plan(sql, "postgres").sql and "$3" in plan(sql, "postgres").sql
    mysql = plan(sql, "mysql").sql
    assert mysql.count("%s") == 3 and "%%" not in mysql.replace("%s", "")  # no literal % left: all bound
    assert plan(sql, "duckdb").sql.count("?") == 3


def test_format_style_doubles_percent_signs_of_generated_text() -> None:
    # MySQL DATE_FORMAT patterns come from the planner, not the client: they must survive %-formatting.
    generated = plan("SELECT DATE_TRUNC('month', created_at), MEASURE(count) FROM orders GROUP BY 1", "mysql")
    assert "'%%Y-%%m-01 00:00:00'" in generated.sql


def test_parameter_types_are_inferred_for_describe() -> None:
    generated = plan(SHAPES["params"], "postgres")
    assert generated.param_oids == (25, 1114, 20)
    declared = plan_statement(
        sqlglot.parse_one(SHAPES["params"], read="postgres"),
        SHAPES["params"],
        fixture_model(),
        dialect="postgres",
        paramstyle="numeric",
        param_oids=[1043, 0, 23],
        cache=None,
    )[0]
    assert declared.param_oids == (1043, 1114, 23)  # what the client declared is what Describe says


def test_result_columns_are_typed_from_the_model() -> None:
    generated = plan(
        "SELECT status, created_at, DATE_TRUNC('day', created_at) AS d, is_shipped, discount, MEASURE(count),"
        " MEASURE(total_discount), MEASURE(customers), MEASURE(first_order_at), MEASURE(any_shipped),"
        " MEASURE(first_status), completed, __cubeJoinField, UPPER(status) AS u, MEASURE(count) * 2 AS twice"
        " FROM orders GROUP BY 1, 2, 3, 4, 5, 12, 13",
        "postgres",
    )
    assert [c.type_oid for c in generated.columns] == [
        25,
        1114,
        1114,
        16,
        1700,
        20,
        1700,
        20,
        1114,
        16,
        25,
        16,
        25,
        25,
        20,
    ]
    assert [c.name for c in generated.columns][:6] == [
        "status",
        "created_at",
        "d",
        "is_shipped",
        "discount",
        "measure",
    ]


def test_outer_expression_types() -> None:
    generated = plan(
        "SELECT DATE_TRUNC('month', t) AS m, EXTRACT(YEAR FROM t) AS y, t + INTERVAL '1 day' AS later,"
        " n / 7 AS weeks, n / 7.0 AS fraction, UPPER(s) AS u, n > 3 AS big, COUNT(*) OVER () AS total"
        " FROM (SELECT status AS s, MIN(created_at) AS t, MEASURE(count) AS n FROM orders GROUP BY 1) q",
        "duckdb",
    )
    assert [(c.name, c.type_oid) for c in generated.columns] == [
        ("m", 1114),
        ("y", 23),
        ("later", 1114),
        ("weeks", 20),
        ("fraction", 701),
        ("u", 25),
        ("big", 16),
        ("total", 20),
    ]
    assert '"q"."n" // 7' in generated.sql  # integer division, as PostgreSQL does it
    assert 'AS "c0"' in generated.sql  # top-level names are internal; clients get names from Describe


def test_merged_subqueries_keep_the_outer_column_names() -> None:
    generated = plan(
        "SELECT s, MEASURE(c) FROM (SELECT status AS s, count AS c FROM orders) q GROUP BY s", "postgres"
    )
    assert [c.name for c in generated.columns] == ["s", "measure"]
    assert "FROM orders" in generated.sql and "q" not in generated.sql.replace('AS "c', "")
