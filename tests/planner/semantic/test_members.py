# ruff: noqa: E501
"""Every member a query touches is recorded, with how it is used (the input of access checks)."""

from __future__ import annotations

import sqlglot

from sqlgate.planner.semantic import TouchedMembers, plan_statement
from tests.support.semantic_harness import fixture_model


def touched(sql: str) -> TouchedMembers:
    tree = sqlglot.parse_one(sql, read="postgres")
    return plan_statement(tree, sql, fixture_model(), dialect="postgres", paramstyle="numeric", cache=None)[
        0
    ].touched


def test_usages_of_a_cube_query() -> None:
    members = touched(
        "SELECT status, DATE_TRUNC('month', created_at), MEASURE(count) FROM orders"
        " WHERE completed AND discount > 3 GROUP BY 1, 2 HAVING SUM(total_discount) > 10 ORDER BY MEASURE(customers)"
    )
    assert members.used_as("select") == {"orders.status", "orders.created_at", "orders.count"}
    assert members.used_as("group") == {"orders.status", "orders.created_at"}
    assert members.used_as("time_dimension") == {"orders.created_at"}
    assert members.used_as("where") == {"orders.completed", "orders.discount"}
    assert members.used_as("segment") == {"orders.completed"}
    assert members.used_as("having") == {"orders.total_discount"}
    assert "orders.customers" in members.all
    assert members.tables == {"orders"} and members.cubes == {"orders"}


def test_members_inside_calculated_members_and_joins() -> None:
    members = touched("SELECT user_city, MEASURE(completed_share) FROM orders GROUP BY 1")
    assert {"orders.completed_count", "orders.count", "users.city"} <= members.used_as("dependency")
    assert "orders.user_id" not in members.all  # join SQL uses the column, not a member
    assert "users.id" in members.used_as("join")
    assert members.cubes == {"orders", "users"}


def test_view_members_and_their_cube_members() -> None:
    members = touched(
        "SELECT users_city, MEASURE(revenue) FROM order_facts WHERE products_category = 'x' GROUP BY 1"
    )
    assert {"order_facts.users_city", "order_facts.revenue", "order_facts.products_category"} <= members.all
    assert members.used_as("view_source") == {"users.city", "line_items.revenue", "products.category"}
    assert members.tables == {"order_facts"}
    assert members.cubes == {"orders", "users", "line_items", "products"}


def test_nested_queries_and_unions_are_included() -> None:
    members = touched(
        "WITH t AS (SELECT status, MEASURE(count) c FROM orders GROUP BY 1)"
        " SELECT status FROM t WHERE c > (SELECT MEASURE(count) FROM users WHERE vip)"
        " UNION ALL SELECT name FROM products"
    )
    assert {"orders.status", "orders.count", "users.count", "users.vip", "products.name"} <= members.all
    assert members.tables == {"orders", "users", "products"}


def test_select_star_touches_every_public_member_and_user_column() -> None:
    members = touched("SELECT * FROM products")
    assert members.all == {
        "products.count",
        "products.avg_price",
        "products.min_price",
        "products.max_price",
        "products.id",
        "products.name",
        "products.category",
        "products.price",
    }
    assert touched("SELECT * FROM products").user_column
