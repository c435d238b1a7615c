"""SIGTERM during load (issue 6 item 4), on ``sqlgate serve`` run as a process with a real metadata
database: running queries finish and return their rows, then every session ends with FATAL 57P01;
no new query or session starts; the process exits 0 within the shutdown timeout."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.databases import port_answers
from tests.support.metadata import SeededLogin
from tests.support.warehouse import running_on_datasource, wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHUTDOWN_TIMEOUT = 20


def _ended(exc: BaseException | None) -> bool:
    """The server ended the session (57P01), refused it while shutting down (57P03), or its socket
    was closed (libpq reports no SQLSTATE then) — and nothing else, such as a cancelled statement."""
    return isinstance(exc, psycopg.OperationalError) and exc.sqlstate in (None, "57P01", "57P03")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=10)


async def _count(conn: psycopg.AsyncConnection[Any], cube: str = "orders") -> Any:
    row = await (await conn.execute(f"SELECT MEASURE(count) FROM {cube}")).fetchone()
    return row[0] if row else None


async def _load(url: str, answering: set[int]) -> tuple[int, BaseException | None]:
    """Query until the server ends the session: (answers, what ended it). Joins ``answering`` once
    it has had an answer."""
    answers = 0
    try:
        conn = await _connect(url)
    except psycopg.Error as exc:
        return answers, exc
    try:
        while True:
            assert await _count(conn) == 50
            answers += 1
            answering.add(id(conn))
    except psycopg.Error as exc:
        return answers, exc
    finally:
        await conn.close()


async def test_sigterm_during_load(warehouse: SeededLogin, metadata_url: str, pg_database: str) -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sqlgate", "serve", "--metadata-url", metadata_url,
        "--port", str(port), "--metrics-port", "off", "--shutdown-timeout", str(SHUTDOWN_TIMEOUT),
        "--log-level", "warning",
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    url = f"postgresql://{warehouse.username}:{warehouse.password}@127.0.0.1:{port}/db?sslmode=disable"
    try:

        async def listening() -> bool:
            assert process.returncode is None, "sqlgate serve exited early"
            return await asyncio.to_thread(port_answers, "127.0.0.1", port)

        await wait_until(listening, "sqlgate serve listens", timeout=60)
        idle = await _connect(url)
        busy = [await _connect(url) for _ in range(2)]
        answering: set[int] = set()
        load = [asyncio.ensure_future(_load(url, answering)) for _ in range(4)]

        async def all_loading() -> bool:
            return len(answering) == len(load)

        await wait_until(all_loading, "every load client has had answers")
        running = [asyncio.ensure_future(_count(c, "pause")) for c in busy]

        async def both_sleeping() -> bool:
            return await running_on_datasource(pg_database, "%pg_sleep%") == 2

        await wait_until(both_sleeping, "two long queries run on the datasource")
        process.send_signal(signal.SIGTERM)
        # The running statements finish with their full answers …
        assert await asyncio.gather(*running) == [50, 50]
        # … then no new statement runs on any session, and the idle session was ended.
        for conn in [idle, *busy]:
            with pytest.raises(psycopg.OperationalError) as caught:
                await _count(conn)
            assert _ended(caught.value), caught.value
        outcomes = await asyncio.wait_for(asyncio.gather(*load), SHUTDOWN_TIMEOUT)
        assert all(answers > 0 and _ended(ended) for answers, ended in outcomes), outcomes
        # No new session starts.
        with pytest.raises(psycopg.OperationalError) as refused:
            late = await _connect(url)
            await _count(late)
        assert _ended(refused.value), refused.value
        assert await asyncio.wait_for(process.wait(), SHUTDOWN_TIMEOUT + 10) == 0
        for conn in [idle, *busy]:
            await conn.close()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
