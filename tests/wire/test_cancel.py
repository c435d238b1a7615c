"""CancelRequest, statement_timeout, and clients that vanish mid-query."""

from __future__ import annotations

import asyncio

from sqlgate.gateway import Gateway
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from tests.support.numbers import NumbersHandler
from tests.support.rawpg import Connect, cancel, errors, kinds, rows


async def test_cancel_request_cancels_the_running_statement(gateway: Gateway, connect: Connect) -> None:
    conn = await connect()
    await conn.send(fe.Query("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.2)
    assert conn.key is not None
    await cancel(gateway.port, conn.key)
    messages = await conn.recv_until(timeout=5)
    assert errors(messages) == ["57014"]
    error = next(m for m in messages if isinstance(m, be.ErrorResponse))
    assert error.message == "canceling statement due to user request"
    assert rows(await conn.query("SELECT 'still usable'")) == [["still usable"]]


async def test_cancel_with_a_wrong_key_does_nothing(gateway: Gateway, connect: Connect) -> None:
    conn = await connect()
    other = await connect()
    assert conn.key is not None and other.key is not None
    await conn.send(fe.Query("SELECT pg_sleep(0.4)"))
    await asyncio.sleep(0.1)
    await cancel(gateway.port, be.BackendKeyData(conn.key.process_id, b"\x00\x00\x00\x00"))
    await cancel(gateway.port, other.key)  # the other session is idle: nothing to cancel
    messages = await conn.recv_until()
    assert errors(messages) == [] and kinds(messages)[-2:] == ["CommandComplete", "ReadyForQuery"]


async def test_cancel_during_extended_execute_inside_a_block(gateway: Gateway, connect: Connect) -> None:
    conn = await connect()
    await conn.query("BEGIN")
    await conn.send(
        fe.Parse("", "SELECT n FROM slow_numbers LIMIT 100"), fe.Bind("", ""), fe.Execute(), fe.Sync()
    )
    await asyncio.sleep(0.3)
    assert conn.key is not None
    await cancel(gateway.port, conn.key)
    messages = await conn.recv_until()
    assert errors(messages) == ["57014"] and messages[-1].status == "E"
    assert (await conn.query("ROLLBACK"))[-1].status == "I"


async def test_statement_timeout(connect: Connect) -> None:
    conn = await connect()
    await conn.query("SET statement_timeout = '100ms'")
    messages = await conn.query("SELECT pg_sleep(5)")
    assert errors(messages) == ["57014"]
    assert "statement timeout" in next(m for m in messages if isinstance(m, be.ErrorResponse)).message
    await conn.query("RESET statement_timeout")
    assert rows(await conn.query("SELECT pg_sleep(0.2), 1"))[0][1] == "1"


async def test_client_vanishing_mid_query_frees_its_work(
    gateway: Gateway, connect: Connect, numbers: NumbersHandler
) -> None:
    conn = await connect()
    before = len(gateway.server.connections)  # type: ignore[union-attr]
    await conn.send(fe.Query("SELECT n FROM slow_numbers LIMIT 1000"))
    await asyncio.sleep(0.3)
    conn.writer.transport.abort()  # no Terminate: the socket just goes away
    for _ in range(50):
        if numbers.executions and numbers.executions[-1].closed:
            break
        await asyncio.sleep(0.05)
    execution = numbers.executions[-1]
    assert execution.closed == 1 and execution.next < 1000
    for _ in range(50):
        if len(gateway.server.connections) < before:  # type: ignore[union-attr]
            break
        await asyncio.sleep(0.05)
    assert len(gateway.server.connections) == before - 1  # type: ignore[union-attr]
    assert (
        conn.key is not None
        and gateway.server.registry.cancel(conn.key.process_id, conn.key.secret_key) is False
    )  # type: ignore[union-attr]
