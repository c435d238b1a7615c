"""SET/SHOW/RESET, transaction blocks, PREPARE/EXECUTE, cursors: answered in-process like PostgreSQL."""

from __future__ import annotations

import pytest

from sqlgate.errors import PgError
from sqlgate.pgproto import oids
from sqlgate.planner.core import CorePlanner
from sqlgate.planner.session import Session
from tests.planner.conftest import run


async def test_set_and_show_use_canonical_names_and_values(planner: CorePlanner, session: Session) -> None:
    assert (await run(planner, session, "SET TIME ZONE 'europe/berlin'")).tag == "SET"
    shown = await run(planner, session, "show timezone")
    assert shown.columns == [("TimeZone", oids.TEXT)] and shown.rows == [("Europe/Berlin",)]
    await run(planner, session, "SET TIME ZONE -7")
    assert (await run(planner, session, "SHOW TIME ZONE")).rows == [("<-07>+07",)]
    await run(planner, session, "SET application_name TO MyApp")
    assert (await run(planner, session, "SHOW application_name")).rows == [("myapp",)]
    await run(planner, session, "SET datestyle = iso, dmy")
    assert (await run(planner, session, "SHOW DateStyle")).rows == [("ISO, DMY",)]
    await run(planner, session, 'SET search_path = a, "B c"')
    assert (await run(planner, session, "SHOW search_path")).rows == [('a, "B c"',)]
    await run(planner, session, "SET statement_timeout = 60000")
    assert (await run(planner, session, "SHOW statement_timeout")).rows == [("1min",)]


