"""Read a database's catalog for the migration tests: columns, constraints, triggers, functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

SCHEMAS = ("public", "auth")


@dataclass(frozen=True)
class Catalog:
    """What a database holds, as comparable sets/dicts."""

    tables: set[str]
    # "schema.table" -> column -> (udt name, nullable "YES"/"NO", default or None)
    columns: dict[str, dict[str, tuple[str, str, str | None]]]
    # (table, constraint name, type, sorted columns)
    constraints: set[tuple[str, str, str, tuple[str, ...]]]
    # (table, columns, referenced table, referenced columns, on update, on delete)
    foreign_keys: set[tuple[str, tuple[str, ...], str, tuple[str, ...], str, str]]
    triggers: set[tuple[str, str]]
    functions: set[str]  # "schema.name(argtypes)"
    indexes: set[tuple[str, str, str]]  # (table, index name, access method)

    def objects(self) -> set[tuple[Any, ...]]:
        """Every named object, flattened: used to check that nothing was dropped."""
        out: set[tuple[Any, ...]] = {("table", t) for t in self.tables}
        for table, cols in self.columns.items():
            out |= {("column", table, c, spec[0]) for c, spec in cols.items()}
        out |= {("constraint", *c) for c in self.constraints}
        out |= {("fk", *f) for f in self.foreign_keys}
        out |= {("trigger", *t) for t in self.triggers}
        out |= {("function", f) for f in self.functions}
        out |= {("index", *i) for i in self.indexes}
        return out


async def read_catalog(url: str, schemas: tuple[str, ...] = SCHEMAS) -> Catalog:
    """The catalog of the database at ``url`` restricted to ``schemas``."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """
            SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
            WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE'
            """,
            list(schemas),
        )
        tables = {r["t"] for r in rows}
        columns: dict[str, dict[str, tuple[str, str, str | None]]] = {t: {} for t in tables}
        for r in await conn.fetch(
            """
            SELECT table_schema || '.' || table_name AS t, column_name, udt_name, is_nullable, column_default
            FROM information_schema.columns WHERE table_schema = ANY($1)
            """,
            list(schemas),
        ):
            if r["t"] in columns:
                columns[r["t"]][r["column_name"]] = (r["udt_name"], r["is_nullable"], r["column_default"])
        constraints = {
            (r["t"], r["constraint_name"], r["constraint_type"], tuple(sorted(r["cols"] or ())))
            for r in await conn.fetch(
                """
                SELECT tc.table_schema || '.' || tc.table_name AS t, tc.constraint_name, tc.constraint_type,
                       array_agg(kcu.column_name::text) FILTER (WHERE kcu.column_name IS NOT NULL) AS cols
                FROM information_schema.table_constraints tc
                LEFT JOIN information_schema.key_column_usage kcu
                  ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
                 AND kcu.table_name = tc.table_name
                WHERE tc.table_schema = ANY($1) AND tc.constraint_type <> 'CHECK'
                GROUP BY 1, 2, 3
                UNION ALL
                SELECT n.nspname || '.' || cl.relname, c.conname, 'CHECK', NULL
                FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid
                JOIN pg_namespace n ON n.oid = cl.relnamespace
                WHERE c.contype = 'c' AND n.nspname = ANY($1)
                """,
                list(schemas),
            )
        }
        foreign_keys = {
            (r["t"], tuple(r["cols"]), r["ref"], tuple(r["ref_cols"]), r["upd"], r["del"])
            for r in await conn.fetch(
                """
                SELECT n.nspname || '.' || cl.relname AS t,
                       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) k(n)
                             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS cols,
                       rn.nspname || '.' || rcl.relname AS ref,
                       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) k(n)
                             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) AS ref_cols,
                       rc.update_rule AS upd, rc.delete_rule AS del
                FROM pg_constraint c
                JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
                JOIN pg_class rcl ON rcl.oid = c.confrelid JOIN pg_namespace rn ON rn.oid = rcl.relnamespace
                JOIN information_schema.referential_constraints rc
                  ON rc.constraint_schema = n.nspname AND rc.constraint_name = c.conname
                WHERE c.contype = 'f' AND n.nspname = ANY($1)
                """,
                list(schemas),
            )
        }
        triggers = {
            (r["t"], r["tgname"])
            for r in await conn.fetch(
                """
                SELECT n.nspname || '.' || cl.relname AS t, tg.tgname
                FROM pg_trigger tg JOIN pg_class cl ON cl.oid = tg.tgrelid
                JOIN pg_namespace n ON n.oid = cl.relnamespace
                WHERE NOT tg.tgisinternal AND n.nspname = ANY($1)
                """,
                list(schemas),
            )
        }
        functions = {
            r["f"]
            for r in await conn.fetch(
                """
                SELECT n.nspname || '.' || p.proname
                       || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS f
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = ANY($1)
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
                """,
                list(schemas),
            )
        }
        indexes = {
            (r["t"], r["i"], r["am"])
            for r in await conn.fetch(
                """
                SELECT n.nspname || '.' || t.relname AS t, i.relname AS i, am.amname AS am
                FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = i.relam
                WHERE n.nspname = ANY($1)
                """,
                list(schemas),
            )
        }
    finally:
        await conn.close()
    return Catalog(tables, columns, constraints, foreign_keys, triggers, functions, indexes)


async def fetch_all(url: str, query: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of ``query`` as dicts (a fresh connection each time)."""
    conn = await asyncpg.connect(url)
    try:
        return [dict(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


async def execute_script(url: str, script: str) -> None:
    """Run a multi-statement SQL script (simple query protocol)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(script)
    finally:
        await conn.close()
