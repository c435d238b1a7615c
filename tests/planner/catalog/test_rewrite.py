"""The token pass over catalog statements: what is refused, what is replaced, and that nothing else in
the client's text changes (tools send syntax sqlglot cannot parse; PostgreSQL must see it verbatim)."""

from __future__ import annotations

import pytest

from sqlgate.errors import PgError
from sqlgate.planner.catalog.lookalikes import ServerLookalikes
from sqlgate.planner.catalog.rewrite import DATABASE, PID, SETTINGS, USER, rewrite

PSQL_LOOKUP = (
    "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n "
    "ON n.oid = c.relnamespace WHERE c.relname OPERATOR(pg_catalog.~) '^(orders)$' "
    "COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3"
)
LOOKALIKES = ServerLookalikes(
    {
        ("pg_catalog", "pg_roles"): [("rolname", "name"), ("rolsuper", "boolean"), ("oid", "oid")],
        ("pg_catalog", "pg_database"): [("oid", "oid"), ("datname", "name"), ("datacl", "aclitem[]")],
        ("information_schema", "tables"): [("table_catalog", "information_schema.sql_identifier"),
                                           ("table_name", "information_schema.sql_identifier")],
    }
)  # fmt: skip


@pytest.mark.parametrize(
    "sql",
    [
        PSQL_LOOKUP,
        "SELECT t.oid FROM pg_type t WHERE t.oid = any($1::oid[]) -- asyncpg",
        "SELECT 'current_user', \"current_user\", x.user_name FROM pg_class x",
        "SELECT c.relname AS user FROM pg_class c",
        "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_attribute a",
    ],
)
def test_statements_without_session_values_are_sent_verbatim(sql: str) -> None:
    result = rewrite(sql, LOOKALIKES)
    assert result.sql == sql and not result.changed and result.settings == frozenset()


def test_session_functions_keep_the_column_names_postgresql_gives_them() -> None:
    result = rewrite(
        "SELECT current_user, session_user AS who, current_database(), pg_catalog.version()::text, "
        "pg_backend_pid() + 0, relname FROM pg_class WHERE relowner > 0"
    )
    sql = result.sql
    assert "current_setting('sqlgate.user')::pg_catalog.name) AS \"current_user\"," in sql
    assert ") AS who," in sql and 'AS "session_user"' not in sql  # the client's alias wins
    assert ') AS "current_database"' in sql and '::text AS "version"' in sql
    assert "+ 0, relname" in sql and 'AS "pg_backend_pid"' not in sql  # an expression: ?column?
    assert result.settings == {USER, DATABASE, PID}


def test_current_user_as_a_role_argument_is_the_catalog_role() -> None:
    sql = "SELECT has_table_privilege(current_user, c.oid, 'SELECT'), current_user FROM pg_class c"
    result = rewrite(sql)
    assert result.sql.startswith("SELECT has_table_privilege(current_user, c.oid, 'SELECT'), (pg_catalog")


def test_owner_and_setting_lookups_answer_for_the_session() -> None:
    result = rewrite(
        "SELECT pg_get_userbyid(c.relowner) AS owner, current_setting('TimeZone') FROM pg_class c"
    )
    assert "pg_catalog.pg_get_userbyid(c.relowner) IS NULL THEN NULL" in result.sql
    assert "pg_catalog.current_setting('TimeZone'))" in result.sql and 'AS "current_setting"' in result.sql
    assert result.settings == {USER, SETTINGS}


def test_lookalike_relations_replace_server_wide_relations_and_keep_aliases() -> None:
    result = rewrite(
        "SELECT r.rolname, d.datname, pg_roles.oid FROM pg_catalog.pg_roles r, pg_database d, pg_roles"
        " WHERE d.datname = 'x'",
        LOOKALIKES,
    )
    sql = result.sql
    assert "FROM (SELECT (pg_catalog.current_setting('sqlgate.user'))::name AS \"rolname\"" in sql
    assert sql.count("(SELECT ") == 5  # three look-alikes; the two pg_roles ones find the owner
    assert ") r, (SELECT" in sql and ") d, (SELECT" in sql and sql.rstrip().endswith("WHERE d.datname = 'x'")
    assert ") AS pg_roles WHERE" in sql
    assert result.settings == {USER, DATABASE}
    info = rewrite("SELECT table_catalog FROM information_schema.tables", LOOKALIKES)
    assert "CASE WHEN sqlgate_x.table_catalog IS NULL THEN NULL ELSE" in info.sql


def test_error_positions_point_into_the_clients_text() -> None:
    sql = "SELECT current_user, nosuchcolumn FROM pg_class"
    result = rewrite(sql)
    upstream = result.sql.index("nosuchcolumn") + 1
    assert result.original_position(upstream) == sql.index("nosuchcolumn") + 1
    inside = result.sql.index("sqlgate.user") + 1
    assert result.original_position(inside) == sql.index("current_user") + 1
    assert result.original_position(1) == 1


@pytest.mark.parametrize(
    ("sql", "sqlstate"),
    [
        ("SELECT pg_read_file('/etc/passwd')", "42501"),
        ("SELECT pg_catalog.pg_ls_dir('.') FROM pg_class", "42501"),
        ("SELECT \"lo_import\"('/etc/passwd')", "42501"),
        ("SELECT dblink_connect('host=x')", "42501"),
        ("SELECT pg_advisory_lock(1) FROM pg_class", "42501"),
        ("SELECT query_to_xml('select pg_sleep(1)', true, true, '')", "42501"),
        ("INSERT INTO pg_class SELECT * FROM pg_class", "25006"),
        ("COPY pg_class TO STDOUT", "25006"),
        ("EXPLAIN SELECT * FROM pg_class", "0A000"),
        ("SELECT 'unterminated FROM pg_class", "42601"),
    ],
)
def test_refused_before_anything_is_sent(sql: str, sqlstate: str) -> None:
    with pytest.raises(PgError) as info:
        rewrite(sql)
    assert info.value.sqlstate == sqlstate


def test_signalling_backends_answers_not_signalled() -> None:
    result = rewrite("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = '1'")
    assert "pg_terminate_backend(pid)" not in result.sql and "ELSE false END" in result.sql
