"""The Synmetrix metadata schema, created or adopted.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Creates the final state of Synmetrix's Hasura migrations: the 17 core tables (users, auth.*, teams,
datasources, dataschemas, explorations, members, team_roles, member_roles, reports, sql_credentials,
alerts) and the related branches, branch_statuses, versions, access_lists, dashboards, pinned_items,
events, request_logs and request_event_logs; their keys, checks, enum rows, trigger functions and
triggers.

Every statement is idempotent, because this revision also *adopts* a database that Synmetrix already
created: tables and columns are created only when missing, keys/checks/triggers only when no
equivalent one exists (whatever its name), enum rows are inserted ON CONFLICT DO NOTHING, and nothing
is ever dropped or altered. A column missing from an existing table is added; when it is NOT NULL
without a default it is added nullable (a NOT NULL column without a default cannot be added to a
table that has rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class Col(NamedTuple):
    # A NamedTuple, not a dataclass: alembic loads this file without registering it in sys.modules.
    name: str
    type: str
    not_null: bool = False
    default: str | None = None

    def ddl(self, *, for_existing_table: bool = False) -> str:
        parts = [f'"{self.name}"', self.type]
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.not_null and (self.default is not None or not for_existing_table):
            parts.append("NOT NULL")
        return " ".join(parts)


def _id() -> Col:
    return Col("id", "uuid", True, "gen_random_uuid()")


def _ts(name: str, not_null: bool = True) -> Col:
    return Col(name, "timestamptz", not_null, "now()")


def _stamps() -> list[Col]:
    return [_ts("created_at"), _ts("updated_at")]


def _uuid(name: str, not_null: bool = True) -> Col:
    return Col(name, "uuid", not_null)


def _text(name: str, not_null: bool = True, default: str | None = None) -> Col:
    return Col(name, "text", not_null, default)


def _jsonb(name: str, not_null: bool = True, default: str | None = None) -> Col:
    return Col(name, "jsonb", not_null, default)


EMPTY_OBJECT = "'{}'::jsonb"

# table -> (columns, primary key columns). Order = creation order (referenced tables first is not
# required: foreign keys are added after every table exists).
TABLES: dict[str, tuple[list[Col], tuple[str, ...]]] = {
    "public.users": (
        [_id(), *_stamps(), _text("display_name", False), _text("avatar_url", False)],
        ("id",),
    ),
    "auth.providers": ([_text("provider")], ("provider",)),
    "auth.roles": ([_text("role")], ("role",)),
    "auth.accounts": (
        [
            _id(),
            *_stamps(),
            _uuid("user_id"),
            Col("active", "boolean", True, "false"),
            Col("email", "citext"),
            Col("new_email", "citext"),
            _text("password_hash", False),
            _text("default_role", True, "'user'::text"),
            Col("is_anonymous", "boolean", True, "false"),
            _jsonb("custom_register_data", False),
            _text("otp_secret", False),
            Col("mfa_enabled", "boolean", True, "false"),
            Col("ticket", "uuid", True, "gen_random_uuid()"),
            _ts("ticket_expires_at"),
        ],
        ("id",),
    ),
    "auth.account_providers": (
        [_id(), *_stamps(), _uuid("account_id"), _text("auth_provider"), _text("auth_provider_unique_id")],
        ("id",),
    ),
    "auth.refresh_tokens": (
        [
            _uuid("refresh_token"),
            _ts("created_at"),
            Col("expires_at", "timestamptz", True),
            _uuid("account_id"),
        ],
        ("refresh_token",),
    ),
    "auth.account_roles": (
        [_id(), _ts("created_at"), _uuid("account_id"), _text("role")],
        ("id",),
    ),
    "public.teams": (
        [_id(), _text("name"), *_stamps(), _uuid("user_id")],
        ("id",),
    ),
    "public.datasources": (
        [
            _id(),
            *_stamps(),
            _uuid("user_id"),
            _text("name"),
            _text("db_type"),
            _jsonb("db_params", True, EMPTY_OBJECT),
            _uuid("team_id", False),
        ],
        ("id",),
    ),
    "public.branch_statuses": ([_text("status")], ("status",)),
    "public.branches": (
        [
            _id(),
            *_stamps(),
            _text("name", True, "'main'::text"),
            _uuid("user_id"),
            _uuid("datasource_id"),
            _text("status", True, "'created'::text"),
        ],
        ("id",),
    ),
    "public.versions": (
        [
            _id(),
            *_stamps(),
            _uuid("branch_id"),
            _text("checksum"),
            _uuid("user_id"),
            _text("markdown_doc", False),
        ],
        ("id",),
    ),
    "public.dataschemas": (
        [
            _id(),
            *_stamps(),
            _uuid("user_id"),
            _uuid("datasource_id"),
            _text("name"),
            _text("code"),
            _text("checksum", False),
            _uuid("version_id", False),
        ],
        ("id",),
    ),
    "public.explorations": (
        [
            _id(),
            *_stamps(),
            _uuid("user_id"),
            _uuid("datasource_id"),
            _jsonb("playground_state", True, EMPTY_OBJECT),
            _jsonb("playground_settings", True, EMPTY_OBJECT),
            _uuid("branch_id", False),
        ],
        ("id",),
    ),
    "public.members": (
        [_id(), *_stamps(), _uuid("user_id"), _uuid("team_id")],
        ("id",),
    ),
    "public.team_roles": ([_text("name")], ("name",)),
    "public.access_lists": (
        [
            _id(),
            *_stamps(),
            _jsonb("config", True, "jsonb_build_object()"),
            _text("name", True, "'Empty access list'::text"),
            _uuid("team_id"),
        ],
        ("id",),
    ),
    "public.member_roles": (
        [
            _id(),
            _uuid("member_id"),
            _text("team_role"),
            _uuid("access_list_id", False),
            _ts("created_at", False),
            _ts("updated_at", False),
        ],
        ("id",),
    ),
    "public.reports": (
        [
            _id(),
            *_stamps(),
            _uuid("user_id"),
            _uuid("team_id", False),
            _uuid("exploration_id"),
            _text("name"),
            _text("schedule"),
            _text("delivery_type"),
            _jsonb("delivery_config"),
        ],
        ("id",),
    ),
    "public.sql_credentials": (
        [
            _id(),
            *_stamps(),
            _uuid("datasource_id"),
            _uuid("user_id"),
            _text("username"),
            _text("password", False),
        ],
        ("id",),
    ),
    "public.alerts": (
        [
            _id(),
            *_stamps(),
            _uuid("user_id"),
            _uuid("team_id", False),
            _uuid("exploration_id"),
            _text("name"),
            _text("delivery_type"),
            _jsonb("delivery_config"),
            _jsonb("trigger_config"),
            _text("schedule"),
            _jsonb("locks_config", True, "jsonb_build_object()"),
        ],
        ("id",),
    ),
    "public.dashboards": (
        [
            _id(),
            *_stamps(),
            _uuid("user_id"),
            _text("name"),
            _jsonb("layout", False),
            _uuid("team_id", False),
        ],
        ("id",),
    ),
    "public.pinned_items": (
        [
            _id(),
            *_stamps(),
            _uuid("user_id"),
            _uuid("dashboard_id"),
            _uuid("exploration_id"),
            _text("name"),
            _jsonb("spec", True, EMPTY_OBJECT),
            _jsonb("spec_config", True, EMPTY_OBJECT),
        ],
        ("id",),
    ),
    "public.events": (
        [
            _id(),
            *_stamps(),
            _jsonb("data", True, EMPTY_OBJECT),
            _jsonb("page_context", True, EMPTY_OBJECT),
            _jsonb("device_context", True, EMPTY_OBJECT),
            _jsonb("user", True, EMPTY_OBJECT),
        ],
        ("id",),
    ),
    "public.request_logs": (
        [
            _id(),
            *_stamps(),
            _text("request_id"),
            _uuid("user_id"),
            _uuid("datasource_id"),
            Col("start_time", "timestamptz", True),
            Col("end_time", "timestamptz", True),
            _text("path", False),
        ],
        ("id",),
    ),
    "public.request_event_logs": (
        [
            _id(),
            *_stamps(),
            _text("request_id"),
            _text("event"),
            Col("duration", "numeric"),
            _text("queue_prefix", False),
            Col("time_in_queue", "numeric"),
            _text("path", False),
            _jsonb("query_key", False, "jsonb_build_array()"),
            _text("query_key_md5", False),
            _jsonb("query", False),
            _text("query_sql", False),
            Col("timestamp", "timestamptz"),
            _text("error", False),
        ],
        ("id",),
    ),
}

# (table, constraint name, columns). Names as Synmetrix's migrations left them.
UNIQUE_KEYS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "auth.account_providers",
        "account_providers_account_id_auth_provider_key",
        ("account_id", "auth_provider"),
    ),
    (
        "auth.account_providers",
        "account_providers_auth_provider_auth_provider_unique_id_key",
        ("auth_provider", "auth_provider_unique_id"),
    ),
    ("auth.accounts", "accounts_user_id_key", ("user_id",)),
    ("auth.accounts", "accounts_email_key", ("email",)),
    ("auth.accounts", "accounts_new_email_key", ("new_email",)),
    ("auth.account_roles", "user_roles_account_id_role_key", ("account_id", "role")),
    ("public.teams", "teams_user_id_name_key", ("user_id", "name")),
    ("public.members", "members_user_id_team_id_key", ("user_id", "team_id")),
    ("public.member_roles", "member_roles_member_id_team_role_key", ("member_id", "team_role")),
    ("public.sql_credentials", "sql_credentials_username_key", ("username",)),
    (
        "public.sql_credentials",
        "sql_credentials_datasource_id_user_id_username_key",
        ("datasource_id", "user_id", "username"),
    ),
    ("public.branches", "branches_datasource_id_name_key", ("datasource_id", "name")),
    ("public.request_logs", "request_logs_request_id_key", ("request_id",)),
]

CASCADE = ("CASCADE", "CASCADE")
SET_NULL = ("SET NULL", "SET NULL")
RESTRICT = ("RESTRICT", "RESTRICT")
DELETE_CASCADE = ("NO ACTION", "CASCADE")

# (table, column, referenced table, referenced column, (ON UPDATE, ON DELETE)).
FOREIGN_KEYS: list[tuple[str, str, str, str, tuple[str, str]]] = [
    ("auth.account_providers", "account_id", "auth.accounts", "id", CASCADE),
    ("auth.account_providers", "auth_provider", "auth.providers", "provider", RESTRICT),
    ("auth.accounts", "user_id", "public.users", "id", CASCADE),
    ("auth.accounts", "default_role", "auth.roles", "role", ("CASCADE", "RESTRICT")),
    ("auth.refresh_tokens", "account_id", "auth.accounts", "id", CASCADE),
    ("auth.account_roles", "account_id", "auth.accounts", "id", CASCADE),
    ("auth.account_roles", "role", "auth.roles", "role", ("CASCADE", "RESTRICT")),
    ("public.teams", "user_id", "public.users", "id", CASCADE),
    ("public.datasources", "user_id", "public.users", "id", CASCADE),
    ("public.datasources", "team_id", "public.teams", "id", SET_NULL),
    ("public.branches", "user_id", "public.users", "id", CASCADE),
    ("public.branches", "datasource_id", "public.datasources", "id", CASCADE),
    ("public.branches", "status", "public.branch_statuses", "status", RESTRICT),
    ("public.versions", "branch_id", "public.branches", "id", CASCADE),
    ("public.versions", "user_id", "public.users", "id", CASCADE),
    ("public.dataschemas", "user_id", "public.users", "id", CASCADE),
    ("public.dataschemas", "datasource_id", "public.datasources", "id", CASCADE),
    ("public.dataschemas", "version_id", "public.versions", "id", CASCADE),
    ("public.explorations", "datasource_id", "public.datasources", "id", CASCADE),
    ("public.explorations", "branch_id", "public.branches", "id", CASCADE),
    ("public.members", "user_id", "public.users", "id", DELETE_CASCADE),
    ("public.members", "team_id", "public.teams", "id", DELETE_CASCADE),
    ("public.access_lists", "team_id", "public.teams", "id", CASCADE),
    ("public.member_roles", "member_id", "public.members", "id", CASCADE),
    # SET NULL on a NOT NULL column is what Synmetrix has (deleting a role in use then fails).
    ("public.member_roles", "team_role", "public.team_roles", "name", ("CASCADE", "SET NULL")),
    ("public.member_roles", "access_list_id", "public.access_lists", "id", ("CASCADE", "NO ACTION")),
    ("public.reports", "user_id", "public.users", "id", CASCADE),
    ("public.reports", "team_id", "public.teams", "id", CASCADE),
    ("public.reports", "exploration_id", "public.explorations", "id", CASCADE),
    ("public.sql_credentials", "datasource_id", "public.datasources", "id", DELETE_CASCADE),
    ("public.sql_credentials", "user_id", "public.users", "id", DELETE_CASCADE),
    ("public.alerts", "user_id", "public.users", "id", CASCADE),
    ("public.alerts", "team_id", "public.teams", "id", SET_NULL),
    ("public.alerts", "exploration_id", "public.explorations", "id", CASCADE),
    ("public.dashboards", "team_id", "public.teams", "id", DELETE_CASCADE),
    ("public.pinned_items", "dashboard_id", "public.dashboards", "id", CASCADE),
    ("public.pinned_items", "exploration_id", "public.explorations", "id", CASCADE),
    ("public.request_logs", "user_id", "public.users", "id", CASCADE),
    ("public.request_logs", "datasource_id", "public.datasources", "id", CASCADE),
    ("public.request_event_logs", "request_id", "public.request_logs", "request_id", CASCADE),
]

EMAIL_PATTERN = "^[A-Za-z0-9._+%-]+@[A-Za-z0-9.-]+[.][A-Za-z]+$"
CHECKS: list[tuple[str, str, str]] = [
    ("auth.accounts", "proper_email", f"email ~* '{EMAIL_PATTERN}'"),
    ("auth.accounts", "proper_new_email", f"new_email ~* '{EMAIL_PATTERN}'"),
]

ENUM_ROWS: list[tuple[str, str, tuple[str, ...]]] = [
    ("auth.roles", "role", ("user", "anonymous", "me")),
    (
        "auth.providers",
        "provider",
        ("github", "facebook", "twitter", "google", "apple", "linkedin", "windowslive", "spotify"),
    ),
    ("public.team_roles", "name", ("owner", "member", "admin")),
    ("public.branch_statuses", "status", ("active", "created", "archived")),
]

FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION public.set_current_timestamp_updated_at()
    RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      _new record;
    BEGIN
      _new := NEW;
      _new."updated_at" = NOW();
      RETURN _new;
    END;
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION public.set_dataschema_checksum()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.checksum := MD5(concat(NEW.name, '-', NEW.code));
      RETURN NEW;
    END;
    $$
    """,
]

