"""Look-alike relations: what a session sees instead of the catalog server's own state.

A shadow database lives on a shared PostgreSQL, so some catalog relations would show that server
rather than the gateway session: every database on it, its roles, other connections, their locks
and settings. Each such relation is replaced (by :mod:`sqlgate.planner.catalog.rewrite`) with a
subquery over the same relation that has **exactly its columns, in its order, with its types** —
read from the server itself once, so the look-alike follows the server's version — but shows only the
session: one database named as the client connected, one role (the session user, owning everything),
the session's own backend row, its own prepared statements. ``information_schema`` views keep their
rows; their ``*_catalog`` columns name the session's database instead of the shadow one.

Session values come from the ``sqlgate.*`` settings the statement sets before it runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlgate.planner.catalog.rewrite import (
    APPLICATION_NAME,
    CLIENT_TLS,
    DATABASE,
    PID,
    PREPARED,
    QUERY,
    SETTINGS,
    USER,
    setting,
    settings_read_by,
)

_ALIAS = "sqlgate_x"
_THIS_DATABASE = (
    "(SELECT d.oid FROM pg_catalog.pg_database d "
    "WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
)
# The role owning the shadow database and its tables: shown as the session user.
_OWNER = (
    "(SELECT d.datdba FROM pg_catalog.pg_database d "
    "WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
)
_OWN_BACKEND = f"{_ALIAS}.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()"
_USER = setting(USER)
_DB = setting(DATABASE)
_PID = setting(PID)


@dataclass(frozen=True)
class Lookalike:
    """How one relation is shown: column overrides (SQL over alias ``sqlgate_x``), a row filter, and
    optionally another row source (then columns without an override are NULL)."""

    columns: Mapping[str, str] = field(default_factory=dict)
    where: str | None = None
    source: str | None = None


_EMPTY = Lookalike(where="false")
_OWN_ROW_STATS = Lookalike(columns={"pid": _PID}, where=_OWN_BACKEND)
_THIS_DATABASE_STATS = Lookalike(
    columns={"datname": _DB}, where=f"{_ALIAS}.datid OPERATOR(pg_catalog.=) {_THIS_DATABASE}"
)

RELATIONS: dict[str, Lookalike] = {
    "pg_database": Lookalike(
        columns={"datname": _DB, "datacl": "NULL"},
        where=f"{_ALIAS}.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()",
    ),
    "pg_roles": Lookalike(
        columns={
            "rolname": _USER,
            "rolsuper": "false",
            "rolinherit": "true",
            "rolcreaterole": "false",
            "rolcreatedb": "false",
            "rolcanlogin": "true",
            "rolreplication": "false",
            "rolconnlimit": "-1",
            "rolpassword": "'********'",
            "rolvaliduntil": "NULL",
            "rolbypassrls": "false",
            "rolconfig": "NULL",
        },
        where=f"{_ALIAS}.oid OPERATOR(pg_catalog.=) {_OWNER}",
    ),
    "pg_user": Lookalike(
        columns={
            "usename": _USER,
            "usecreatedb": "false",
            "usesuper": "false",
            "userepl": "false",
            "usebypassrls": "false",
            "passwd": "'********'",
            "valuntil": "NULL",
            "useconfig": "NULL",
        },
        where=f"{_ALIAS}.usesysid OPERATOR(pg_catalog.=) {_OWNER}",
    ),
    "pg_stat_activity": Lookalike(
        columns={
            "datname": _DB,
            "pid": _PID,
            "usesysid": _OWNER,
            "usename": _USER,
            "application_name": setting(APPLICATION_NAME),
            "client_addr": "NULL",
            "client_hostname": "NULL",
            "client_port": "NULL",
            "query": setting(QUERY),
            "leader_pid": "NULL",
        },
        where=_OWN_BACKEND,
    ),
    "pg_stat_ssl": Lookalike(
        columns={
            "pid": _PID,
            "ssl": setting(CLIENT_TLS),
            "version": "NULL",
            "cipher": "NULL",
            "bits": "NULL",
            "client_dn": "NULL",
            "client_serial": "NULL",
            "issuer_dn": "NULL",
        },
        where=_OWN_BACKEND,
    ),
    "pg_stat_gssapi": _OWN_ROW_STATS,
    "pg_locks": Lookalike(
        columns={"pid": _PID}, where=f"{_ALIAS}.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()"
    ),
    "pg_stat_database": _THIS_DATABASE_STATS,
    "pg_stat_database_conflicts": _THIS_DATABASE_STATS,
    "pg_prepared_statements": Lookalike(
        columns={
            "name": "p.name",
            "statement": "p.statement",
            "prepare_time": "pg_catalog.now()",
            "parameter_types": "p.parameter_types::pg_catalog.oid[]::pg_catalog.regtype[]",
            "from_sql": "p.from_sql",
            "generic_plans": "0",
            "custom_plans": "0",
        },
        source=(
            f"pg_catalog.jsonb_to_recordset({setting(PREPARED)}::pg_catalog.jsonb) "
            "AS p(name pg_catalog.text, statement pg_catalog.text, parameter_types pg_catalog.text, "
            "from_sql pg_catalog.bool)"
        ),
    ),
    "pg_settings": Lookalike(
        columns={
            "setting": (
                f"COALESCE(({setting(SETTINGS)}::pg_catalog.jsonb) OPERATOR(pg_catalog.->>) "
                f"pg_catalog.lower({_ALIAS}.name), {_ALIAS}.setting)"
            )
        }
    ),
    # Server-wide relations: nothing of them belongs to the session.
    "pg_shdescription": _EMPTY,
    "pg_auth_members": _EMPTY,
    "pg_group": _EMPTY,
    "pg_db_role_setting": _EMPTY,
    "pg_shdepend": _EMPTY,
    "pg_stat_replication": _EMPTY,
    "pg_stat_wal_receiver": _EMPTY,
    "pg_stat_subscription": _EMPTY,
    "pg_replication_slots": _EMPTY,
    "pg_replication_origin_status": _EMPTY,
    "pg_stat_progress_vacuum": _EMPTY,
    "pg_stat_progress_analyze": _EMPTY,
    "pg_stat_progress_create_index": _EMPTY,
    "pg_stat_progress_basebackup": _EMPTY,
    "pg_stat_progress_copy": _EMPTY,
    "pg_stat_progress_cluster": _EMPTY,
}


def _is_catalog_name_column(column: str) -> bool:
    return column == "catalog_name" or column.endswith("_catalog")


def relations_to_introspect() -> list[str]:
    """The pg_catalog relations whose columns the look-alikes need."""
    return sorted(RELATIONS)


@dataclass
class ServerLookalikes:
    """The look-alikes for one catalog server, built from its relations' columns.

    ``columns`` maps ``(schema, relation)`` to its ``(column, type)`` list, for the pg_catalog
    relations of :data:`RELATIONS` and every information_schema view.
    """

    columns: Mapping[tuple[str, str], Sequence[tuple[str, str]]]
    _built: dict[tuple[str, str], tuple[str, frozenset[str]] | None] = field(default_factory=dict)

    def replacement(self, schema: str, name: str) -> tuple[str, frozenset[str]] | None:
        key = (schema, name)
        if key not in self._built:
            self._built[key] = self._build(schema, name)
        return self._built[key]

    def _build(self, schema: str, name: str) -> tuple[str, frozenset[str]] | None:
        columns = self.columns.get((schema, name))
        if not columns:
            return None
        if schema == "pg_catalog":
            lookalike = RELATIONS.get(name)
            if lookalike is None:
                return None
        elif schema == "information_schema":
            overrides = {
                column: f"CASE WHEN {_ALIAS}.{column} IS NULL THEN NULL ELSE {_DB} END"
                for column, _ in columns
                if _is_catalog_name_column(column)
            }
            if not overrides:
                return None
            lookalike = Lookalike(columns=overrides)
        else:
            return None
        return _subquery(schema, name, columns, lookalike)


def _subquery(
    schema: str, name: str, columns: Sequence[tuple[str, str]], lookalike: Lookalike
) -> tuple[str, frozenset[str]]:
    items = []
    for column, type_sql in columns:
        quoted = '"' + column.replace('"', '""') + '"'
        override = lookalike.columns.get(column)
        if override is None:
            if lookalike.source is not None:
                items.append(f"NULL::{type_sql} AS {quoted}")
            else:
                items.append(f"{_ALIAS}.{quoted}")
        else:
            items.append(f"({override})::{type_sql} AS {quoted}")
    source = lookalike.source or f"{schema}.{name} {_ALIAS}"
    text = f"(SELECT {', '.join(items)} FROM {source}"
    if lookalike.where:
        text += f" WHERE {lookalike.where}"
    text += ")"
    return text, settings_read_by(text)


INTROSPECTION_SQL = """
SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND ((n.nspname = 'pg_catalog' AND c.relname = ANY ('{%s}'::pg_catalog.name[]))
       OR (n.nspname = 'information_schema' AND c.relkind IN ('v', 'r')))
ORDER BY n.nspname, c.relname, a.attnum
"""


def introspection_sql() -> str:
    """The query reading the columns :class:`ServerLookalikes` needs (run on the catalog server)."""
    return INTROSPECTION_SQL % ",".join(relations_to_introspect())
