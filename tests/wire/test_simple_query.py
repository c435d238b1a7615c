"""Simple Query: several statements per message, empty queries, errors, transaction status."""

from __future__ import annotations

from sqlgate.pgproto import backend as be
from tests.support.rawpg import Connect, errors, kinds, rows


async def test_several_statements_in_one_query(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.query(
        "SELECT 1; SELECT 'two' AS t; SET application_name = 'x'; SHOW application_name"
    )
    assert kinds(messages) == [
        "RowDescription", "DataRow", "CommandComplete",
        "RowDescription", "DataRow", "CommandComplete",
        "CommandComplete",
        "RowDescription", "DataRow", "CommandComplete",
        "ParameterStatus", "ReadyForQuery",
    ]  # fmt: skip
    assert rows(messages) == [["1"], ["two"], ["x"]]
    tags = [m.tag for m in messages if isinstance(m, be.CommandComplete)]
    assert tags == ["SELECT 1", "SELECT 1", "SET", "SHOW"]
    status = [m for m in messages if isinstance(m, be.ParameterStatus)]
    assert (status[0].name, status[0].value) == ("application_name", "x")


async def test_empty_query(connect: Connect) -> None:
    conn = await connect()
    assert kinds(await conn.query("")) == ["EmptyQueryResponse", "ReadyForQuery"]
    assert kinds(await conn.query(" ; -- nothing\n")) == ["EmptyQueryResponse", "ReadyForQuery"]


async def test_an_error_ends_the_batch(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.query("SELECT 1; SELECT 1/0; SELECT 2")
    assert kinds(messages) == [
        "RowDescription", "DataRow", "CommandComplete", "RowDescription", "ErrorResponse", "ReadyForQuery"
    ]  # fmt: skip
    assert errors(messages) == ["22012"] and messages[-1].status == "I"
    assert rows(await conn.query("SELECT 3")) == [["3"]]


async def test_error_after_partial_rows(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.query("SELECT n FROM numbers_failing LIMIT 10")
    assert kinds(messages) == [
        "RowDescription",
        "DataRow",
        "DataRow",
        "DataRow",
        "ErrorResponse",
        "ReadyForQuery",
    ]


async def test_large_result_streams_every_row(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.query("SELECT n FROM numbers LIMIT 25000")
    data = rows(messages)
    assert len(data) == 25000 and data[0] == ["1"] and data[-1] == ["25000"]
    assert messages[-2].tag == "SELECT 25000"


async def test_transaction_status_follows_the_block(connect: Connect) -> None:
    conn = await connect()
    assert (await conn.query("BEGIN"))[-1].status == "T"
    messages = await conn.query("SELECT 1/0")
    assert messages[-1].status == "E"
    messages = await conn.query("SELECT 1")
    assert errors(messages) == ["25P02"] and messages[-1].status == "E"
    messages = await conn.query("COMMIT")
    assert [m.tag for m in messages if isinstance(m, be.CommandComplete)] == ["ROLLBACK"]
    assert messages[-1].status == "I"


async def test_warnings_arrive_as_notices(connect: Connect) -> None:
    conn = await connect()
    messages = await conn.query("COMMIT")
    assert kinds(messages) == ["NoticeResponse", "CommandComplete", "ReadyForQuery"]
    notice = messages[0]
    assert notice.code == "25P01" and notice.severity == "WARNING"


async def test_failed_multi_statement_query_undoes_its_settings(connect: Connect) -> None:
    conn = await connect()
    await conn.query("SET application_name = 'kept'")
    messages = await conn.query("SET application_name = 'undone'; SELECT 1/0")
    assert errors(messages) == ["22012"]
    assert rows(await conn.query("SHOW application_name")) == [["kept"]]


async def test_unsupported_and_refused_statements_keep_the_session(connect: Connect) -> None:
    conn = await connect()
    assert errors(await conn.query("SELECT * FROM pg_class")) == ["0A000"]
    assert errors(await conn.query("DELETE FROM numbers")) == ["25006"]
    assert errors(await conn.query("SELEC 1")) == ["42601"]
    assert errors(await conn.query("SELECT * FROM missing")) == ["42P01"]
    assert rows(await conn.query("SELECT 4")) == [["4"]]
