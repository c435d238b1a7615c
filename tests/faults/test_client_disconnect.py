"""A client disconnects mid-stream (issue 6 item 4): the datasource query is cancelled (it leaves
``pg_stat_activity``), its query slot is freed, and the gateway keeps serving."""

from __future__ import annotations

from typing import Any

import pytest

from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from tests.support.metadata import SeededLogin
from tests.support.rawpg import RawPg
from tests.support.warehouse import running_on_datasource, served, wait_until

STREAM = "SELECT id FROM trickle"


async def _streaming(database: str) -> int:
    # Between two fetches of its rows the datasource's portal is suspended (idle in transaction).
    return await running_on_datasource(database, "%generate_series%", suspended=True)


@pytest.mark.parametrize("protocol", ["simple", "extended"])
async def test_disconnect_mid_stream_cancels_the_datasource_query(
    warehouse: SeededLogin, metadata_url: str, pg_database: str, protocol: str
) -> None:
    async with served(metadata_url, datasource_max_concurrent=1) as gw:
        client = await RawPg.connect(gw.port)
        messages = await client.startup(warehouse.username, warehouse.password)
        assert isinstance(messages[-1], be.ReadyForQuery), messages
        if protocol == "simple":
            await client.send(fe.Query(STREAM))
        else:
            await client.send(fe.Parse("", STREAM, ()), fe.Bind("", "", (), (), ()), fe.Execute("", 0))
            await client.send(fe.Sync())
        data_rows = 0
        while data_rows < 20:
            message = await client.recv(timeout=30)
            assert not isinstance(message, be.ErrorResponse), message
            data_rows += isinstance(message, be.DataRow)

        async def running() -> bool:
            return await _streaming(pg_database) == 1

        await wait_until(running, "the streaming query runs on the datasource")
        client.writer.transport.abort()  # vanish: no Terminate, no CancelRequest

        async def cancelled() -> bool:
            return await _streaming(pg_database) == 0

        await wait_until(cancelled, "the datasource query was cancelled")
        source: Any = next(iter(gw.sources.sources().values()))

        async def slot_freed() -> bool:
            return source.gate.active == 0

        await wait_until(slot_freed, "the query slot was released")
        # The only slot is free again: another session queries the same datasource.
        other = await RawPg.connect(gw.port)
        await other.startup(warehouse.username, warehouse.password)
        answer = await other.query("SELECT MEASURE(count) FROM orders")
        assert [m.values for m in answer if isinstance(m, be.DataRow)] == [(b"50",)]
        await other.close()