# Functions over a table's row type; created only when missing, because CREATE OR REPLACE cannot
# rename the parameter of the one Synmetrix may already have.
ROW_FUNCTIONS: list[tuple[str, str]] = [
    (
        "public.hide_password(public.datasources)",
        """
        CREATE FUNCTION public.hide_password(datasource_row public.datasources)
        RETURNS jsonb LANGUAGE sql STABLE AS $$
          SELECT jsonb_set(datasource_row.db_params, '{password}', '""')
        $$
        """,
    ),
    (
        "public.duration(public.request_logs)",
        """
        CREATE FUNCTION public.duration(request_logs_row public.request_logs)
        RETURNS double precision LANGUAGE sql STABLE AS $$
          SELECT EXTRACT(EPOCH FROM request_logs_row.end_time - request_logs_row.start_time) * 1000
        $$
        """,
    ),
]


def _sql(statement: str) -> None:
    # exec_driver_sql: statements are sent as written (no ":name" bind parsing), one at a time.
    op.get_bind().exec_driver_sql(statement)


def _rows(query: str, *params: object) -> list[tuple]:
    return list(op.get_bind().exec_driver_sql(query, params).fetchall())


def _quote(qualified: str) -> str:
    schema, name = qualified.split(".")
    return f'"{schema}"."{name}"'


