"""Python clients browsing and querying the model: psycopg 3, asyncpg (type introspection), SQLAlchemy 2
(inspect(), the reflection Superset uses; the asyncpg dialect's json codec set-up) and pandas.

Synchronous clients run in a thread: the gateway serves them from this test's event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pandas
import psycopg
import pytest
import sqlalchemy
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.catalog import CatalogEnv

pytestmark = pytest.mark.e2e


async def test_psycopg_browses_and_queries(catalog_env: CatalogEnv) -> None:
    async with await psycopg.AsyncConnection.connect(catalog_env.dsn(), autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT table_name, table_type, table_catalog FROM information_schema.tables"
            " WHERE table_schema = %s ORDER BY 1",
            ["public"],
        )
        assert await cur.fetchall() == [
            (name, "BASE TABLE", "db") for name in ("line_items", "orders", "products", "users")
        ]
        cur = await conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = %s ORDER BY ordinal_position LIMIT 3",
            ["orders"],
            binary=True,
        )
        assert await cur.fetchall() == [("count", "bigint"), ("total_amount", "numeric"), ("id", "numeric")]
        cur = await conn.execute("SELECT 'orders'::regclass::oid = %s::regclass::oid", ["public.orders"])
        assert await cur.fetchone() == (True,)
        cur = await conn.execute("SELECT status, MEASURE(count) FROM orders GROUP BY 1 ORDER BY 1")
        assert await cur.fetchall() == [("new", 1), ("shipped", 2)]
        # DECLARE … CURSOR / FETCH inside a transaction
        async with conn.cursor(name="browse") as named, conn.transaction():
            await named.execute("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace")
            tables = sorted(r[0] for r in await named.fetchall())
            assert tables == ["line_items", "orders", "products", "users"]


async def test_asyncpg_introspects_unknown_types_through_the_catalog(catalog_env: CatalogEnv) -> None:
    conn = await asyncpg.connect(catalog_env.url(), ssl=False)
    try:
        # information_schema columns are of domain types asyncpg does not know: it looks them up with
        # its recursive pg_type query and a binary oid[] parameter.
        rows = await conn.fetch(
            "SELECT table_name, ordinal_position FROM information_schema.columns"
            " WHERE table_name = $1 AND column_name = $2",
            "orders",
            "status",
        )
        assert [(r["table_name"], r["ordinal_position"]) for r in rows] == [("orders", 4)]
        await conn.set_type_codec("json", schema="pg_catalog", encoder=str, decoder=str, format="text")
        assert await conn.fetchval("SELECT MEASURE(count) FROM orders WHERE status = $1", "shipped") == 2
        prepared = await conn.prepare(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum = $2"
        )
        assert await prepared.fetchval("orders", 4) == "status"
    finally:
        await conn.close()


def _inspect(url: str) -> dict[str, Any]:
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        inspector = sqlalchemy.inspect(engine)
        result = {
            "schemas": inspector.get_schema_names(),
            "tables": inspector.get_table_names(),
            "views": inspector.get_view_names(),
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("comment"))
                for c in inspector.get_columns("orders")
            ],
            "pk": inspector.get_pk_constraint("orders"),
            "fks": inspector.get_foreign_keys("orders"),
            "indexes": inspector.get_indexes("orders"),
            "comment": inspector.get_table_comment("orders"),
        }
        with engine.connect() as conn:
            frame = pandas.read_sql(
                sqlalchemy.text("SELECT status, MEASURE(count) AS n FROM orders GROUP BY 1 ORDER BY 1"), conn
            )
        result["frame"] = frame.to_dict("list")
        return result
    finally:
        engine.dispose()


async def test_sqlalchemy_inspect_and_pandas(catalog_env: CatalogEnv) -> None:
    found = await asyncio.to_thread(_inspect, catalog_env.url(scheme="postgresql+psycopg"))
    assert found["schemas"] == ["information_schema", "public"]
    assert found["tables"] == ["line_items", "orders", "products", "users"]
    assert found["views"] == []
    assert found["columns"][:4] == [
        ("count", "BIGINT", False, "Number of orders"),
        ("total_amount", "NUMERIC", False, None),
        ("id", "NUMERIC", True, None),
        ("status", "TEXT", True, "Order status"),
    ]
    assert [c[0] for c in found["columns"]][-2:] == ["__user", "__cubeJoinField"]
    assert found["pk"]["constrained_columns"] == [] and found["fks"] == [] and found["indexes"] == []
    assert found["comment"] == {"text": "Orders"}
    assert found["frame"] == {"status": ["new", "shipped"], "n": [1, 2]}


async def test_sqlalchemy_asyncpg_dialect_sets_up_its_json_codecs(catalog_env: CatalogEnv) -> None:
    engine = create_async_engine(
        catalog_env.url(scheme="postgresql+asyncpg"), poolclass=sqlalchemy.pool.NullPool
    )
    try:
        async with engine.connect() as conn:  # on_connect: set_type_codec(json/jsonb) by-name lookups
            result = await conn.execute(sqlalchemy.text("SELECT status FROM orders GROUP BY 1 ORDER BY 1"))
            assert result.scalars().all() == ["new", "shipped"]
            names = await conn.run_sync(lambda sync: sqlalchemy.inspect(sync).get_table_names())
            assert names == ["line_items", "orders", "products", "users"]
    finally:
        await engine.dispose()
