"""Shadow databases: the model as empty PostgreSQL tables.

A session's visible set — the cubes and views of its datasource's model version, restricted to the
members its access list allows (owners and admins see everything) — becomes one database holding an
empty table per cube/view in ``public``:

* columns in Cube's order (measures, dimensions, segments, ``__user``, ``__cubeJoinField``) with the
  stable types of :func:`sqlgate.planner.semantic.types.member_type_oid`;
* ``COMMENT ON TABLE``/``COLUMN`` from each description (or title);
* ``SELECT`` granted to PUBLIC (only the catalog role may connect), so ``has_table_privilege`` agrees
  that the session may query the table; nothing else.

The database is named after a digest of exactly that DDL, so two visible sets that would look the
same share one database, a model version that changes nothing visible keeps the same database (and
its OIDs), and a database once built is never changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from sqlgate.pgproto import oids
from sqlgate.planner.semantic.catalog import CatalogColumn, catalog_tables
from sqlgate.semantic.definitions import Relation
from sqlgate.semantic.model import CompiledModel
from sqlgate.upstream import UpstreamConnection

# Bump when the DDL's shape changes, so new databases are built instead of reusing old ones.
LAYOUT_VERSION = 1
DATABASE_PREFIX = "sqlgate_cat_"

_TYPE_NAMES = {
    oids.INT8: "bigint",
    oids.NUMERIC: "numeric",
    oids.TIMESTAMP: "timestamp",
    oids.TEXT: "text",
    oids.BOOL: "boolean",
}


@dataclass(frozen=True)
class ShadowDatabase:
    """A visible set's database: its name and the statements that build it."""

    name: str
    statements: tuple[str, ...]
    tables: tuple[str, ...]

    async def build(self, conn: UpstreamConnection) -> None:
        """Create the tables in a fresh database (``conn`` is the administrator, connected to it)."""
        await conn.simple_query("BEGIN")
        try:
            for statement in self.statements:
                await conn.simple_query(statement)
            await conn.simple_query("COMMIT")
        except BaseException:
            if not conn.broken:
                await conn.simple_query("ROLLBACK")
            raise
        # Statistics of empty tables (reltuples 0 rather than -1, as tools show row estimates).
        await conn.simple_query("ANALYZE")


def _identifier(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _table(relation: Relation) -> exp.Table:
    return exp.Table(this=_identifier(relation.name), db=exp.to_identifier("public"))


def _comment(title: str | None, description: str | None) -> str | None:
    return description or title or None


def table_statements(relation: Relation, columns: Sequence[CatalogColumn]) -> list[str]:
    """CREATE TABLE and COMMENT statements for one cube/view."""
    table = _table(relation)
    definitions = []
    for column in columns:
        constraints = [] if column.nullable else [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())]
        definitions.append(
            exp.ColumnDef(
                this=_identifier(column.name),
                kind=exp.DataType.build(_TYPE_NAMES.get(column.type_oid, "text"), dialect="postgres"),
                constraints=constraints,
            )
        )
    statements = [
        exp.Create(this=exp.Schema(this=table, expressions=definitions), kind="TABLE").sql("postgres")
    ]
    text = _comment(relation.title, relation.description)
    if text:
        statements.append(
            exp.Comment(this=table, kind="TABLE", expression=exp.Literal.string(text)).sql("postgres")
        )
    for column in columns:
        text = _comment(column.title, column.description)
        if text:
            target = exp.Column(
                this=_identifier(column.name),
                table=_identifier(relation.name),
                db=exp.to_identifier("public"),
            )
            statements.append(
                exp.Comment(this=target, kind="COLUMN", expression=exp.Literal.string(text)).sql("postgres")
            )
    return statements


def shadow_database(model: CompiledModel, allowed: frozenset[str] | None, role: str) -> ShadowDatabase:
    """The shadow database of ``model`` as seen with access list members ``allowed`` (None: all),
    for catalog role ``role`` (part of the name: the role is granted CONNECT when it is built)."""
    statements: list[str] = []
    tables: list[str] = []
    for relation, columns in catalog_tables(model, allowed):
        statements.extend(table_statements(relation, columns))
        tables.append(relation.name)
    statements.append("GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC")
    statements.append("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    digest = hashlib.sha256(f"layout {LAYOUT_VERSION}\nrole {role}\n".encode())
    for statement in statements:
        digest.update(statement.encode() + b"\n")
    name = DATABASE_PREFIX + digest.hexdigest()[:24]
    return ShadowDatabase(name, tuple(statements), tuple(tables))
