"""500 connections opened at once (issue 6 item 4): each is served or refused cleanly with 53300;
none hangs, and the gateway keeps serving afterwards."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from tests.support.metadata import SeededLogin
from tests.support.warehouse import served, wait_until

pytestmark = pytest.mark.slow

STORM = 500
# Far beyond what 500 logins and queries need here; only a hang would reach it.
HANG_GUARD = 120.0


class _Storm:
    """STORM clients that connect at once, query, and keep their session until :attr:`hold` is set."""

    def __init__(self, port: int, login: SeededLogin) -> None:
        self.url = f"postgresql://{login.username}:{login.password}@127.0.0.1:{port}/db"
        self.hold = asyncio.Event()
        self.answered = 0
        self.tasks = [asyncio.ensure_future(self._one()) for _ in range(STORM)]

    async def _one(self) -> Any:
        """The query's result, or the exception that ended the attempt."""
        try:
            conn = await asyncpg.connect(self.url, ssl=False, timeout=60)
        except Exception as exc:  # the outcome under test: refused or not
            return exc
        try:
            value = await conn.fetchval("SELECT MEASURE(count) FROM orders")
            self.answered += 1
            await self.hold.wait()
            return value
        except Exception as exc:
            return exc
        finally:
            await conn.close()

    async def settled(self) -> None:
        """Every client was refused or has its answer (while the answered ones keep their session)."""
        while sum(t.done() for t in self.tasks) + self.answered < STORM:
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("max_connections", [STORM, 50])
async def test_500_connections_at_once(
    warehouse: SeededLogin, metadata_url: str, max_connections: int
) -> None:
    async with served(
        metadata_url,
        max_connections=max_connections,
        max_connections_per_credential=0,
        datasource_queue_timeout=60,
    ) as gw:
        storm = _Storm(gw.port, warehouse)
        await asyncio.wait_for(storm.settled(), HANG_GUARD)
        sessions_at_peak = storm.answered
        storm.hold.set()
        results = await asyncio.wait_for(asyncio.gather(*storm.tasks), HANG_GUARD)
        answered = [r for r in results if r == 50]
        refused = [r for r in results if isinstance(r, asyncpg.exceptions.TooManyConnectionsError)]
        other = [r for r in results if r != 50 and r not in refused]
        assert not other, other[:5]
        assert len(answered) + len(refused) == STORM
        if max_connections >= STORM:
            assert len(answered) == STORM
        else:
            assert len(answered) == max_connections == sessions_at_peak
            assert all(r.sqlstate == "53300" for r in refused)
            counted = sum(
                gw.metrics.connections_refused.labels(limit=limit)._value.get()
                for limit in ("max_connections", "starting")
            )
            assert counted == len(refused)
            assert "too many clients" in str(refused[0])
        # Nothing is left behind, and the gateway serves the next client.
        conn = await asyncpg.connect(
            f"postgresql://{warehouse.username}:{warehouse.password}@127.0.0.1:{gw.port}/db", ssl=False
        )
        assert await conn.fetchval("SELECT MEASURE(count) FROM orders") == 50
        await conn.close()


async def test_sockets_that_never_start_up_cannot_exhaust_the_server(
    warehouse: SeededLogin, metadata_url: str
) -> None:
    url = f"postgresql://{warehouse.username}:{warehouse.password}@127.0.0.1:{{port}}/db"
    async with served(metadata_url, max_connections=20, startup_timeout=60) as gw:
        session = await asyncpg.connect(url.format(port=gw.port), ssl=False)
        silent = [await asyncio.open_connection("127.0.0.1", gw.port) for _ in range(20)]
        try:
            # The next socket is refused at once (PostgreSQL counts sockets in start-up too).
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            answer = await asyncio.wait_for(reader.read(1000), 10)
            writer.close()
            assert answer[:1] == b"E" and b"53300" in answer and b"too many clients" in answer
            with pytest.raises(asyncpg.exceptions.TooManyConnectionsError):
                await asyncpg.connect(url.format(port=gw.port), ssl=False)
            # The session that was already open is not affected.
            assert await session.fetchval("SELECT MEASURE(count) FROM orders") == 50
        finally:
            for _, silent_writer in silent:
                silent_writer.close()

        # Once they are gone, logins work again.
        async def logs_in() -> bool:
            try:
                conn = await asyncpg.connect(url.format(port=gw.port), ssl=False)
            except asyncpg.exceptions.TooManyConnectionsError:
                return False
            await conn.close()
            return True

        await wait_until(logs_in, "a login succeeds after the silent sockets closed")
        await session.close()