def _existing_tables() -> set[str]:
    rows = _rows(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('public', 'auth') AND table_type = 'BASE TABLE'"
    )
    return {r[0] for r in rows}


def _constraints(table: str) -> list[tuple[str, str, frozenset[str]]]:
    """(name, contype, column set) of the table's constraints, plus its unique indexes as 'u'."""
    rows = _rows(
        """
        SELECT c.conname, c.contype::text,
               ARRAY(SELECT a.attname::text FROM unnest(c.conkey) AS k(n)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n)
        FROM pg_constraint c WHERE c.conrelid = to_regclass($1)
        UNION ALL
        SELECT ic.relname::text, 'u',
               ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) AS k(n)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL
        """,
        table,
    )
    return [(name, kind, frozenset(cols)) for name, kind, cols in rows]


def _create_tables() -> None:
    existing = _existing_tables()
    for table, (columns, primary_key) in TABLES.items():
        if table not in existing:
            body = ", ".join([c.ddl() for c in columns] + [f"PRIMARY KEY ({', '.join(primary_key)})"])
            _sql(f"CREATE TABLE {_quote(table)} ({body})")
            continue
        for column in columns:
            _sql(
                f"ALTER TABLE {_quote(table)} ADD COLUMN IF NOT EXISTS {column.ddl(for_existing_table=True)}"
            )
        if not any(kind == "p" for _, kind, _ in _constraints(table)):
            _sql(f"ALTER TABLE {_quote(table)} ADD PRIMARY KEY ({', '.join(primary_key)})")


