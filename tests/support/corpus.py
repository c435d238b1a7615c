# ruff: noqa: E501
"""The semantic SQL correctness corpus: queries over the fixture models with hand-written oracles.

Each :class:`CorpusQuery` is semantic SQL as a client sends it (over the cubes and views in
``tests/support/models/``) and an *oracle*: SQL written by hand against the raw tables of
``tests/support/dataset.py`` that must return the same rows. Oracles are portable unless a dialect
needs its own spelling (``oracle`` is then a mapping with keys ``"postgres"``, ``"mysql"``,
``"duckdb"`` and ``"*"`` for the rest).

Conventions the oracles follow (the semantics of the models):

* measures never count a row twice: ``orders.count`` is ``COUNT(DISTINCT orders.id)`` whatever is
  joined; joins are LEFT JOINs from the first cube of the query (or the view's root);
* times are UTC: PostgreSQL oracles use ``created_at AT TIME ZONE 'UTC'``; MariaDB stores UTC;
  DuckDB runs with ``TimeZone = UTC``;
* ``ordered`` queries have a total ORDER BY (no ties), others are compared as multisets;
* ``tolerance`` is relative, for approximations (``count_distinct_approx``) and divisions (MySQL keeps
  4 extra decimals in a hand-written AVG or division; generated SQL computes them in double precision).

The planner tests run generated SQL directly on each database; the gateway end-to-end tests can send
``sql`` (with ``params``) through psycopg and compare with the same oracles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

DIALECTS = ("postgres", "mysql", "duckdb")


@dataclass(frozen=True)
class CorpusQuery:
    name: str
    sql: str
    oracle: str | Mapping[str, str]
    ordered: bool = False
    tolerance: float = 0.0
    params: tuple[Any, ...] = ()
    covers: tuple[str, ...] = field(default=())

    def psycopg(self) -> tuple[str, tuple[Any, ...] | None]:
        """``sql`` and its parameters the way psycopg's ``execute`` takes them.

        With parameters, ``$n`` becomes ``%s`` (values repeated in order of appearance) and ``%`` is
        doubled; without, the SQL is sent as it is with ``None`` parameters.
        """
        if not self.params:
            return self.sql, None
        order = [int(n) for n in re.findall(r"\$(\d+)", self.sql)]
        text = re.sub(r"\$\d+", "%s", self.sql.replace("%", "%%"))
        return text, tuple(self.params[n - 1] for n in order)

    def oracle_for(self, dialect: str) -> str:
        if isinstance(self.oracle, str):
            return self.oracle
        if dialect in self.oracle:
            return self.oracle[dialect]
        return self.oracle["*"]


def _trunc(unit: str, column: str = "created_at", table: str = "") -> dict[str, str]:
    """Hand-written DATE_TRUNC of a UTC instant per dialect (weeks start on Monday)."""
    col = f"{table}.{column}" if table else column
    mysql = {
        "second": f"CAST(DATE_FORMAT({col}, '%Y-%m-%d %H:%i:%s') AS DATETIME)",
        "minute": f"CAST(DATE_FORMAT({col}, '%Y-%m-%d %H:%i:00') AS DATETIME)",
        "hour": f"CAST(DATE_FORMAT({col}, '%Y-%m-%d %H:00:00') AS DATETIME)",
        "day": f"CAST(DATE({col}) AS DATETIME)",
        "week": f"CAST(DATE_SUB(DATE({col}), INTERVAL WEEKDAY({col}) DAY) AS DATETIME)",
        "month": f"CAST(DATE_FORMAT({col}, '%Y-%m-01') AS DATETIME)",
        "quarter": f"CAST(MAKEDATE(YEAR({col}), 1) + INTERVAL (QUARTER({col}) - 1) * 3 MONTH AS DATETIME)",
        "year": f"CAST(MAKEDATE(YEAR({col}), 1) AS DATETIME)",
    }[unit]
    return {
        "postgres": f"date_trunc('{unit}', {col} AT TIME ZONE 'UTC')",
        "mysql": mysql,
        "duckdb": f"date_trunc('{unit}', {col})",
    }


def _per_dialect(template: str, **parts: Mapping[str, str]) -> dict[str, str]:
    return {d: template.format(**{k: v[d] for k, v in parts.items()}) for d in DIALECTS}


ORDERS_WITH_REVENUE = (
    "orders o LEFT JOIN (SELECT order_id, SUM(quantity * unit_price) AS rev, SUM(quantity) AS units,"
    " COUNT(*) AS items FROM line_items GROUP BY order_id) r ON r.order_id = o.id"
)
ORDERS_ITEMS_PRODUCTS = (
    "orders o LEFT JOIN line_items li ON li.order_id = o.id LEFT JOIN products p ON p.id = li.product_id"
)

CORPUS: list[CorpusQuery] = [
    # ------------------------------------------------------------------ measures and aggregates
    CorpusQuery(
        "count_measure",
        "SELECT MEASURE(count) FROM orders",
        "SELECT COUNT(*) FROM orders",
        covers=("measure", "count"),
    ),
    CorpusQuery(
        "count_star", "SELECT COUNT(*) FROM orders", "SELECT COUNT(*) FROM orders", covers=("count(*)",)
    ),
    CorpusQuery(
        "count_one_tableau",
        "SELECT COUNT(1) AS n FROM orders HAVING COUNT(1) > 0",
        "SELECT COUNT(*) FROM orders",
        covers=("count(*)", "having"),
    ),
    CorpusQuery(
        "group_by_ordinal",
        "SELECT status, MEASURE(count) FROM orders GROUP BY 1",
        "SELECT status, COUNT(*) FROM orders GROUP BY status",
        covers=("group by ordinal",),
    ),
    CorpusQuery(
        "group_by_name_order_alias",
        "SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY n DESC, status",
        "SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY n DESC, status",
        ordered=True,
        covers=("group by name", "order by alias"),
    ),
    CorpusQuery(
        "group_by_output_alias",
        "SELECT status AS s, MEASURE(count) AS c FROM orders GROUP BY s",
        "SELECT status, COUNT(*) FROM orders GROUP BY status",
        covers=("group by alias",),
    ),
    CorpusQuery(
        "group_by_expression",
        "SELECT UPPER(status) AS st, MEASURE(count) FROM orders GROUP BY UPPER(status)",
        "SELECT UPPER(status), COUNT(*) FROM orders GROUP BY UPPER(status)",
        covers=("group by expression", "functions"),
    ),
    CorpusQuery(
        "sum_matching_aggregate",
        "SELECT status, SUM(total_discount) FROM orders GROUP BY 1",
        "SELECT status, SUM(discount) FROM orders GROUP BY status",
        covers=("sum",),
    ),
    CorpusQuery(
        "avg_min_max",
        "SELECT status, AVG(avg_discount), MIN(min_discount), MAX(max_discount) FROM orders GROUP BY 1",
        "SELECT status, AVG(discount), MIN(discount), MAX(discount) FROM orders GROUP BY status",
        tolerance=1e-6,
        covers=("avg", "min", "max"),
    ),
    CorpusQuery(
        "count_distinct",
        "SELECT status, COUNT(DISTINCT customers) FROM orders GROUP BY 1",
        "SELECT status, COUNT(DISTINCT user_id) FROM orders GROUP BY status",
        covers=("count_distinct",),
    ),
    CorpusQuery(
        "count_distinct_approx",
        "SELECT MEASURE(customers_approx) FROM orders",
        "SELECT COUNT(DISTINCT user_id) FROM orders",
        tolerance=0.05,
        covers=("count_distinct_approx",),
    ),
    CorpusQuery(
        "count_with_filter",
        "SELECT user_city, MEASURE(completed_count) FROM orders GROUP BY 1",
        "SELECT u.city, COUNT(CASE WHEN o.status = 'completed' THEN o.id END)"
        " FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY u.city",
        covers=("measure filters", "cross-cube dimension"),
    ),
    CorpusQuery(
        "number_measure",
        "SELECT status_group, MEASURE(completed_share) FROM orders GROUP BY 1",
        "SELECT CASE WHEN status IN ('completed', 'shipped') THEN 'done' WHEN status = 'cancelled' THEN 'lost'"
        " ELSE 'open' END AS g, 1.0 * COUNT(CASE WHEN status = 'completed' THEN id END) / NULLIF(COUNT(id), 0)"
        " FROM orders GROUP BY 1",
        tolerance=1e-6,
        covers=("number measure", "case dimension"),
    ),
    CorpusQuery(
        "time_measure",
        "SELECT status, MEASURE(first_order_at) FROM orders GROUP BY 1",
        "SELECT status, MIN(created_at) FROM orders GROUP BY status",
        covers=("time measure",),
    ),
    CorpusQuery(
        "boolean_measure",
        "SELECT status, MEASURE(any_shipped) FROM orders GROUP BY 1",
        "SELECT status, MAX(CASE WHEN shipped_at IS NOT NULL THEN 1 ELSE 0 END) = 1 FROM orders GROUP BY status",
        covers=("boolean measure",),
    ),
    CorpusQuery(
        "string_measure",
        "SELECT is_shipped, MEASURE(first_status) FROM orders GROUP BY 1",
        "SELECT shipped_at IS NOT NULL, MIN(status) FROM orders GROUP BY shipped_at IS NOT NULL",
        covers=("string measure", "boolean dimension"),
    ),
    CorpusQuery(
        "post_aggregate_arithmetic",
        "SELECT status, MEASURE(completed_count) * 1.0 / MEASURE(count) AS share FROM orders GROUP BY 1",
        "SELECT status, COUNT(CASE WHEN status = 'completed' THEN id END) * 1.0 / COUNT(id)"
        " FROM orders GROUP BY status",
        tolerance=1e-6,
        covers=("arithmetic on measures",),
    ),
    CorpusQuery(
        "integer_division_like_postgres",
        "SELECT status, c / 7 AS weeks, c % 7 AS rest FROM (SELECT status, MEASURE(count) AS c FROM orders GROUP BY 1) q",
        {
            "postgres": "SELECT status, COUNT(*) / 7, COUNT(*) % 7 FROM orders GROUP BY status",
            "mysql": "SELECT status, COUNT(*) DIV 7, COUNT(*) % 7 FROM orders GROUP BY status",
            "duckdb": "SELECT status, COUNT(*) // 7, COUNT(*) % 7 FROM orders GROUP BY status",
        },
        covers=("integer division", "arithmetic on top"),
    ),
    CorpusQuery(
        "measure_over_measures_items",
        "SELECT MEASURE(revenue_per_item) FROM line_items",
        "SELECT SUM(quantity * unit_price) / NULLIF(SUM(quantity), 0) FROM line_items",
        tolerance=1e-6,
        covers=("number measure",),
    ),
    CorpusQuery(
        "adhoc_min_max_time",
        "SELECT MIN(created_at), MAX(created_at) FROM orders",
        "SELECT MIN(created_at), MAX(created_at) FROM orders",
        covers=("aggregate over dimension",),
    ),
    CorpusQuery(
        "adhoc_sum_dimension",
        "SELECT status, SUM(discount) FROM orders GROUP BY 1",
        "SELECT status, SUM(discount) FROM orders GROUP BY status",
        covers=("aggregate over dimension",),
    ),
    CorpusQuery(
        "adhoc_count_distinct_dimension",
        "SELECT COUNT(DISTINCT city) FROM users",
        "SELECT COUNT(DISTINCT city) FROM users",
        covers=("aggregate over dimension",),
    ),
    CorpusQuery(
        "having_adhoc",
        "SELECT country FROM users GROUP BY 1 HAVING MIN(age) < 18",
        "SELECT country FROM users GROUP BY country HAVING MIN(age) < 18",
        covers=("having",),
    ),
    # ---------------------------------------------------------------------- dimensions and time
    CorpusQuery(
        "boolean_dimension_camel_case",
        'SELECT "isVip", MEASURE("count") FROM "users" GROUP BY 1',
        "SELECT is_vip, COUNT(*) FROM users GROUP BY is_vip",
        covers=("quoted identifiers", "boolean"),
    ),
    CorpusQuery(
        "case_dimension",
        "SELECT age_group, MEASURE(count) FROM users GROUP BY 1",
        "SELECT CASE WHEN age < 30 THEN 'young' WHEN age >= 30 THEN 'adult' END, COUNT(*) FROM users GROUP BY 1",
        covers=("case dimension", "null group"),
    ),
    CorpusQuery(
        "null_group",
        "SELECT city, MEASURE(count) FROM users GROUP BY 1",
        "SELECT city, COUNT(*) FROM users GROUP BY city",
        covers=("null group",),
    ),
    CorpusQuery(
        "coalesce_dimension",
        "SELECT COALESCE(city, 'unknown') AS c, MEASURE(count) FROM users GROUP BY 1",
        "SELECT COALESCE(city, 'unknown'), COUNT(*) FROM users GROUP BY 1",
        covers=("functions",),
    ),
    CorpusQuery(
        "text_functions",
        "SELECT LOWER(status) AS s, LENGTH(status) AS l, MEASURE(count) FROM orders GROUP BY 1, 2",
        {
            "*": "SELECT LOWER(status), LENGTH(status), COUNT(*) FROM orders GROUP BY 1, 2",
            "mysql": "SELECT LOWER(status), CHAR_LENGTH(status), COUNT(*) FROM orders GROUP BY 1, 2",
        },
        covers=("functions",),
    ),
    CorpusQuery(
        "unquoted_camel_case_time",
        "SELECT DATE_TRUNC('year', signedUpAt) AS y, COUNT(*) FROM users GROUP BY 1 ORDER BY 1",
        _per_dialect(
            "SELECT {t} AS y, COUNT(*) FROM users GROUP BY 1 ORDER BY 1",
            t={
                "postgres": "date_trunc('year', signed_up_at)",
                "mysql": "CAST(MAKEDATE(YEAR(signed_up_at), 1) AS DATETIME)",
                "duckdb": "date_trunc('year', signed_up_at)",
            },
        ),
        ordered=True,
        covers=("case-insensitive names", "timestamp without time zone"),
    ),
    *[
        CorpusQuery(
            f"date_trunc_{unit}",
            f"SELECT DATE_TRUNC('{unit}', created_at) AS t, MEASURE(count) FROM orders GROUP BY 1 ORDER BY 1",
            _per_dialect("SELECT {t} AS t, COUNT(*) FROM orders GROUP BY 1 ORDER BY 1", t=_trunc(unit)),
            ordered=True,
            covers=("date_trunc", unit),
        )
        for unit in ("day", "week", "month", "quarter", "year")
    ],
    CorpusQuery(
        "date_trunc_hour_filtered",
        "SELECT DATE_TRUNC('hour', created_at), COUNT(*) FROM orders WHERE created_at < '2023-02-01'"
        " GROUP BY 1 ORDER BY 1",
        _per_dialect(
            "SELECT {t}, COUNT(*) FROM orders WHERE created_at < {b} GROUP BY 1 ORDER BY 1",
            t=_trunc("hour"),
            b={
                "postgres": "TIMESTAMPTZ '2023-02-01 00:00:00+00'",
                "mysql": "'2023-02-01'",
                "duckdb": "TIMESTAMPTZ '2023-02-01 00:00:00+00'",
            },
        ),
        ordered=True,
        covers=("date_trunc", "hour", "date range"),
    ),
    CorpusQuery(
        "date_trunc_second_minute",
        "SELECT DATE_TRUNC('second', shipped_at) AS s, DATE_TRUNC('minute', shipped_at) AS m, COUNT(*)"
        " FROM orders WHERE id <= 50 GROUP BY 1, 2",
        _per_dialect(
            "SELECT {s}, {m}, COUNT(*) FROM orders WHERE id <= 50 GROUP BY 1, 2",
            s=_trunc("second", "shipped_at"),
            m=_trunc("minute", "shipped_at"),
        ),
        covers=("date_trunc", "second", "minute"),
    ),
    CorpusQuery(
        "date_range_half_open",
        "SELECT status, MEASURE(count) FROM orders WHERE created_at >= '2024-01-01' AND created_at < '2024-02-01'"
        " GROUP BY 1",
        _per_dialect(
            "SELECT status, COUNT(*) FROM orders WHERE created_at >= {a} AND created_at < {b}"
            " GROUP BY status",
            a={
                "postgres": "TIMESTAMPTZ '2024-01-01 00:00:00+00'",
                "mysql": "'2024-01-01'",
                "duckdb": "TIMESTAMPTZ '2024-01-01 00:00:00+00'",
            },
            b={
                "postgres": "TIMESTAMPTZ '2024-02-01 00:00:00+00'",
                "mysql": "'2024-02-01'",
                "duckdb": "TIMESTAMPTZ '2024-02-01 00:00:00+00'",
            },
        ),
        covers=("date range",),
    ),
    CorpusQuery(
        "date_range_with_offsets",
        "SELECT MEASURE(count) FROM orders WHERE created_at >= '2024-03-01T00:00:00+02:00'"
        " AND created_at < '2024-03-02 00:00:00Z'",
        _per_dialect(
            "SELECT COUNT(*) FROM orders WHERE created_at >= {a} AND created_at < {b}",
            a={
                "postgres": "TIMESTAMPTZ '2024-02-29 22:00:00+00'",
                "mysql": "'2024-02-29 22:00:00'",
                "duckdb": "TIMESTAMPTZ '2024-02-29 22:00:00+00'",
            },
            b={
                "postgres": "TIMESTAMPTZ '2024-03-02 00:00:00+00'",
                "mysql": "'2024-03-02 00:00:00'",
                "duckdb": "TIMESTAMPTZ '2024-03-02 00:00:00+00'",
            },
        ),
        covers=("date range", "time zones"),
    ),
    CorpusQuery(
        "between_dates",
        "SELECT MEASURE(count), SUM(total_discount) FROM orders"
        " WHERE created_at BETWEEN '2023-06-01' AND '2023-06-30 23:59:59'",
        _per_dialect(
            "SELECT COUNT(*), SUM(discount) FROM orders WHERE created_at >= {a} AND created_at <= {b}",
            a={
                "postgres": "TIMESTAMPTZ '2023-06-01 00:00:00+00'",
                "mysql": "'2023-06-01'",
                "duckdb": "TIMESTAMPTZ '2023-06-01 00:00:00+00'",
            },
            b={
                "postgres": "TIMESTAMPTZ '2023-06-30 23:59:59+00'",
                "mysql": "'2023-06-30 23:59:59'",
                "duckdb": "TIMESTAMPTZ '2023-06-30 23:59:59+00'",
            },
        ),
        covers=("between",),
    ),
    CorpusQuery(
        "extract_year",
        "SELECT EXTRACT(YEAR FROM created_at) AS y, MEASURE(count) FROM orders GROUP BY 1",
        {
            "postgres": "SELECT EXTRACT(YEAR FROM created_at AT TIME ZONE 'UTC'), COUNT(*) FROM orders GROUP BY 1",
            "mysql": "SELECT YEAR(created_at), COUNT(*) FROM orders GROUP BY 1",
            "duckdb": "SELECT year(created_at), COUNT(*) FROM orders GROUP BY 1",
        },
        covers=("extract",),
    ),
    # ------------------------------------------------------------------------------- filters
    CorpusQuery(
        "where_equals_not_equals",
        "SELECT status, MEASURE(count) FROM orders WHERE status <> 'cancelled' AND status != 'returned' GROUP BY 1",
        "SELECT status, COUNT(*) FROM orders WHERE status <> 'cancelled' AND status <> 'returned' GROUP BY status",
        covers=("<>",),
    ),
    CorpusQuery(
        "where_in",
        "SELECT status, MEASURE(count) FROM orders WHERE status IN ('completed', 'returned') GROUP BY 1",
        "SELECT status, COUNT(*) FROM orders WHERE status IN ('completed', 'returned') GROUP BY status",
        covers=("in",),
    ),
    CorpusQuery(
        "where_not_in",
        "SELECT MEASURE(count) FROM orders WHERE status NOT IN ('completed', 'returned')",
        "SELECT COUNT(*) FROM orders WHERE status NOT IN ('completed', 'returned')",
        covers=("not in",),
    ),
    CorpusQuery(
        "where_long_in_list",
        "SELECT MEASURE(count), SUM(total_discount) FROM orders WHERE id IN ("
        + ", ".join(str(i) for i in range(1, 600, 2))
        + ")",
        "SELECT COUNT(*), SUM(discount) FROM orders WHERE id <= 600 AND MOD(id, 2) = 1",
        covers=("in", "long in list"),
    ),
    CorpusQuery(
        "where_like",
        "SELECT MEASURE(count) FROM orders WHERE note LIKE '%gift%'",
        "SELECT COUNT(*) FROM orders WHERE note LIKE '%gift%'",
        covers=("like",),
    ),
    CorpusQuery(
        "where_ilike",
        "SELECT note, MEASURE(count) FROM orders WHERE note ILIKE 'gift%' GROUP BY 1",
        {
            "*": "SELECT note, COUNT(*) FROM orders WHERE note ILIKE 'gift%' GROUP BY note",
            "mysql": "SELECT note, COUNT(*) FROM orders WHERE LOWER(note) LIKE 'gift%' GROUP BY note",
        },
        covers=("ilike",),
    ),
    CorpusQuery(
        "where_percent_literal",
        "SELECT MEASURE(count) FROM orders WHERE note = '100% urgent'",
        "SELECT COUNT(*) FROM orders WHERE note = '100% urgent'",
        covers=("literal with %",),
    ),
    CorpusQuery(
        "where_quotes_unicode",
        "SELECT city, MEASURE(count) FROM users WHERE city IN ('Xi''an', 'São Paulo', 'Zürich') GROUP BY 1",
        "SELECT city, COUNT(*) FROM users WHERE city IN ('Xi''an', 'São Paulo', 'Zürich') GROUP BY city",
        covers=("quotes", "unicode"),
    ),
    CorpusQuery(
        "where_is_null",
        "SELECT MEASURE(count) FROM orders WHERE discount IS NULL",
        "SELECT COUNT(*) FROM orders WHERE discount IS NULL",
        covers=("is null",),
    ),
    CorpusQuery(
        "where_is_not_null",
        "SELECT status, MEASURE(count) FROM orders WHERE shipped_at IS NOT NULL GROUP BY 1",
        "SELECT status, COUNT(*) FROM orders WHERE shipped_at IS NOT NULL GROUP BY status",
        covers=("is not null",),
    ),
    CorpusQuery(
        "where_numeric_comparisons",
        "SELECT MEASURE(count) FROM orders WHERE discount > 10.5 AND discount <= 25 AND discount >= -1",
        "SELECT COUNT(*) FROM orders WHERE discount > 10.5 AND discount <= 25",
        covers=("comparisons",),
    ),
    CorpusQuery(
        "where_and_or_not",
        "SELECT status, MEASURE(count) FROM orders WHERE (status = 'completed' OR status = 'shipped')"
        " AND NOT (discount < 5) GROUP BY 1",
        "SELECT status, COUNT(*) FROM orders WHERE (status = 'completed' OR status = 'shipped')"
        " AND NOT (discount < 5) GROUP BY status",
        covers=("and", "or", "not"),
    ),
    CorpusQuery(
        "segment_bare",
        "SELECT MEASURE(count), SUM(total_discount) FROM orders WHERE completed",
        "SELECT COUNT(*), SUM(discount) FROM orders WHERE status = 'completed'",
        covers=("segment",),
    ),
    CorpusQuery(
        "segment_is_true_and_equals",
        "SELECT status, MEASURE(count) FROM orders WHERE discounted IS TRUE AND completed = true GROUP BY 1",
        "SELECT status, COUNT(*) FROM orders WHERE discount >= 10 AND status = 'completed' GROUP BY status",
        covers=("segment",),
    ),
    CorpusQuery(
        "segments_and_filtered_measure",
        "SELECT country, MEASURE(vip_count), MEASURE(count) FROM users WHERE adults GROUP BY 1",
        "SELECT country, COUNT(CASE WHEN is_vip THEN id END), COUNT(*) FROM users WHERE age >= 18"
        " GROUP BY country",
        covers=("segment", "measure filters"),
    ),
    CorpusQuery(
        "where_in_subquery",
        "SELECT MEASURE(count) FROM orders WHERE user_id IN (SELECT id FROM users WHERE vip)",
        "SELECT COUNT(*) FROM orders WHERE user_id IN (SELECT id FROM users WHERE is_vip)",
        covers=("subquery in where",),
    ),
    CorpusQuery(
        "having_measure",
        "SELECT status, MEASURE(count) FROM orders GROUP BY 1 HAVING MEASURE(count) > 300",
        "SELECT status, COUNT(*) FROM orders GROUP BY status HAVING COUNT(*) > 300",
        covers=("having",),
    ),
    CorpusQuery(
        "having_and_where",
        "SELECT user_id, MEASURE(count) AS n FROM orders WHERE user_id IS NOT NULL GROUP BY 1"
        " HAVING MEASURE(count) >= 10 AND SUM(total_discount) > 20",
        "SELECT user_id, COUNT(*) FROM orders WHERE user_id IS NOT NULL GROUP BY user_id"
        " HAVING COUNT(*) >= 10 AND SUM(discount) > 20",
        covers=("having",),
    ),
    # ----------------------------------------------------------------- order, limit, parameters
    CorpusQuery(
        "order_ordinal_limit_offset",
        "SELECT status, MEASURE(count) FROM orders GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3 OFFSET 1",
        "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY 2 DESC, 1 LIMIT 3 OFFSET 1",
        ordered=True,
        covers=("order by ordinal", "limit", "offset"),
    ),
    CorpusQuery(
        "order_nulls_first",
        "SELECT city, MEASURE(count) FROM users GROUP BY 1 ORDER BY city NULLS FIRST",
        {
            "*": "SELECT city, COUNT(*) FROM users GROUP BY city ORDER BY city NULLS FIRST",
            "mysql": "SELECT city, COUNT(*) FROM users GROUP BY city ORDER BY city IS NULL DESC, city",
        },
        ordered=True,
        covers=("order by", "nulls first"),
    ),
    CorpusQuery(
        "order_desc_default_nulls",
        "SELECT age, MEASURE(count) FROM users GROUP BY 1 ORDER BY age DESC",
        {
            "*": "SELECT age, COUNT(*) FROM users GROUP BY age ORDER BY age DESC NULLS FIRST",
            "mysql": "SELECT age, COUNT(*) FROM users GROUP BY age ORDER BY age IS NULL DESC, age DESC",
        },
        ordered=True,
        covers=("order by", "postgres null order"),
    ),
    CorpusQuery(
        "metabase_schema_qualified_columns",
        'SELECT "public"."orders"."status" AS "status", count(*) AS "count" FROM "public"."orders"'
        ' WHERE "public"."orders"."discount" > 20 GROUP BY "public"."orders"."status" ORDER BY "public"."orders"."status" ASC',
        "SELECT status, COUNT(*) FROM orders WHERE discount > 20 GROUP BY status ORDER BY status",
        ordered=True,
        covers=("schema-qualified columns",),
    ),
    CorpusQuery(
        "powerbi_nested_projection",
        'SELECT "_"."status", count(1) AS "C1" FROM (SELECT "$Table"."status", "$Table"."created_at"'
        ' FROM "public"."orders" "$Table") "_" WHERE "_"."created_at" >= TIMESTAMP \'2024-01-01 00:00:00\''
        ' GROUP BY "_"."status"',
        _per_dialect(
            "SELECT status, COUNT(*) FROM orders WHERE created_at >= {a} GROUP BY status",
            a={
                "postgres": "TIMESTAMPTZ '2024-01-01 00:00:00+00'",
                "mysql": "'2024-01-01'",
                "duckdb": "TIMESTAMPTZ '2024-01-01 00:00:00+00'",
            },
        ),
        covers=("top-down", "typed literal"),
    ),
    CorpusQuery(
        "tableau_sum_one",
        'SELECT CAST("orders"."status" AS TEXT) AS "status", SUM(1) AS "Number of Records" FROM "public"."orders" "orders" GROUP BY 1',
        "SELECT status, COUNT(*) FROM orders GROUP BY status",
        covers=("aggregate over constant",),
    ),
    CorpusQuery(
        "fetch_first",
        "SELECT id FROM orders ORDER BY id FETCH FIRST 3 ROWS ONLY",
        "SELECT id FROM orders ORDER BY id LIMIT 3",
        ordered=True,
        covers=("fetch first",),
    ),
    CorpusQuery(
        "parameters",
        "SELECT MEASURE(count), SUM(total_discount) FROM orders WHERE status = $1 AND created_at >= $2"
        " AND discount > $3",
        _per_dialect(
            "SELECT COUNT(*), SUM(discount) FROM orders WHERE status = 'completed' AND created_at >= {a}"
            " AND discount > 12.5",
            a={
                "postgres": "TIMESTAMPTZ '2024-01-01 00:00:00+00'",
                "mysql": "'2024-01-01'",
                "duckdb": "TIMESTAMPTZ '2024-01-01 00:00:00+00'",
            },
        ),
        params=("completed", "2024-01-01", Decimal("12.5")),
        covers=("parameters",),
    ),
    CorpusQuery(
        "parameter_limit",
        "SELECT id, status FROM orders WHERE status = $1 ORDER BY id LIMIT $2",
        "SELECT id, status FROM orders WHERE status = 'pending' ORDER BY id LIMIT 4",
        ordered=True,
        params=("pending", 4),
        covers=("parameters", "limit"),
    ),
    # ------------------------------------------------------------------------------- ungrouped
    CorpusQuery(
        "ungrouped_dimensions",
        "SELECT id, status, discount FROM orders WHERE user_id = 42",
        "SELECT id, status, discount FROM orders WHERE user_id = 42",
        covers=("ungrouped",),
    ),
    CorpusQuery(
        "ungrouped_star",
        "SELECT * FROM products ORDER BY id LIMIT 5",
        "SELECT 1, price, price, price, id, name, category, price, NULL, NULL FROM products ORDER BY id LIMIT 5",
        ordered=True,
        covers=("select *", "ungrouped"),
    ),
    CorpusQuery(
        "ungrouped_measures_per_row",
        "SELECT id, count, revenue FROM line_items WHERE order_id < 20",
        "SELECT id, 1, quantity * unit_price FROM line_items WHERE order_id < 20",
        covers=("ungrouped", "measure per row"),
    ),
    CorpusQuery(
        "ungrouped_aggregate_measure_per_row",
        "SELECT id, completed_share, any_shipped FROM orders WHERE id <= 10",
        "SELECT id, 1.0 * (CASE WHEN status = 'completed' THEN 1 ELSE 0 END) / 1,"
        " CASE WHEN shipped_at IS NOT NULL THEN 1 ELSE 0 END FROM orders WHERE id <= 10",
        tolerance=1e-6,
        covers=("ungrouped", "calculated measure per row"),
    ),
    CorpusQuery(
        "distinct_values",
        "SELECT DISTINCT category FROM products",
        "SELECT DISTINCT category FROM products",
        covers=("distinct",),
    ),
    CorpusQuery(
        "virtual_columns",
        "SELECT __cubeJoinField, MEASURE(count) FROM orders GROUP BY 1",
        "SELECT NULL, COUNT(*) FROM orders",
        covers=("__cubeJoinField",),
    ),
    # ---------------------------------------------------------------------- joins and fan-out
    CorpusQuery(
        "join_many_to_one_cross",
        "SELECT users.country, MEASURE(orders.count) FROM orders CROSS JOIN users GROUP BY 1",
        "SELECT u.country, COUNT(o.id) FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY u.country",
        covers=("cross join", "many_to_one"),
    ),
    CorpusQuery(
        "join_cube_join_field",
        "SELECT u.isvip, MEASURE(o.count), MEASURE(o.total_discount) FROM orders o"
        " JOIN users u ON o.__cubeJoinField = u.__cubeJoinField WHERE u.vip OR u.country = 'DE' GROUP BY 1",
        "SELECT u.is_vip, COUNT(o.id), SUM(o.discount) FROM orders o LEFT JOIN users u ON u.id = o.user_id"
        " WHERE u.is_vip OR u.country = 'DE' GROUP BY u.is_vip",
        covers=("__cubeJoinField", "segment of joined cube"),
    ),
    CorpusQuery(
        "fan_out_one_to_many",
        "SELECT orders.status, MEASURE(orders.count), MEASURE(orders.total_discount),"
        " MEASURE(line_items.revenue) FROM orders CROSS JOIN line_items GROUP BY 1",
        f"SELECT o.status, COUNT(o.id), SUM(o.discount), SUM(r.rev) FROM {ORDERS_WITH_REVENUE}"
        " GROUP BY o.status",
        covers=("fan-out", "one_to_many"),
    ),
    CorpusQuery(
        "fan_out_no_dimensions",
        "SELECT MEASURE(orders.count), AVG(orders.avg_discount), MEASURE(line_items.count)"
        " FROM orders CROSS JOIN line_items",
        "SELECT (SELECT COUNT(*) FROM orders), (SELECT AVG(discount) FROM orders),"
        " (SELECT COUNT(*) FROM line_items)",
        tolerance=1e-5,
        covers=("fan-out", "avg"),
    ),
    CorpusQuery(
        "fan_out_filter_on_many_side",
        "SELECT orders.status, MEASURE(orders.count), MEASURE(line_items.units) FROM orders"
        " CROSS JOIN line_items WHERE line_items.quantity >= 5 GROUP BY 1",
        "SELECT o.status, COUNT(DISTINCT o.id), SUM(li.quantity) FROM orders o"
        " LEFT JOIN line_items li ON li.order_id = o.id WHERE li.quantity >= 5 GROUP BY o.status",
        covers=("fan-out", "filter on joined cube"),
    ),
    CorpusQuery(
        "fan_out_transitive",
        "SELECT products.category, MEASURE(orders.count), MEASURE(orders.total_discount),"
        " MEASURE(line_items.units) FROM orders CROSS JOIN line_items CROSS JOIN products GROUP BY 1",
        "SELECT a.category, a.cnt, a.disc, b.units FROM"
        " (SELECT category, COUNT(id) AS cnt, SUM(discount) AS disc FROM"
        f" (SELECT DISTINCT p.category, o.id, o.discount FROM {ORDERS_ITEMS_PRODUCTS}) x GROUP BY category) a"
        f" LEFT JOIN (SELECT p.category, SUM(li.quantity) AS units FROM {ORDERS_ITEMS_PRODUCTS}"
        " GROUP BY p.category) b ON a.category = b.category OR (a.category IS NULL AND b.category IS NULL)",
        covers=("fan-out", "transitive join", "implicit cube via member"),
    ),
    CorpusQuery(
        "fan_out_users_has_many",
        "SELECT users.country, MEASURE(users.count), MEASURE(users.avg_age), MEASURE(orders.count)"
        " FROM users CROSS JOIN orders GROUP BY 1",
        "SELECT u.country, COUNT(*), AVG(u.age),"
        " (SELECT COUNT(*) FROM orders o JOIN users u2 ON u2.id = o.user_id WHERE u2.country = u.country)"
        " FROM users u GROUP BY u.country",
        tolerance=1e-5,
        covers=("fan-out", "has_many", "avg"),
    ),
    CorpusQuery(
        "transitive_join_path",
        "SELECT products.category, MEASURE(orders.count) FROM orders CROSS JOIN products GROUP BY 1",
        f"SELECT p.category, COUNT(DISTINCT o.id) FROM {ORDERS_ITEMS_PRODUCTS} GROUP BY p.category",
        covers=("transitive join", "fan-out"),
    ),
    CorpusQuery(
        "cross_cube_dimension",
        "SELECT user_city, MEASURE(count) FROM orders GROUP BY 1",
        "SELECT u.city, COUNT(*) FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY u.city",
        covers=("cross-cube dimension",),
    ),
    CorpusQuery(
        "ungrouped_join",
        "SELECT orders.id, users.name FROM orders CROSS JOIN users WHERE orders.id <= 20",
        "SELECT o.id, u.name FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE o.id <= 20",
        covers=("ungrouped", "join"),
    ),
    CorpusQuery(
        "cube_with_sql",
        "SELECT DATE_TRUNC('year', created_at), MEASURE(count) FROM completed_orders GROUP BY 1",
        _per_dialect(
            "SELECT {t}, COUNT(*) FROM orders WHERE status = 'completed' GROUP BY 1", t=_trunc("year")
        ),
        covers=("cube sql",),
    ),
    # ------------------------------------------------------------------------------------ views
    CorpusQuery(
        "view_fan_out",
        "SELECT status, MEASURE(count), MEASURE(revenue) FROM order_facts GROUP BY 1",
        f"SELECT o.status, COUNT(o.id), SUM(r.rev) FROM {ORDERS_WITH_REVENUE} GROUP BY o.status",
        covers=("view", "fan-out"),
    ),
    CorpusQuery(
        "view_prefix_alias",
        "SELECT users_country, vip_customer, MEASURE(count), MEASURE(total_discount) FROM order_facts"
        " GROUP BY 1, 2",
        "SELECT u.country, u.is_vip, COUNT(o.id), SUM(o.discount) FROM orders o LEFT JOIN users u"
        " ON u.id = o.user_id GROUP BY u.country, u.is_vip",
        covers=("view", "prefix", "alias"),
    ),
    CorpusQuery(
        "view_deep_path",
        "SELECT products_category, MEASURE(units), MEASURE(count) FROM order_facts GROUP BY 1",
        "SELECT p.category, SUM(li.quantity), COUNT(DISTINCT o.id)"
        f" FROM {ORDERS_ITEMS_PRODUCTS} GROUP BY p.category",
        covers=("view", "join path", "fan-out"),
    ),
    CorpusQuery(
        "view_number_measure_filter",
        "SELECT DATE_TRUNC('quarter', created_at) AS q, MEASURE(completed_share) FROM order_facts"
        " WHERE users_city = 'Berlin' GROUP BY 1",
        _per_dialect(
            "SELECT {t}, 1.0 * COUNT(CASE WHEN o.status = 'completed' THEN o.id END) / NULLIF(COUNT(o.id), 0)"
            " FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.city = 'Berlin' GROUP BY 1",
            t=_trunc("quarter", table="o"),
        ),
        tolerance=1e-6,
        covers=("view", "date_trunc", "number measure"),
    ),
    CorpusQuery(
        "view_level_measure_and_cube_alias_prefix",
        "SELECT product_category, MEASURE(revenue_per_order), MEASURE(count) FROM product_orders GROUP BY 1",
        "SELECT p.category, SUM(li.quantity * li.unit_price) / NULLIF(COUNT(DISTINCT o.id), 0), COUNT(DISTINCT o.id)"
        f" FROM {ORDERS_ITEMS_PRODUCTS} GROUP BY p.category",
        tolerance=1e-6,
        covers=("view", "view-level measure", "fan-out"),
    ),
    # -------------------------------------------------------------- queries around cube queries
    CorpusQuery(
        "subquery_arithmetic",
        "SELECT q.status, q.c * 2 AS dbl FROM (SELECT status, MEASURE(count) AS c FROM orders GROUP BY 1) q",
        "SELECT status, COUNT(*) * 2 FROM orders GROUP BY status",
        covers=("subquery", "arithmetic"),
    ),
    CorpusQuery(
        "subquery_case_regroup",
        "SELECT CASE WHEN c > 400 THEN 'big' ELSE 'small' END AS size, COUNT(*) AS statuses, SUM(c) AS orders"
        " FROM (SELECT status, MEASURE(count) AS c FROM orders GROUP BY 1) q GROUP BY 1",
        "SELECT CASE WHEN c > 400 THEN 'big' ELSE 'small' END, COUNT(*), SUM(c)"
        " FROM (SELECT status, COUNT(*) AS c FROM orders GROUP BY status) q GROUP BY 1",
        covers=("subquery", "case", "aggregate on top"),
    ),
    CorpusQuery(
        "cte_sum",
        "WITH t AS (SELECT status, MEASURE(count) AS c FROM orders GROUP BY 1) SELECT SUM(c) AS total FROM t",
        "SELECT COUNT(*) FROM orders",
        covers=("cte",),
    ),
    CorpusQuery(
        "cte_join_two_cube_queries",
        "WITH a AS (SELECT status, MEASURE(count) AS n FROM orders GROUP BY 1),"
        " b AS (SELECT status, MEASURE(count) AS n FROM orders WHERE completed OR shipped_at IS NULL GROUP BY 1)"
        " SELECT a.status, a.n, b.n AS m FROM a LEFT JOIN b ON a.status = b.status",
        "SELECT a.status, a.n, b.n FROM (SELECT status, COUNT(*) n FROM orders GROUP BY status) a LEFT JOIN"
        " (SELECT status, COUNT(*) n FROM orders WHERE status = 'completed' OR shipped_at IS NULL GROUP BY status) b"
        " ON a.status = b.status",
        covers=("cte", "join of subqueries"),
    ),
    CorpusQuery(
        "cte_used_twice",
        "WITH t AS (SELECT status, discount, count FROM orders WHERE discount > 25)"
        " SELECT a.status, COUNT(*) AS pairs FROM t a JOIN t b ON a.status = b.status GROUP BY 1"
        " UNION ALL SELECT status, MEASURE(count) FROM t GROUP BY 1",
        "SELECT a.status, COUNT(*) FROM orders a JOIN orders b ON a.status = b.status"
        " WHERE a.discount > 25 AND b.discount > 25 GROUP BY a.status"
        " UNION ALL SELECT status, COUNT(*) FROM orders WHERE discount > 25 GROUP BY status",
        covers=("cte", "join of subqueries", "top-down", "union all"),
    ),
    CorpusQuery(
        "union_all",
        "SELECT 'orders' AS t, MEASURE(count) AS n FROM orders UNION ALL SELECT 'users', MEASURE(count) FROM users",
        "SELECT 'orders', COUNT(*) FROM orders UNION ALL SELECT 'users', COUNT(*) FROM users",
        covers=("union all",),
    ),
    CorpusQuery(
        "window_on_top",
        "SELECT status, c, RANK() OVER (ORDER BY c DESC, status) AS r"
        " FROM (SELECT status, MEASURE(count) AS c FROM orders GROUP BY 1) q",
        "SELECT status, c, RANK() OVER (ORDER BY c DESC, status) FROM"
        " (SELECT status, COUNT(*) AS c FROM orders GROUP BY status) q",
        covers=("window function", "subquery"),
    ),
    CorpusQuery(
        "top_down_superset",
        "SELECT status AS status, MEASURE(count) AS count FROM (SELECT * FROM orders WHERE discount IS NOT NULL)"
        " AS virtual_table GROUP BY status ORDER BY count DESC, status LIMIT 1000",
        "SELECT status, COUNT(*) FROM orders WHERE discount IS NOT NULL GROUP BY status"
        " ORDER BY 2 DESC, status LIMIT 1000",
        ordered=True,
        covers=("top-down", "subquery"),
    ),
    CorpusQuery(
        "top_down_measure_grain",
        "SELECT DATE_TRUNC('year', created_at) AS y, MEASURE(completed_share) FROM"
        " (SELECT id, status, created_at, completed_share FROM orders) q GROUP BY 1",
        _per_dialect(
            "SELECT {t}, 1.0 * COUNT(CASE WHEN status = 'completed' THEN id END) / NULLIF(COUNT(id), 0)"
            " FROM orders GROUP BY 1",
            t=_trunc("year"),
        ),
        tolerance=1e-6,
        covers=("top-down", "number measure"),
    ),
    CorpusQuery(
        "scalar_subquery_on_top",
        "SELECT status, MEASURE(count) AS n, (SELECT MEASURE(count) FROM users) AS users_total FROM orders"
        " GROUP BY 1",
        "SELECT status, COUNT(*), (SELECT COUNT(*) FROM users) FROM orders GROUP BY status",
        covers=("scalar subquery",),
    ),
]
