# ruff: noqa: E501
"""Access lists through a real gateway, metadata database and PostgreSQL datasource (issue 6 item 1).

Users (tests/support/security.py): ``owner`` and ``admin`` (unrestricted), ``analyst`` (access list
"limited"), ``viewer`` ("views"), ``stranger`` (a member without access list). One refusal test per
way a member can be touched, each next to a query the same list allows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from tests.support.security import SecureSetup

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def conns(secure: SecureSetup) -> AsyncIterator[dict[str, psycopg.AsyncConnection]]:
    users = ("owner", "admin", "analyst", "viewer", "stranger")
    opened = {user: await secure.connect(user) for user in users}
    try:
        yield opened
    finally:
        for conn in opened.values():
            await conn.close()


async def rows(conn: psycopg.AsyncConnection, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    cur = await conn.execute(sql, params)
    return list(await cur.fetchall())


async def refused(conn: psycopg.AsyncConnection, sql: str, *, sqlstate: str = "42501") -> str:
    """Run ``sql``; assert it fails with ``sqlstate``, the connection stays usable; the message."""
    with pytest.raises(psycopg.Error) as info:
        await conn.execute(sql)
    assert info.value.sqlstate == sqlstate, (sql, info.value.sqlstate, str(info.value))
    assert await rows(conn, "SELECT 1") == [(1,)]
    return info.value.diag.message_primary or ""


async def oracle(secure: SecureSetup, sql: str) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(secure.pg.admin_url, autocommit=True) as conn:
        return await rows(conn, sql)


# ------------------------------------------------------------------------- roles


async def test_owner_and_admin_are_unrestricted(conns: dict[str, psycopg.AsyncConnection]) -> None:
    for user in ("owner", "admin"):
        got = await rows(conns[user], "SELECT MEASURE(avg_discount), MEASURE(customers) FROM orders")
        assert len(got) == 1 and got[0][1] > 0
        assert await rows(conns[user], "SELECT note FROM orders WHERE id = 1") is not None


async def test_member_without_access_list_has_no_access_to_the_datasource(
    conns: dict[str, psycopg.AsyncConnection],
) -> None:
    conn = conns["stranger"]
    for sql in ("SELECT MEASURE(count) FROM orders", "SELECT * FROM products", "SELECT 1 FROM users"):
        assert await refused(conn, sql) == "no access to the datasource"
    # The catalog shows nothing, and the session stays usable.
    assert (
        await rows(conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        == []
    )


# ------------------------------------------------------------------------- one test per usage


async def test_select_list(conns: dict[str, psycopg.AsyncConnection], secure: SecureSetup) -> None:
    conn = conns["analyst"]
    got = await rows(conn, "SELECT status, MEASURE(count) FROM orders GROUP BY 1 ORDER BY 1")
    assert got == await oracle(secure, "SELECT status, count(*) FROM orders GROUP BY 1 ORDER BY 1")
    assert (
        await refused(conn, "SELECT status, discount FROM orders") == 'no access to member "orders.discount"'
    )
    assert "orders.customers" in await refused(conn, "SELECT MEASURE(customers) FROM orders")
    assert "orders.avg_discount" in await refused(conn, "SELECT AVG(avg_discount) FROM orders")


async def test_where(conns: dict[str, psycopg.AsyncConnection]) -> None:
    conn = conns["analyst"]
    assert await rows(conn, "SELECT MEASURE(count) FROM orders WHERE status = 'nope'") == [(0,)]
    message = await refused(conn, "SELECT MEASURE(count) FROM orders WHERE discount > 5")
    assert message == 'no access to member "orders.discount"'
    assert "orders.note" in await refused(
        conn, "SELECT status FROM orders WHERE note IS NULL OR status = 'x'"
    )


async def test_having(conns: dict[str, psycopg.AsyncConnection]) -> None:
    conn = conns["analyst"]
    assert len(await rows(conn, "SELECT status FROM orders GROUP BY 1 HAVING MEASURE(count) > 0")) > 0
    assert "orders.customers" in await refused(
        conn, "SELECT status FROM orders GROUP BY 1 HAVING MEASURE(customers) > 1"
    )


async def test_order_by_including_position_and_alias(conns: dict[str, psycopg.AsyncConnection]) -> None:
    conn = conns["analyst"]
    assert "orders.avg_discount" in await refused(
        conn, "SELECT status FROM orders GROUP BY 1 ORDER BY MEASURE(avg_discount)"
    )
    assert "orders.discount" in await refused(conn, "SELECT status FROM orders ORDER BY discount")
    # An alias that shadows a forbidden member's name orders by the allowed output column.
    by_alias = await rows(conn, "SELECT status AS discount FROM orders GROUP BY 1 ORDER BY discount")
    by_position = await rows(conn, "SELECT status FROM orders GROUP BY 1 ORDER BY 1")
    assert by_alias == by_position and len(by_alias) > 1


async def test_group_by(conns: dict[str, psycopg.AsyncConnection]) -> None:
    conn = conns["analyst"]
    assert "orders.note" in await refused(conn, "SELECT MEASURE(count) FROM orders GROUP BY note")
    assert "orders.is_shipped" in await refused(
        conn, "SELECT status, MEASURE(count) FROM orders GROUP BY status, is_shipped"
    )


async def test_time_dimensions(conns: dict[str, psycopg.AsyncConnection], secure: SecureSetup) -> None:
    conn = conns["analyst"]
    got = await rows(
        conn, "SELECT DATE_TRUNC('year', created_at) y, MEASURE(count) FROM orders GROUP BY 1 ORDER BY 1"
    )
    want = await oracle(
        secure,
        "SELECT date_trunc('year', created_at AT TIME ZONE 'UTC'), count(*) FROM orders GROUP BY 1 ORDER BY 1",
    )
    assert got == want
    assert "orders.shipped_at" in await refused(
        conn, "SELECT DATE_TRUNC('month', shipped_at), MEASURE(count) FROM orders GROUP BY 1"
    )


async def test_segments(conns: dict[str, psycopg.AsyncConnection], secure: SecureSetup) -> None:
    conn = conns["analyst"]
    got = await rows(conn, "SELECT MEASURE(count) FROM orders WHERE completed")
    assert got == await oracle(secure, "SELECT count(*) FROM orders WHERE status = 'completed'")
    assert "orders.discounted" in await refused(conn, "SELECT MEASURE(count) FROM orders WHERE discounted")
    assert "orders.discounted" in await refused(conn, "SELECT discounted FROM orders")


async def test_members_inside_calculated_members_transitively(
    conns: dict[str, psycopg.AsyncConnection], secure: SecureSetup
) -> None:
    conn = conns["analyst"]
    # completed_share = completed_count / count: completed_count is not in the list.
    message = await refused(conn, "SELECT MEASURE(completed_share) FROM orders")
    assert message == 'no access to member "orders.completed_count" (used by a calculated member)'
    # status_code -> status_upper -> status: the middle one is not in the list.
    assert "order_codes.status_upper" in await refused(conn, "SELECT status_code FROM order_codes LIMIT 1")
    # user_city = {users.city}: a member of another cube ("views" allows user_city, not users.city).
    message = await refused(conns["viewer"], "SELECT user_city FROM orders LIMIT 1")
    assert message.startswith('no access to member "users.city" (used by a calculated member)')
    # discount_per_order -> discount_total (public, not allowed) -> discount_value (private: exempt).
    assert "order_codes.discount_total" in await refused(
        conn, "SELECT MEASURE(discount_per_order) FROM order_codes"
    )
    # Allowed members whose own SQL only uses raw columns work.
    got = await rows(conn, "SELECT status, MEASURE(count) FROM order_codes GROUP BY 1 ORDER BY 1")
    assert got == await oracle(secure, "SELECT status, count(*) FROM orders GROUP BY 1 ORDER BY 1")


async def test_join_paths(conns: dict[str, psycopg.AsyncConnection], secure: SecureSetup) -> None:
    conn = conns["analyst"]
    # orders -> users joins on {users.id}, which "limited" does not allow.
    message = await refused(
        conn, "SELECT users.country, MEASURE(orders.count) FROM orders CROSS JOIN users GROUP BY 1"
    )
    assert message == 'no access to member "users.id" (used by a join)'
    # orders -> line_items -> products: line_items is not in the list at all.
    message = await refused(
        conn, "SELECT products.category, MEASURE(orders.count) FROM orders CROSS JOIN products GROUP BY 1"
    )
    assert "line_items" in message
    # A cube named in FROM but not otherwise used is still read: it must be allowed too.
    assert (
        await refused(conn, "SELECT MEASURE(orders.count) FROM orders CROSS JOIN line_items")
        == 'no access to cube "line_items"'
    )


async def test_join_allowed_when_every_join_member_is_listed(secure: SecureSetup) -> None:
    from sqlgate.metastore import admin

    await admin.create_user(secure.engine, email="joiner@security.test")
    await admin.add_member(
        secure.engine, team=secure.team_id, user="joiner@security.test", role="member", access_list="joins"
    )
    issued = await admin.create_credential(
        secure.engine,
        team=secure.team_id,
        datasource=secure.datasources["POSTGRES"],
        user="joiner@security.test",
    )
    dsn = secure.dsn("owner").replace(secure.credentials[("owner", "POSTGRES")][0], issued["username"])
    dsn = dsn.replace(secure.credentials[("owner", "POSTGRES")][1], issued["password"])
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        got = await rows(
            conn,
            "SELECT users.country, MEASURE(orders.count) FROM orders CROSS JOIN users GROUP BY 1 ORDER BY 1",
        )
        want = await oracle(
            secure,
            "SELECT u.country, count(o.id) FROM orders o LEFT JOIN users u ON u.id = o.user_id"
            " GROUP BY 1 ORDER BY 1",
        )
        assert got == want


async def test_views_need_their_cube_members(
    conns: dict[str, psycopg.AsyncConnection], secure: SecureSetup
) -> None:
    # "views" allows order_facts.count/status and orders.count/status: the members behind them.
    viewer = conns["viewer"]
    got = await rows(viewer, "SELECT status, MEASURE(count) FROM order_facts GROUP BY 1 ORDER BY 1")
    assert got == await oracle(secure, "SELECT status, count(*) FROM orders GROUP BY 1 ORDER BY 1")
    # "limited" allows order_facts.count but not the cube member behind it... it does allow
    # orders.count; "views" without orders.count would refuse (see the unit tests). A view member
    # that is not listed is refused by its view name:
    message = await refused(conns["analyst"], "SELECT MEASURE(total_discount) FROM order_facts")
    assert message.startswith('no access to member "order_facts.total_discount"')
    # The viewer may not use the view's other members, nor the cubes directly beyond its list.
    assert "order_facts.users_city" in await refused(viewer, "SELECT users_city FROM order_facts")
    assert "orders.created_at" in await refused(viewer, "SELECT created_at FROM orders")


async def test_view_over_a_private_cube(
    conns: dict[str, psycopg.AsyncConnection], secure: SecureSetup
) -> None:
    # hidden_orders is not public: nobody can list its members, so the view's members suffice.
    got = await rows(
        conns["analyst"], "SELECT status, MEASURE(count) FROM hidden_facts GROUP BY 1 ORDER BY 1"
    )
    assert got == await oracle(secure, "SELECT status, count(*) FROM orders GROUP BY 1 ORDER BY 1")
    assert await refused(conns["analyst"], "SELECT MEASURE(count) FROM hidden_orders", sqlstate="42P01")
    assert "hidden_facts" in await refused(conns["viewer"], "SELECT MEASURE(count) FROM hidden_facts")


async def test_wrapped_queries(conns: dict[str, psycopg.AsyncConnection]) -> None:
    conn = conns["analyst"]
    wrapped = [
        "SELECT * FROM (SELECT status, discount FROM orders) q",
        "SELECT status FROM (SELECT status, discount FROM orders) q",
        "WITH t AS (SELECT status, discount FROM orders) SELECT status FROM t",
        "WITH t AS (SELECT status, MEASURE(count) c FROM orders GROUP BY 1) SELECT * FROM t"
        " WHERE c > (SELECT MEASURE(customers) FROM orders)",
        "SELECT status FROM orders UNION ALL SELECT note FROM orders",
        "SELECT status FROM orders WHERE id IN (SELECT id FROM orders WHERE discount > 1)",
        "SELECT status FROM orders WHERE EXISTS (SELECT 1 FROM orders o2 WHERE o2.discounted)",
        "SELECT s, RANK() OVER (ORDER BY n) FROM (SELECT status s, MEASURE(avg_discount) n FROM orders GROUP BY 1) q",
    ]
    for sql in wrapped:
        message = await refused(conn, sql)
        assert message.startswith('no access to member "orders.'), (sql, message)
    got = await rows(
        conn, "SELECT s FROM (SELECT status s, MEASURE(count) n FROM orders GROUP BY 1) q ORDER BY n DESC"
    )
    assert len(got) > 1


async def test_select_star_expands_to_allowed_members(conns: dict[str, psycopg.AsyncConnection]) -> None:
    # SELECT * lists what the catalog lists: the allowed members (and the virtual columns).
    cur = await conns["analyst"].execute("SELECT * FROM users LIMIT 2")
    assert [c.name for c in cur.description or []] == ["count", "country", "__user", "__cubeJoinField"]
    cur = await conns["analyst"].execute("SELECT * FROM products LIMIT 2")
    assert [c.name for c in cur.description or []] == ["category", "__user", "__cubeJoinField"]
    cur = await conns["owner"].execute("SELECT * FROM products LIMIT 2")
    assert len(cur.description or []) > 3  # the owner's plan of the same text is not shared
    # An allowed calculated member whose inputs are not allowed is still refused, with the reason.
    message = await refused(conns["analyst"], "SELECT * FROM orders LIMIT 1")
    assert message == 'no access to member "orders.completed_count" (used by a calculated member)'


async def test_user_column_is_refused_wherever_it_is_named(conns: dict[str, psycopg.AsyncConnection]) -> None:
    for user in ("owner", "analyst"):
        conn = conns[user]
        for sql in (
            "SELECT MEASURE(count) FROM orders WHERE __user = 'someone'",
            "SELECT __user, MEASURE(count) FROM orders GROUP BY 1",
            "SELECT status FROM orders GROUP BY 1 HAVING MIN(__user) = 'x'",
            "SELECT status FROM orders ORDER BY __user",
            'SELECT "__user" FROM orders',
            "SELECT * FROM (SELECT * FROM orders) q WHERE __user = 'x'",
        ):
            assert "__user" in await refused(conn, sql), sql


async def test_catalog_shows_only_allowed_cubes_and_members(
    conns: dict[str, psycopg.AsyncConnection],
) -> None:
    conn = conns["analyst"]
    tables = await rows(
        conn,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    assert [t[0] for t in tables] == [
        "hidden_facts", "order_codes", "order_facts", "orders", "products", "users",
    ]  # fmt: skip
    columns = await rows(
        conn,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position",
    )
    assert [c[0] for c in columns] == ["count", "country", "__user", "__cubeJoinField"]
    attributes = await rows(
        conn,
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relname = 'products' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    )
    assert [a[0] for a in attributes] == ["category", "__user", "__cubeJoinField"]
    everything = await rows(
        conns["owner"], "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    )
    assert everything[0][0] > len(tables)


async def test_psql_lists_only_allowed_tables(secure: SecureSetup) -> None:
    import asyncio
    import shutil

    psql = shutil.which("psql")
    assert psql is not None, "psql is needed (scripts/test installs it)"
    username, password = secure.credentials[("analyst", "POSTGRES")]
    proc = await asyncio.create_subprocess_exec(
        psql,
        "-X",
        "-A",
        "-t",
        f"host=127.0.0.1 port={secure.gateway.port} dbname=db user={username} sslmode=disable",
        "-c",
        r"\dt",
        "-c",
        r"\d users",
        env={"PGPASSWORD": password, "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    listed = [line.split("|")[1] for line in text.splitlines() if line.startswith("public|")]
    assert listed == ["hidden_facts", "order_codes", "order_facts", "orders", "products", "users"], text
    assert "country" in text and "city" not in text
