"""SecurityContext from a LoginRecord."""

from __future__ import annotations

import pytest

from sqlgate.auth.login import build_security_context, prepared_db_params
from sqlgate.errors import PgError
from tests.support.contexts import make_login


def test_owner_and_admin_have_no_access_list() -> None:
    for role in ("owner", "admin", "OWNER"):
        ctx = build_security_context(
            make_login("a", stored_password="x", role=role, access_list_id="al", access_cubes={"Orders": {}})
        )
        assert ctx.access_list is None and ctx.unrestricted


def test_member_access_list_is_restricted_to_the_datasource() -> None:
    cubes = {"Orders": {"measures": ["Orders.count"], "dimensions": ["Orders.status"], "segments": []}}
    ctx = build_security_context(
        make_login(
            "m",
            stored_password="x",
            role="member",
            access_list_id="al",
            access_list_name="L",
            access_cubes=cubes,
        )
    )
    assert ctx.role == "member" and ctx.access_list is not None
    assert ctx.access_list.allowed == frozenset({"Orders.count", "Orders.status"})
    no_entry = build_security_context(
        make_login("m", stored_password="x", role="member", access_list_id="al", access_cubes=None)
    )
    assert no_entry.access_list is None  # no entry for this datasource: no access to it at all
    assert build_security_context(make_login("m", stored_password="x", role="member")).access_list is None


def test_unknown_role_is_least_privileged_and_missing_membership_is_refused() -> None:
    assert build_security_context(make_login("x", stored_password="x", role="viewer")).role == "member"
    with pytest.raises(PgError) as info:
        build_security_context(make_login("x", stored_password="x", role=None))
    assert info.value.sqlstate == "28000" and info.value.severity == "FATAL"


def test_db_params_are_prepared_synmetrix_style() -> None:
    assert prepared_db_params('{"host": "h", "port": "5432", "password": "", "ssl": false}') == {
        "host": "h",
        "port": "5432",
    }
    assert prepared_db_params(None) == {} and prepared_db_params("not json") == {}
    ctx = build_security_context(make_login("x", stored_password="x", db_params={"host": "h", "user": None}))
    assert dict(ctx.datasource.db_params) == {"host": "h"}
    assert "never" not in repr(ctx)
