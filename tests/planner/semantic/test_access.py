"""check_access over planned statements: the strict Synmetrix rules (no database needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlglot

from sqlgate.auth.context import AccessList
from sqlgate.errors import PgError
from sqlgate.planner.semantic import plan_statement
from sqlgate.planner.semantic.access import check_access
from sqlgate.planner.semantic.members import TouchedMembers
from tests.support.semantic_harness import fixture_model, make_session


def touched(sql: str, visible: frozenset[str] | None = None) -> TouchedMembers:
    tree = sqlglot.parse_one(sql, read="postgres")
    plan, _ = plan_statement(
        tree, sql, fixture_model(), dialect="postgres", paramstyle="numeric", cache=None, visible=visible
    )
    return plan.touched


def context(cubes: dict[str, dict[str, list[str]]] | None, role: str = "member"):  # type: ignore[no-untyped-def]
    ctx = make_session(role=role).ctx
    access = (
        None
        if cubes is None
        else AccessList("al", "list", {k: {n: tuple(v) for n, v in m.items()} for k, m in cubes.items()})
    )
    return replace(ctx, access_list=access)


def refusal(sql: str, cubes: dict[str, dict[str, list[str]]] | None) -> str:
    with pytest.raises(PgError) as info:
        check_access(touched(sql), context(cubes))
    assert info.value.sqlstate == "42501"
    return info.value.message


ORDERS = {"orders": {"measures": ["orders.count"], "dimensions": ["orders.status", "orders.id"]}}


def test_owner_and_admin_pass_and_members_without_entry_are_refused() -> None:
    for role in ("owner", "admin"):
        check_access(touched("SELECT discount FROM orders"), context(None, role))
    assert refusal("SELECT status FROM orders", None) == "no access to the datasource"


def test_members_named_by_the_client_are_reported_before_indirect_ones() -> None:
    message = refusal("SELECT user_city, discount FROM orders", ORDERS)
    assert message.startswith('no access to member "orders.discount" and ')
    share = {"orders": {"measures": ["orders.count", "orders.completed_share"]}}
    assert refusal("SELECT MEASURE(completed_share) FROM orders", share).startswith(
        'no access to member "orders.completed_count" (used by a calculated member)'
    )


def test_cube_on_the_join_path_must_be_allowed() -> None:
    cubes = {**ORDERS, "products": {"dimensions": ["products.category"]}, "line_items": {}}
    message = refusal(
        "SELECT products.category, MEASURE(orders.count) FROM orders CROSS JOIN products GROUP BY 1", cubes
    )
    assert "line_items" in message


def test_select_star_expands_to_the_visible_members() -> None:
    allowed = frozenset({"orders.count", "orders.status"})
    star = touched("SELECT * FROM orders", visible=allowed)
    assert star.all == allowed
    check_access(star, context({"orders": {"measures": ["orders.count"], "dimensions": ["orders.status"]}}))


def test_view_members_need_the_cube_members_behind_them() -> None:
    view_only = {"order_facts": {"measures": ["order_facts.count"], "dimensions": ["order_facts.status"]}}
    message = refusal("SELECT status, MEASURE(count) FROM order_facts GROUP BY 1", view_only)
    assert "(behind a view member)" in message
    both = {**view_only, **ORDERS}
    check_access(touched("SELECT status, MEASURE(count) FROM order_facts GROUP BY 1"), context(both))


def test_merged_subquery_counts_the_columns_the_outer_query_drops() -> None:
    assert "orders.discount" in refusal("SELECT status FROM (SELECT status, discount FROM orders) q", ORDERS)
    assert "orders.discount" in refusal(
        "WITH t AS (SELECT status, discount FROM orders) SELECT status FROM t", ORDERS
    )


def test_unresolvable_names_are_never_exempt() -> None:
    made_up = TouchedMembers(frozenset({"ghost"}), frozenset({"ghost"}), {"ghost.x": frozenset({"join"})})
    with pytest.raises(PgError, match=r"ghost\.x"):
        check_access(made_up.with_internal(fixture_model()), context(ORDERS))
