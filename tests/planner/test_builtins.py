"""FROM-less SELECTs answered in-process, with PostgreSQL's result types and column names."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from decimal import Decimal

import pytest

from sqlgate.errors import PgError
from sqlgate.pgproto import oids
from sqlgate.planner.core import CorePlanner
from sqlgate.planner.session import Session
from tests.planner.conftest import run


async def test_select_literals(planner: CorePlanner, session: Session) -> None:
    result = await run(
        planner, session, "SELECT 1, 'a', 3000000000, 1.5, true, null, 1::text, 'x'::varchar(3)"
    )
    assert result.kind == "builtin" and result.tag == "SELECT 1"
    assert result.columns == [
        ("?column?", oids.INT4), ("?column?", oids.TEXT), ("?column?", oids.INT8), ("?column?", oids.NUMERIC),
        ("?column?", oids.BOOL), ("?column?", oids.TEXT), ("text", oids.TEXT), ("varchar", oids.VARCHAR),
    ]  # fmt: skip
    assert result.rows == [(1, "a", 3000000000, Decimal("1.5"), True, None, "1", "x")]


async def test_version_starts_like_postgresql(planner: CorePlanner, session: Session) -> None:
    for sql in ("select version()", "select pg_catalog.version()"):
        result = await run(planner, session, sql)
        assert result.columns == [("version", oids.TEXT)]
        # the regex SQLAlchemy's PostgreSQL dialect applies
        assert re.match(
            r".*(?:PostgreSQL|EnterpriseDB) (\d+)\.?(\d+)?(?:\.(\d+))?(?:\.\d+)?(?:devel|beta)?",
            result.rows[0][0],
        )


async def test_identity_functions(planner: CorePlanner, session: Session) -> None:
    result = await run(
        planner,
        session,
        "SELECT current_database(), current_user, session_user, user, current_schema(), current_catalog",
    )
    assert [c[1] for c in result.columns] == [oids.NAME] * 6
    assert [c[0] for c in result.columns] == [
        "current_database", "current_user", "session_user", "user", "current_schema", "current_catalog"
    ]  # fmt: skip
    assert result.rows == [("db", "alice", "alice", "alice", "public", "db")]
    assert (await run(planner, session, "select pg_backend_pid()")).rows == [(4242,)]


async def test_parameters_take_their_cast_types(planner: CorePlanner, session: Session) -> None:
    stmt = await planner.prepare(session, "SELECT $1::int8 AS a, $2 AS b, $3 + 1 AS c", ())
    assert stmt.param_oids == [oids.INT8, oids.TEXT, oids.INT4]
    assert [(c.name, c.type_oid) for c in stmt.columns or []] == [
        ("a", oids.INT8),
        ("b", oids.TEXT),
        ("c", oids.INT4),
    ]
    result = await run(planner, session, "SELECT $1::int8 AS a, $2 AS b, $3 + 1 AS c", [7, "x", 41])
    assert result.rows == [(7, "x", 42)]


async def test_declared_parameter_types_win(planner: CorePlanner, session: Session) -> None:
    stmt = await planner.prepare(session, "SELECT $1", (oids.INT4,))
    assert (
        stmt.param_oids == [oids.INT4] and stmt.columns is not None and stmt.columns[0].type_oid == oids.INT4
    )


async def test_settings_functions(planner: CorePlanner, session: Session) -> None:
    result = await run(
        planner, session, "SELECT current_setting('jit') AS cur, set_config('jit', 'off', false) AS new"
    )
    assert result.columns == [("cur", oids.TEXT), ("new", oids.TEXT)] and result.rows == [("off", "off")]
    assert (await run(planner, session, "SELECT current_setting('nope', true)")).rows == [(None,)]
    with pytest.raises(PgError) as info:
        await run(planner, session, "SELECT current_setting('nope')")
    assert info.value.sqlstate == "42704"


async def test_arithmetic_and_errors(planner: CorePlanner, session: Session) -> None:
    result = await run(planner, session, "SELECT 7/2, 7 % 3, -7/2, 2^3, 1.5 * 2, 'a' || 1, 1 = 1, NOT true")
    assert result.rows == [(3, 1, -3, 8.0, Decimal("3.0"), "a1", True, False)]
    with pytest.raises(PgError) as info:
        await run(planner, session, "SELECT 1/0")
    assert info.value.sqlstate == "22012"
    with pytest.raises(PgError) as info:
        await run(planner, session, "SELECT 2147483647 + 1")
    assert info.value.sqlstate == "22003"


async def test_timestamps_and_where(planner: CorePlanner, session: Session) -> None:
    result = await run(planner, session, "SELECT now(), current_timestamp, current_date")
    assert [c[0] for c in result.columns] == ["now", "current_timestamp", "current_date"]
    assert isinstance(result.rows[0][0], datetime) and result.rows[0][0].tzinfo is not None
    assert (await run(planner, session, "SELECT 1 WHERE false")).tag == "SELECT 0"


async def test_pg_sleep_is_cancellable(planner: CorePlanner, session: Session) -> None:
    result = await run(planner, session, "SELECT pg_sleep(0.01)")
    assert result.columns == [("pg_sleep", oids.VOID)] and result.rows == [("",)]
    task = asyncio.create_task(run(planner, session, "SELECT pg_sleep(30)"))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
