"""psycopg 3: simple and extended protocol, binary, pipeline mode, prepared and server-side cursors."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from decimal import Decimal

import psycopg
import pytest
from psycopg import errors as pgerrors

from tests.e2e.conftest import Target


async def connect(target: Target, **kwargs) -> psycopg.AsyncConnection:  # type: ignore[no-untyped-def]
    return await psycopg.AsyncConnection.connect(target.dsn(), **kwargs)


async def test_simple_protocol_multi_statement(target: Target) -> None:
    async with await connect(target, autocommit=True) as conn:
        assert conn.info.server_version == 150000
        assert conn.info.parameter_status("server_version") == "15.0 (sqlgate)"
        cur = await conn.execute("SELECT 1; SELECT 'last' AS x")
        assert await cur.fetchall() == [(1,)]
        assert cur.nextset() and await cur.fetchall() == [("last",)]


async def test_extended_protocol_with_typed_parameters(target: Target) -> None:
    values = (
        2**40,
        Decimal("12.345"),
        "héllo",
        datetime.date(2024, 2, 29),
        datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.UTC),
        uuid.UUID(int=7),
        True,
        0.1,
    )
    async with await connect(target, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT %s::int8 AS a, %s::numeric AS b, %s::text AS c, %s::date AS d, %s::timestamptz AS e,"
            " %s::uuid AS f, %s::bool AS g, %s::float8 AS h, %s::jsonb AS i",
            (*values, psycopg.types.json.Jsonb({"k": [1, 2]})),
        )
        assert await cur.fetchone() == (*values, {"k": [1, 2]})
        assert [d.name for d in cur.description or []] == list("abcdefghi")


async def test_binary_results(target: Target) -> None:
    async with await connect(target, autocommit=True) as conn:
        cur = conn.cursor(binary=True)
        await cur.execute(
            "SELECT 1::int2, 2::int4, 3::int8, 1.5::float4, 2.25::float8, 10.5::numeric, true, 'x'::varchar,"
            " '2020-02-02 02:02:02'::timestamp, %s::timestamptz",
            (datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),),
        )
        assert await cur.fetchone() == (
            1,
            2,
            3,
            1.5,
            2.25,
            Decimal("10.5"),
            True,
            "x",
            datetime.datetime(2020, 2, 2, 2, 2, 2),
            datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        )
        await cur.execute("SELECT n FROM numbers LIMIT 1000")
        assert [r[0] for r in await cur.fetchall()] == list(range(1, 1001))


async def test_session_time_zone_applies_to_timestamptz(target: Target) -> None:
    async with await connect(target, autocommit=True) as conn:
        await conn.execute("SET TIME ZONE 'America/New_York'")
        assert conn.info.timezone.key == "America/New_York"  # type: ignore[attr-defined]
        cur = await conn.execute("SELECT '2024-07-01 12:00:00+00'::timestamptz::text")
        assert await cur.fetchone() == ("2024-07-01 08:00:00-04",)


async def test_pipeline_mode(target: Target) -> None:
    async with await connect(target, autocommit=True) as conn:
        async with conn.pipeline():
            cursors = [await conn.execute("SELECT %s::int + 1", (i,)) for i in range(20)]
            many = conn.cursor()
            await many.executemany("SELECT %s::text", [("a",), ("b",)])
        assert [(await c.fetchone())[0] for c in cursors] == list(range(1, 21))  # type: ignore[index]
        with pytest.raises(pgerrors.DivisionByZero):
            async with conn.pipeline():
                await conn.execute("SELECT 1")
                await conn.execute("SELECT 1/0")
                await conn.execute("SELECT 2")
        cur = await conn.execute("SELECT 'after'")
        assert await cur.fetchone() == ("after",)


async def test_prepared_statements_after_the_threshold(target: Target) -> None:
    async with await connect(target, autocommit=True, prepare_threshold=2) as conn:
        for i in range(6):
            cur = await conn.execute("SELECT %s::int * 2", (i,))
            assert await cur.fetchone() == (i * 2,)
        cur = await conn.execute("SELECT %s::int", (1,), prepare=True)
        assert await cur.fetchone() == (1,)


async def test_transactions_and_errors(target: Target) -> None:
    async with await connect(target) as conn:
        cur = await conn.execute("SELECT 1")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        with pytest.raises(pgerrors.DivisionByZero):
            await conn.execute("SELECT 1/0")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        with pytest.raises(pgerrors.InFailedSqlTransaction):
            await conn.execute("SELECT 1")
        await conn.rollback()
        cur = await conn.execute("SHOW transaction_isolation")
        assert await cur.fetchone() == ("read committed",)
        await conn.commit()


async def test_server_side_cursor(target: Target) -> None:
    async with await connect(target) as conn:
        async with conn.cursor(name="paged") as cur:
            await cur.execute("SELECT n FROM numbers LIMIT 250")
            first = await cur.fetchmany(100)
            rest = await cur.fetchall()
        assert [r[0] for r in first + rest] == list(range(1, 251))
        await conn.commit()


async def test_cancel_from_the_driver(target: Target) -> None:
    async with await connect(target, autocommit=True) as conn:
        running = asyncio.create_task(conn.execute("SELECT pg_sleep(30)"))
        await asyncio.sleep(0.3)
        await conn.cancel_safe()  # the blocking cancel() would stall this event loop, which serves it
        with pytest.raises(pgerrors.QueryCanceled):
            await running
        cur = await conn.execute("SELECT 'ok'")
        assert await cur.fetchone() == ("ok",)


async def test_parameters_without_casts_are_text(target: Target) -> None:
    async with await connect(target, autocommit=True) as conn:
        cur = await conn.execute("SELECT %s AS who", ("me",))
        assert await cur.fetchone() == ("me",)


async def test_sqlalchemy_initialises_against_the_gateway(target: Target) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")

    def use_engine() -> None:
        # use_native_hstore would look hstore up in pg_type: a catalog query (not answered by this layer)
        engine = sqlalchemy.create_engine(target.url("postgresql+psycopg"), use_native_hstore=False)
        try:
            with engine.connect() as conn:
                assert engine.dialect.server_version_info[:1] == (15,)
                assert conn.execute(sqlalchemy.text("SELECT current_schema()")).scalar() == "public"
                assert conn.get_isolation_level() == "READ COMMITTED"
                rows = conn.execute(sqlalchemy.text("SELECT n FROM numbers LIMIT :k"), {"k": 3}).all()
                assert [r[0] for r in rows] == [1, 2, 3]
            with engine.connect().execution_options(isolation_level="SERIALIZABLE") as conn:
                value = conn.execute(sqlalchemy.text("SHOW transaction_isolation")).scalar()
                assert value == "serializable"
        finally:
            engine.dispose()

    # a blocking driver must not run on the event loop that serves it
    await asyncio.to_thread(use_engine)
