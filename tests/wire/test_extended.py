"""Extended query protocol: Parse/Bind/Describe/Execute/Close/Sync/Flush, portals, pipelining."""

from __future__ import annotations

import struct

from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto import oids
from sqlgate.planner.api import ResultColumn
from sqlgate.planner.statements import InProcessStatement
from tests.support.gateways import password_of, running_gateway
from tests.support.numbers import NumbersHandler
from tests.support.rawpg import Connect, RawPg, errors, kinds, rows


async def test_parse_bind_describe_execute(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.extended(
        [
            fe.Parse("", "SELECT $1::int8 + 1 AS n", ()),
            fe.Bind("", "", (), (b"41",)),
            fe.Describe("P"),
            fe.Execute(),
        ]
    )
    assert kinds(messages) == [
        "ParseComplete", "BindComplete", "RowDescription", "DataRow", "CommandComplete", "ReadyForQuery"
    ]  # fmt: skip
    description = messages[2]
    assert [(f.name, f.type_oid, f.type_size) for f in description.fields] == [("n", oids.INT8, 8)]
    assert rows(messages) == [["42"]] and messages[4].tag == "SELECT 1"


async def test_describe_statement(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.extended(
        [
            fe.Parse("s1", "SELECT $1::int AS a, $2 AS b", (0, oids.TEXT)),
            fe.Describe("S", "s1"),
            fe.Parse("s2", "SET application_name = 'x'"),
            fe.Describe("S", "s2"),
        ]
    )
    assert kinds(messages) == [
        "ParseComplete", "ParameterDescription", "RowDescription", "ParseComplete", "ParameterDescription",
        "NoData", "ReadyForQuery",
    ]  # fmt: skip
    assert messages[1].type_oids == (oids.INT4, oids.TEXT)
    assert [f.type_oid for f in messages[2].fields] == [oids.INT4, oids.TEXT]


async def test_row_limit_suspends_and_resumes_the_portal(connect: Connect) -> None:
    conn = await connect()
    # node-postgres cursor style: Execute(rows) + Flush, then more Execute + Flush, Sync at the end
    await conn.send(
        fe.Parse("", "SELECT n FROM numbers LIMIT 5"), fe.Bind("", ""), fe.Execute("", 2), fe.Flush()
    )
    messages = [await conn.recv() for _ in range(5)]
    assert kinds(messages) == ["ParseComplete", "BindComplete", "DataRow", "DataRow", "PortalSuspended"]
    await conn.send(fe.Execute("", 2), fe.Flush())
    messages = [await conn.recv() for _ in range(3)]
    assert kinds(messages) == ["DataRow", "DataRow", "PortalSuspended"] and rows(messages) == [["3"], ["4"]]
    messages = await conn.extended([fe.Execute("", 2)])
    assert kinds(messages) == ["DataRow", "CommandComplete", "ReadyForQuery"]
    assert messages[1].tag == "SELECT 1"


async def test_exact_row_limit_then_select_0_inside_a_block(connect: Connect) -> None:
    conn = await connect()
    await conn.query("BEGIN")
    messages = await conn.extended(
        [fe.Parse("", "SELECT n FROM numbers LIMIT 2"), fe.Bind("", ""), fe.Execute("", 1)]
    )
    assert kinds(messages) == ["ParseComplete", "BindComplete", "DataRow", "PortalSuspended", "ReadyForQuery"]
    assert messages[-1].status == "T"
    messages = await conn.extended([fe.Execute("", 1)])
    assert kinds(messages) == ["DataRow", "PortalSuspended", "ReadyForQuery"]
    messages = await conn.extended([fe.Execute("", 1)])
    assert kinds(messages) == ["CommandComplete", "ReadyForQuery"] and messages[0].tag == "SELECT 0"
    await conn.query("COMMIT")


async def test_named_portal_survives_sync_only_in_a_block(connect: Connect) -> None:
    conn = await connect()
    await conn.query("BEGIN")
    await conn.extended(
        [fe.Parse("s", "SELECT n FROM numbers LIMIT 3"), fe.Bind("p", "s"), fe.Execute("p", 1)]
    )
    messages = await conn.extended([fe.Execute("p", 0)])
    assert rows(messages) == [["2"], ["3"]]
    await conn.query("COMMIT")
    await conn.extended([fe.Bind("q", "s"), fe.Execute("q", 1)])
    messages = await conn.extended([fe.Execute("q", 1)])
    assert errors(messages) == ["34000"]


async def test_closed_portal_cannot_execute(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.extended(
        [fe.Parse("s", "SELECT 1"), fe.Bind("p", "s"), fe.Close("P", "p"), fe.Execute("p")]
    )
    assert kinds(messages) == [
        "ParseComplete",
        "BindComplete",
        "CloseComplete",
        "ErrorResponse",
        "ReadyForQuery",
    ]
    assert errors(messages) == ["34000"]


async def test_error_discards_until_sync(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.extended(
        [fe.Parse("", "SELEC 1"), fe.Bind("", ""), fe.Describe("P"), fe.Execute(), fe.Query("SELECT 1")]
    )
    assert kinds(messages) == ["ErrorResponse", "ReadyForQuery"] and errors(messages) == ["42601"]
    assert rows(await conn.query("SELECT 5")) == [["5"]]


async def test_pipeline_answers_in_order_and_aborts_after_an_error(connect: Connect) -> None:
    conn = await connect()
    batch = []
    for sql in ("SELECT 1", "SELECT 1/0", "SELECT 3"):
        batch += [fe.Parse("", sql), fe.Bind("", ""), fe.Describe("P"), fe.Execute()]
    messages = await conn.extended(batch)
    assert kinds(messages) == [
        "ParseComplete", "BindComplete", "RowDescription", "DataRow", "CommandComplete",
        "ParseComplete", "BindComplete", "RowDescription", "ErrorResponse", "ReadyForQuery",
    ]  # fmt: skip
    # the next batch runs normally; several Syncs in one write are each answered
    await conn.send(
        fe.Parse("", "SELECT 7"), fe.Bind("", ""), fe.Execute(), fe.Sync(),
        fe.Parse("", "SELECT 8"), fe.Bind("", ""), fe.Execute(), fe.Sync(),
    )  # fmt: skip
    first = await conn.recv_until()
    second = await conn.recv_until()
    assert rows(first) == [["7"]] and rows(second) == [["8"]]


async def test_many_statements_per_sync(connect: Connect) -> None:
    conn = await connect()
    batch = []
    for i in range(50):
        batch += [fe.Parse("", f"SELECT {i}"), fe.Bind("", ""), fe.Execute()]
    messages = await conn.extended(batch)
    assert rows(messages) == [[str(i)] for i in range(50)]


async def test_parse_describe_flush_without_sync(connect: Connect) -> None:
    conn = await connect()
    # asyncpg prepares like this and waits for the answers before sending anything else
    await conn.send(
        fe.Parse("__asyncpg_stmt_1__", "SELECT $1::int AS x"),
        fe.Describe("S", "__asyncpg_stmt_1__"),
        fe.Flush(),
    )
    messages = [await conn.recv() for _ in range(3)]
    assert kinds(messages) == ["ParseComplete", "ParameterDescription", "RowDescription"]
    messages = await conn.extended(
        [fe.Bind("", "__asyncpg_stmt_1__", (1,), (struct.pack("!i", 9),), (1,)), fe.Execute()]
    )
    assert kinds(messages) == ["BindComplete", "DataRow", "CommandComplete", "ReadyForQuery"]
    assert messages[1].values == (struct.pack("!i", 9),)


async def test_binary_oid_array_parameter_reaches_the_catalog_handler() -> None:
    """asyncpg's type introspection binds ``$1::oid[]`` in binary; sqlglot cannot parse that cast, so
    the catalog handler gets the text, and the decoded parameter."""
    seen: list[object] = []

    async def catalog(tree, sql, session, param_oids):  # type: ignore[no-untyped-def]
        async def run(s, params):  # type: ignore[no-untyped-def]
            seen.append(params.values[0])
            return [(len(params.values[0]),)], "SELECT 1"

        return InProcessStatement(
            "catalog", sql, run, columns=[ResultColumn("n", oids.INT4)], param_oids=[oids.OID_ARRAY]
        )

    array = (
        struct.pack("!iiIii", 1, 0, oids.OID, 2, 1) + struct.pack("!iI", 4, 23) + struct.pack("!iI", 4, 25)
    )
    async with running_gateway(catalog=catalog) as gw:
        conn = await RawPg.connect(gw.port)
        await conn.startup("alice", password_of("alice"))
        messages = await conn.extended(
            [
                fe.Parse("", "SELECT t.oid FROM pg_catalog.pg_type t WHERE t.oid = any($1::oid[])", (0,)),
                fe.Bind("", "", (1,), (array,), (1,)),
                fe.Execute(),
            ]
        )
        await conn.close()
    assert errors(messages) == [] and seen == [[23, 25]]
    assert next(m for m in messages if isinstance(m, be.DataRow)).values == (struct.pack("!i", 2),)


async def test_bind_errors(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.extended([fe.Parse("", "SELECT $1::int"), fe.Bind("", "", (), ())])
    assert errors(messages) == ["08P01"]
    messages = await conn.extended([fe.Bind("", "nope")])
    assert errors(messages) == ["26000"] and 'prepared statement "nope" does not exist' in messages[0].message
    messages = await conn.extended([fe.Parse("", "SELECT $1::int"), fe.Bind("", "", (), (b"abc",))])
    assert errors(messages) == ["22P02"]
    messages = await conn.extended([fe.Parse("", "SELECT $1::int"), fe.Bind("", "", (1,), (b"ab",))])
    assert errors(messages) == ["22P03"] and "bind parameter 1" in messages[-2].message
    messages = await conn.extended([fe.Parse("", "SELECT 1"), fe.Bind("", "", (), (), (0, 0))])
    assert errors(messages) == ["08P01"]
    messages = await conn.extended([fe.Parse("dup", "SELECT 1"), fe.Parse("dup", "SELECT 2")])
    assert errors(messages) == ["42P05"]
    messages = await conn.extended([fe.Parse("", "SELECT 1; SELECT 2")])
    assert errors(messages) == ["42601"]


async def test_empty_statement_and_deallocate_all(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.extended([fe.Parse("", ""), fe.Bind("", ""), fe.Describe("P"), fe.Execute()])
    assert kinds(messages) == [
        "ParseComplete",
        "BindComplete",
        "NoData",
        "EmptyQueryResponse",
        "ReadyForQuery",
    ]
    messages = await conn.extended([fe.Parse("", "DEALLOCATE ALL"), fe.Bind("", ""), fe.Execute()])
    assert kinds(messages) == ["ParseComplete", "BindComplete", "CommandComplete", "ReadyForQuery"]


async def test_failed_block_refuses_parse_but_not_rollback(connect: Connect) -> None:
    conn = await connect()
    await conn.query("BEGIN")
    await conn.query("SELECT 1/0")
    messages = await conn.extended([fe.Parse("", "SELECT 1")])
    assert errors(messages) == ["25P02"] and messages[-1].status == "E"
    messages = await conn.extended([fe.Parse("", "ROLLBACK"), fe.Bind("", ""), fe.Execute()])
    assert kinds(messages) == ["ParseComplete", "BindComplete", "CommandComplete", "ReadyForQuery"]
    assert messages[-1].status == "I"


async def test_binary_results_for_common_types(connect: Connect) -> None:
    conn = await connect()
    sql = "SELECT true, 2::int2, 3::int4, 4::int8, 1.5::float8, 2.5::numeric, 'x'::text, '2024-01-02'::date, $1::uuid"  # noqa: E501
    uuid_bytes = bytes(range(16))
    messages = await conn.extended(
        [fe.Parse("", sql, (oids.UUID,)), fe.Bind("", "", (1,), (uuid_bytes,), (1,)), fe.Execute()]
    )
    values = next(m for m in messages if isinstance(m, be.DataRow)).values
    assert values[:5] == (
        b"\x01",
        struct.pack("!h", 2),
        struct.pack("!i", 3),
        struct.pack("!q", 4),
        struct.pack("!d", 1.5),
    )
    assert values[5] == struct.pack("!hhHHhh", 2, 0, 0, 1, 2, 5000)
    assert values[6:] == (b"x", struct.pack("!i", 8767), uuid_bytes)


async def test_vanished_statement_executions_are_closed(connect: Connect, numbers: NumbersHandler) -> None:
    conn = await connect()
    await conn.query("SELECT n FROM numbers LIMIT 3")
    await conn.extended([fe.Parse("", "SELECT n FROM numbers LIMIT 3"), fe.Bind("", ""), fe.Execute("", 1)])
    await conn.extended(
        [fe.Parse("", "SELECT n FROM numbers_failing LIMIT 9"), fe.Bind("", ""), fe.Execute()]
    )
    assert [e.closed for e in numbers.executions] == [1, 1, 1]
