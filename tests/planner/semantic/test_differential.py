"""The same semantic query must give the same answer on PostgreSQL, MariaDB and DuckDB.

Random (seeded) grouped queries over the fixture model — dimensions of one or two cubes, measures of
both, filters, time grains — are planned for each database and their results compared.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.support.semantic_harness import assert_same_rows, run_semantic

pytestmark = pytest.mark.slow

DIMENSIONS = {
    "orders": [
        "status",
        "status_group",
        "is_shipped",
        "DATE_TRUNC('month', orders.created_at)",
        "DATE_TRUNC('week', orders.created_at)",
        "user_city",
    ],
    "users": ["users.country", "users.isVip", "users.age_group", "DATE_TRUNC('year', users.signedUpAt)"],
    "line_items": ["line_items.quantity"],
    "products": ["products.category"],
}
MEASURES = {
    "orders": [
        "MEASURE(orders.count)",
        "MEASURE(orders.total_discount)",
        "MEASURE(orders.customers)",
        "MEASURE(orders.completed_count)",
        "MEASURE(orders.max_discount)",
        "MEASURE(orders.avg_discount)",
    ],
    "users": ["MEASURE(users.count)", "MEASURE(users.avg_age)", "MEASURE(users.vip_count)"],
    "line_items": ["MEASURE(line_items.revenue)", "MEASURE(line_items.units)", "MEASURE(line_items.count)"],
    "products": ["MEASURE(products.count)", "MEASURE(products.avg_price)"],
}
FILTERS = [
    "orders.status IN ('completed', 'shipped')",
    "orders.discount > 10",
    "users.vip",
    "orders.completed",
    "orders.created_at >= '2023-07-01' AND orders.created_at < '2024-01-01'",
    "users.city IS NOT NULL",
    "line_items.quantity >= 3",
    "products.category LIKE 'b%'",
]
# Groups of cubes the model can join, first cube first (joins follow their declared direction).
COMBINATIONS = [
    ["orders"],
    ["users"],
    ["orders", "users"],
    ["users", "orders"],
    ["orders", "line_items"],
    ["orders", "line_items", "products"],
    ["users", "orders", "line_items"],
    ["line_items", "products"],
]


def random_query(rng: random.Random) -> str:
    cubes = rng.choice(COMBINATIONS)
    dims = rng.sample([d for c in cubes for d in DIMENSIONS[c]], k=rng.randint(0, 2))
    dims = [d for d in dims if d != "user_city" or "users" not in cubes]
    measures = rng.sample([m for c in cubes for m in MEASURES[c]], k=rng.randint(1, 3))
    filters = [f for f in FILTERS if f.split(".")[0].split(" ")[0] in cubes]
    where = ""
    if filters and rng.random() < 0.6:
        where = " WHERE " + " AND ".join(rng.sample(filters, k=min(len(filters), rng.randint(1, 2))))
    group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(dims)))}" if dims else ""
    return f"SELECT {', '.join(dims + measures)} FROM {' CROSS JOIN '.join(cubes)}{where}{group}"


QUERIES = [random_query(random.Random(seed)) for seed in range(60)]


@pytest.mark.parametrize("sql", QUERIES)
async def test_same_answer_everywhere(
    sql: str, postgres_source: Any, mysql_source: Any, duckdb_source: Any
) -> None:
    reference = await run_semantic(sql, postgres_source)
    for source in (mysql_source, duckdb_source):
        other = await run_semantic(sql, source)
        assert [c.type_oid for c in other.columns] == [c.type_oid for c in reference.columns]
        assert_same_rows(
            other.rows, reference.rows, ordered=False, tolerance=1e-6, label=f"{sql} on {source.dialect}"
        )
