"""Random combinations of clauses: the planner answers with a plan or a PgError, nothing else."""

from __future__ import annotations

import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlgate.errors import PgError
from sqlgate.planner.semantic import plan_statement
from tests.support.semantic_harness import fixture_model

TABLES = [
    "orders",
    "users",
    "order_facts",
    "orders CROSS JOIN users",
    "orders o CROSS JOIN line_items li",
    "nope",
]
ITEMS = [
    "status",
    "MEASURE(count)",
    "COUNT(*)",
    "SUM(total_discount)",
    "MAX(min_discount)",
    "city",
    "*",
    "DATE_TRUNC('month', created_at)",
    "UPPER(status) AS u",
    "count",
    "__user",
    "users.country",
    "MEASURE(completed_share) * 2",
    "COALESCE(discount, 0)",
    "(SELECT MEASURE(count) FROM users)",
    "CASE WHEN status = 'a' THEN 1 ELSE 0 END",
    "completed",
    "MIN(created_at)",
    "$1",
    "li.quantity",
]
WHERES = [
    "",
    "WHERE status = 'x'",
    "WHERE completed",
    "WHERE created_at >= '2024-01-01'",
    "WHERE discount > $1",
    "WHERE __user = 'u'",
    "WHERE count > 1",
    "WHERE id IN (1, 2, 3)",
    "WHERE note LIKE '%a'",
    "WHERE NOT (status IN ('a') OR discount IS NULL)",
    "WHERE city = 'Berlin'",
]
TAILS = [
    "",
    "GROUP BY 1",
    "GROUP BY 1, 2",
    "GROUP BY status",
    "GROUP BY 1 HAVING MEASURE(count) > 2",
    "ORDER BY 1 DESC",
    "GROUP BY 1 ORDER BY 2 LIMIT 3",
    "LIMIT 5 OFFSET 2",
    "GROUP BY 7",
    "ORDER BY 9",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=st.sampled_from(TABLES),
    items=st.lists(st.sampled_from(ITEMS), min_size=1, max_size=4),
    where=st.sampled_from(WHERES),
    tail=st.sampled_from(TAILS),
    wrap=st.sampled_from(["{}", "SELECT * FROM ({}) q", "WITH t AS ({}) SELECT * FROM t", "{} UNION ALL {}"]),
    dialect=st.sampled_from([("postgres", "numeric"), ("mysql", "format"), ("duckdb", "qmark")]),
)
def test_plan_or_pg_error(
    table: str, items: list[str], where: str, tail: str, wrap: str, dialect: tuple[str, str]
) -> None:
    inner = f"SELECT {', '.join(items)} FROM {table} {where} {tail}"
    sql = wrap.format(inner, inner)
    tree = sqlglot.parse_one(sql, read="postgres")
    try:
        plan, _ = plan_statement(
            tree, sql, fixture_model(), dialect=dialect[0], paramstyle=dialect[1], cache=None
        )
    except PgError as error:
        assert len(error.sqlstate) == 5 and error.message
        return
    assert plan.sql and plan.columns