def _create_unique_keys() -> None:
    for table, name, columns in UNIQUE_KEYS:
        wanted = frozenset(columns)
        if any(kind in ("u", "p") and cols == wanted for _, kind, cols in _constraints(table)):
            continue
        _sql(f'ALTER TABLE {_quote(table)} ADD CONSTRAINT "{name}" UNIQUE ({", ".join(columns)})')


def _create_foreign_keys() -> None:
    for table, column, ref_table, ref_column, (on_update, on_delete) in FOREIGN_KEYS:
        if any(kind == "f" and cols == {column} for _, kind, cols in _constraints(table)):
            continue
        name = f"{table.split('.')[1]}_{column}_fkey"
        _sql(
            f'ALTER TABLE {_quote(table)} ADD CONSTRAINT "{name}" FOREIGN KEY ("{column}") '
            f'REFERENCES {_quote(ref_table)} ("{ref_column}") ON UPDATE {on_update} ON DELETE {on_delete}'
        )


def _create_checks() -> None:
    for table, name, expression in CHECKS:
        if any(con_name == name for con_name, _, _ in _constraints(table)):
            continue
        _sql(f'ALTER TABLE {_quote(table)} ADD CONSTRAINT "{name}" CHECK ({expression})')


def _insert_enum_rows() -> None:
    for table, column, values in ENUM_ROWS:
        rows = ", ".join(f"('{v}')" for v in values)
        _sql(f'INSERT INTO {_quote(table)} ("{column}") VALUES {rows} ON CONFLICT DO NOTHING')


