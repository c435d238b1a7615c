"""Catalog columns of the model, and access checks over touched members."""

from __future__ import annotations

import dataclasses

import pytest
import sqlglot

from sqlgate.auth.context import AccessList
from sqlgate.errors import PgError
from sqlgate.planner.semantic import plan_statement
from sqlgate.planner.semantic.access import check_access, denied_members
from sqlgate.planner.semantic.catalog import catalog_tables, relation_columns
from tests.support.semantic_harness import fixture_model, make_session


def test_columns_in_catalog_order_with_types() -> None:
    columns = relation_columns(fixture_model().relation("users"))
    assert [(c.name, c.type_oid, c.nullable, c.kind) for c in columns] == [
        ("count", 20, False, "measure"),
        ("vip_count", 20, False, "measure"),
        ("avg_age", 1700, False, "measure"),
        ("oldest", 1700, False, "measure"),
        ("id", 1700, True, "dimension"),
        ("name", 25, True, "dimension"),
        ("email", 25, True, "dimension"),
        ("city", 25, True, "dimension"),
        ("country", 25, True, "dimension"),
        ("age", 1700, True, "dimension"),
        ("isVip", 16, True, "dimension"),
        ("signedUpAt", 1114, True, "dimension"),
        ("age_group", 25, True, "dimension"),
        ("vip", 16, False, "segment"),
        ("adults", 16, False, "segment"),
        ("__user", 25, True, "virtual"),
        ("__cubeJoinField", 25, True, "virtual"),
    ]


def test_catalog_filtered_by_access_list() -> None:
    allowed = frozenset({"orders.count", "orders.status"})
    tables = {
        relation.name: [c.name for c in columns]
        for relation, columns in catalog_tables(fixture_model(), allowed)
    }
    assert tables == {"orders": ["count", "status", "__user", "__cubeJoinField"]}
    assert len(list(catalog_tables(fixture_model()))) == 7


def touched(sql: str):
    tree = sqlglot.parse_one(sql, read="postgres")
    return plan_statement(tree, sql, fixture_model(), dialect="postgres", paramstyle="numeric", cache=None)[
        0
    ].touched


def member_session(names: set[str] | None):
    session = make_session(role="member")
    access = None if names is None else AccessList("al-1", "analysts", {"orders": {"measures": tuple(names)}})
    return dataclasses.replace(session.ctx, access_list=access)


def test_owners_see_everything_members_need_every_touched_member() -> None:
    used = touched("SELECT user_city, MEASURE(completed_share) FROM orders WHERE completed GROUP BY 1")
    check_access(used, make_session(role="owner").ctx)
    with pytest.raises(PgError) as caught:
        check_access(used, member_session(None))
    assert caught.value.sqlstate == "42501" and "no access to the datasource" in caught.value.message
    names = {
        "orders.user_city",
        "orders.completed_share",
        "orders.completed",
        "orders.completed_count",
        "orders.count",
    }
    with pytest.raises(PgError) as caught:
        check_access(used, member_session(names))
    assert 'no access to member "users.city"' in caught.value.message  # used inside orders.user_city
    assert denied_members(used, frozenset(names)) == ["users.city", "users.id"]
    check_access(used, member_session(names | {"users.city", "users.id"}))