async def test_show_transaction_isolation_spellings(planner: CorePlanner, session: Session) -> None:
    for sql in ("SHOW transaction_isolation", "SHOW TRANSACTION ISOLATION LEVEL"):
        result = await run(planner, session, sql)
        assert result.columns == [("transaction_isolation", oids.TEXT)]
        assert result.rows == [("read committed",)]
    await run(planner, session, "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    assert (await run(planner, session, "SHOW default_transaction_isolation")).rows == [("repeatable read",)]


async def test_show_all_lists_settings_with_descriptions(planner: CorePlanner, session: Session) -> None:
    result = await run(planner, session, "SHOW ALL")
    assert [c[0] for c in result.columns] == ["name", "setting", "description"]
    names = {row[0]: row for row in result.rows}
    assert names["server_version"][1] == "15.0 (sqlgate)"
    assert names["TimeZone"][2]


@pytest.mark.parametrize(
    ("sql", "sqlstate"),
    [
        ("SET nope = 1", "42704"),
        ("SHOW nope", "42704"),
        ("SET server_version = '1'", "55P02"),
        ("SET DateStyle = 'German'", "22023"),
        ("SET TIME ZONE 'Mars/Olympus'", "22023"),
        ("SET client_encoding = 'LATIN1'", "0A000"),
        ("SET extra_float_digits = 9", "22023"),
        ("SET x =", "42601"),
        ("DEALLOCATE nothing", "26000"),
        ("FETCH 1 FROM nothing", "34000"),
    ],
)
async def test_refused_session_commands(
    planner: CorePlanner, session: Session, sql: str, sqlstate: str
) -> None:
    with pytest.raises(PgError) as info:
        await run(planner, session, sql)
    assert info.value.sqlstate == sqlstate


async def test_custom_settings_are_accepted(planner: CorePlanner, session: Session) -> None:
    await run(planner, session, "SET myapp.tenant = 'acme'")
    assert (await run(planner, session, "SHOW myapp.tenant")).rows == [("acme",)]
    assert (await run(planner, session, "SELECT current_setting('myapp.tenant')")).rows == [("acme",)]


async def test_reset_returns_to_session_defaults(planner: CorePlanner) -> None:
    from tests.support.contexts import make_context

    session = Session(make_context(), settings={"application_name": "from-startup"})
    await run(planner, session, "SET application_name = 'changed'")
    await run(planner, session, "RESET application_name")
    assert session.settings["application_name"] == "from-startup"
    await run(planner, session, "SET TIME ZONE 'Asia/Tokyo'")
    await run(planner, session, "RESET ALL")
    assert session.settings["TimeZone"] == "UTC"


async def test_transaction_block_status_and_warnings(planner: CorePlanner, session: Session) -> None:
    result = await run(planner, session, "BEGIN")
    assert result.tag == "BEGIN" and session.transaction_status == "T" and not result.notices
    result = await run(planner, session, "START TRANSACTION")
    assert [n.sqlstate for n in result.notices] == ["25001"] and result.notices[0].severity == "WARNING"
    assert (await run(planner, session, "COMMIT")).tag == "COMMIT"
    assert session.transaction_status == "I"
    result = await run(planner, session, "END")
    assert result.tag == "COMMIT" and [n.sqlstate for n in result.notices] == ["25P01"]
    result = await run(planner, session, "ROLLBACK")
    assert [n.message for n in result.notices] == ["there is no transaction in progress"]


async def test_rollback_undoes_set_and_commit_of_failed_block_rolls_back(
    planner: CorePlanner, session: Session
) -> None:
    await run(planner, session, "BEGIN")
    await run(planner, session, "SET extra_float_digits = 3")
    await run(planner, session, "ROLLBACK")
    assert session.settings["extra_float_digits"] == "1"
    await run(planner, session, "BEGIN")
    await run(planner, session, "SET LOCAL extra_float_digits = 2")
    await run(planner, session, "SET application_name = 'kept'")
    session.fail_transaction()
    stmt = await planner.prepare(session, "COMMIT", ())
    assert stmt.allowed_in_failed_transaction
    assert (await run(planner, session, "COMMIT")).tag == "ROLLBACK"
    assert session.settings["application_name"] == ""
    await run(planner, session, "BEGIN")
    await run(planner, session, "SET LOCAL extra_float_digits = 2")
    await run(planner, session, "SET application_name = 'kept'")
    await run(planner, session, "COMMIT")
    assert session.settings["extra_float_digits"] == "1" and session.settings["application_name"] == "kept"


async def test_set_local_outside_a_block_warns(planner: CorePlanner, session: Session) -> None:
    result = await run(planner, session, "SET LOCAL application_name = 'x'")
    assert [n.sqlstate for n in result.notices] == ["25P01"]
    assert session.settings["application_name"] == ""


async def test_savepoints(planner: CorePlanner, session: Session) -> None:
    with pytest.raises(PgError) as info:
        await run(planner, session, "SAVEPOINT a")
    assert info.value.sqlstate == "25P01"
    await run(planner, session, "BEGIN")
    await run(planner, session, "SAVEPOINT a")
    await run(planner, session, "SET application_name = 'x'")
    session.fail_transaction()
    assert (await run(planner, session, "ROLLBACK TO SAVEPOINT a")).tag == "ROLLBACK"
    assert session.transaction_status == "T" and session.settings["application_name"] == ""
    assert (await run(planner, session, "RELEASE a")).tag == "RELEASE"
    await run(planner, session, "ROLLBACK")


async def test_discard_all(planner: CorePlanner, session: Session) -> None:
    await run(planner, session, "PREPARE p AS SELECT 1")
    await run(planner, session, "SET application_name = 'x'")
    assert (await run(planner, session, "DISCARD ALL")).tag == "DISCARD ALL"
    assert "p" not in session.prepared and session.settings["application_name"] == ""
    await run(planner, session, "BEGIN")
    with pytest.raises(PgError) as info:
        await run(planner, session, "DISCARD ALL")
    assert info.value.sqlstate == "25001"


async def test_prepare_execute_deallocate(planner: CorePlanner, session: Session) -> None:
    assert (await run(planner, session, "PREPARE add_one (int) AS SELECT $1 + 1 AS n")).tag == "PREPARE"
    result = await run(planner, session, "EXECUTE add_one(41)")
    assert result.columns == [("n", oids.INT4)] and result.rows == [(42,)] and result.tag == "SELECT 1"
    with pytest.raises(PgError) as info:
        await run(planner, session, "PREPARE add_one AS SELECT 2")
    assert info.value.sqlstate == "42P05"
    with pytest.raises(PgError) as info:
        await run(planner, session, "EXECUTE add_one(1, 2)")
    assert info.value.sqlstate == "42601"
    assert (await run(planner, session, "DEALLOCATE PREPARE add_one")).tag == "DEALLOCATE"
    await run(planner, session, "PREPARE a AS SELECT 1")
    assert (await run(planner, session, "DEALLOCATE ALL")).tag == "DEALLOCATE ALL"
    assert session.prepared == {}


async def test_cursor_declare_fetch_move_close(planner: CorePlanner, session: Session) -> None:
    with pytest.raises(PgError) as info:
        await run(planner, session, "DECLARE c CURSOR FOR SELECT 1")
    assert info.value.sqlstate == "25P01"
    await run(planner, session, "BEGIN")
    assert (
        await run(planner, session, "DECLARE c CURSOR FOR SELECT 1 AS one, 'x' AS two")
    ).tag == "DECLARE CURSOR"
    result = await run(planner, session, "FETCH FORWARD 5 FROM c")
    assert result.rows == [(1, "x")] and result.tag == "FETCH 1"
    assert result.columns == [("one", oids.INT4), ("two", oids.TEXT)]
    assert (await run(planner, session, "FETCH NEXT FROM c")).tag == "FETCH 0"
    assert (await run(planner, session, "MOVE ALL IN c")).tag == "MOVE 0"
    assert (await run(planner, session, "CLOSE c")).tag == "CLOSE CURSOR"
    await run(planner, session, "DECLARE d CURSOR FOR SELECT 2")
    await run(planner, session, "COMMIT")
    assert session.cursors == {}
    await run(planner, session, "DECLARE h CURSOR WITH HOLD FOR SELECT 3")
    assert (await run(planner, session, "CLOSE ALL")).tag == "CLOSE CURSOR ALL"


async def test_unlisten_is_a_no_op_and_listen_is_refused(planner: CorePlanner, session: Session) -> None:
    assert (await run(planner, session, "UNLISTEN *")).tag == "UNLISTEN"
    with pytest.raises(PgError) as info:
        await run(planner, session, "LISTEN chan")
    assert info.value.sqlstate == "0A000"


@pytest.mark.parametrize("zone", ["1e400", "168", "-200", "99999999999999999999"])
async def test_set_time_zone_to_a_huge_number_is_22023(
    planner: CorePlanner, session: Session, zone: str
) -> None:
    # Found by tests/fuzz: round(inf) raised OverflowError (an internal error); PostgreSQL says 22023.
    with pytest.raises(PgError) as info:
        await run(planner, session, f"SET TIME ZONE {zone}")
    assert info.value.sqlstate == "22023"
    assert (await run(planner, session, "SET TIME ZONE 5")).tag == "SET"
