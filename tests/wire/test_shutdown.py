"""Draining on shutdown: stop accepting, let statements finish, then 57P01."""

from __future__ import annotations

import asyncio

from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from tests.support.gateways import password_of, running_gateway
from tests.support.numbers import NumbersHandler
from tests.support.rawpg import RawPg, rows


async def test_shutdown_drains_running_statements_then_closes_sessions() -> None:
    async with running_gateway(semantic=NumbersHandler()) as gw:
        idle = await RawPg.connect(gw.port)
        busy = await RawPg.connect(gw.port)
        for conn in (idle, busy):
            await conn.startup("alice", password_of("alice"))
        await busy.send(fe.Query("SELECT n FROM slow_numbers LIMIT 3"))
        await asyncio.sleep(0.1)
        stopping = asyncio.create_task(gw.stop(timeout=5))
        error = await idle.recv()
        assert isinstance(error, be.ErrorResponse) and error.code == "57P01" and error.severity == "FATAL"
        assert await idle.closed()
        messages = await busy.recv_until()
        assert rows(messages) == [["1"], ["2"], ["3"]]
        error = await busy.recv()
        assert isinstance(error, be.ErrorResponse) and error.code == "57P01"
        await stopping
        try:
            late = await RawPg.connect(gw.port)
        except OSError:
            pass  # refused: the listener is closed
        else:
            assert await late.closed()


async def test_shutdown_timeout_cancels_long_statements() -> None:
    async with running_gateway(semantic=NumbersHandler()) as gw:
        conn = await RawPg.connect(gw.port)
        await conn.startup("alice", password_of("alice"))
        await conn.send(fe.Query("SELECT n FROM slow_numbers LIMIT 500"))
        await asyncio.sleep(0.1)
        await gw.stop(timeout=0.3)
        seen = []
        try:
            while True:
                seen.append(await conn.recv(timeout=3))
        except EOFError:
            pass
        fatal = [m for m in seen if isinstance(m, be.ErrorResponse)]
        assert [m.code for m in fatal] == ["57P01"]


async def test_shutdown_finishes_an_extended_batch_up_to_its_sync() -> None:
    """A drain must not end a session between Execute and Sync: its client waits for ReadyForQuery."""
    async with running_gateway(semantic=NumbersHandler()) as gw:
        conn = await RawPg.connect(gw.port)
        await conn.startup("alice", password_of("alice"))
        await conn.send(
            fe.Parse("", "SELECT n FROM slow_numbers LIMIT 3", ()),
            fe.Bind("", "", (), (), ()),
            fe.Execute("", 0),
            fe.Sync(),
        )
        await asyncio.sleep(0.1)
        stopping = asyncio.create_task(gw.stop(timeout=5))
        messages = await conn.recv_until()
        assert rows(messages) == [["1"], ["2"], ["3"]]
        assert isinstance(messages[-1], be.ReadyForQuery)
        error = await conn.recv()
        assert isinstance(error, be.ErrorResponse) and error.code == "57P01"
        await stopping