def _create_functions() -> None:
    for statement in FUNCTIONS:
        _sql(statement)
    for signature, statement in ROW_FUNCTIONS:
        if _rows("SELECT to_regprocedure($1)", signature)[0][0] is None:
            _sql(statement)


def _create_trigger(table: str, name: str, timing: str, function: str) -> None:
    exists = _rows(
        "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2 AND NOT tgisinternal",
        table,
        name,
    )
    if not exists:
        _sql(
            f'CREATE TRIGGER "{name}" {timing} ON {_quote(table)} FOR EACH ROW EXECUTE FUNCTION {function}()'
        )


def _create_triggers() -> None:
    for table, (columns, _) in TABLES.items():
        if any(c.name == "updated_at" for c in columns):
            schema, name = table.split(".")
            _create_trigger(
                table,
                f"set_{schema}_{name}_updated_at",
                "BEFORE UPDATE",
                "public.set_current_timestamp_updated_at",
            )
    _create_trigger(
        "public.dataschemas",
        "set_public_dataschemas_checksum",
        "BEFORE INSERT OR UPDATE",
        "public.set_dataschema_checksum",
    )


def upgrade() -> None:
    _sql("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    _sql("CREATE EXTENSION IF NOT EXISTS citext")
    _sql("CREATE SCHEMA IF NOT EXISTS auth")
    _create_tables()
    _create_unique_keys()
    _create_foreign_keys()
    _create_checks()
    _insert_enum_rows()
    _create_functions()
    _create_triggers()
    _sql(
        "CREATE INDEX IF NOT EXISTS request_event_logs_request_id_index "
        "ON public.request_event_logs USING hash (request_id)"
    )


def downgrade() -> None:
    # This revision may have adopted a database Synmetrix owns: dropping it would destroy that data.
    raise RuntimeError("the Synmetrix schema revision cannot be downgraded (sqlgate never drops it)")
