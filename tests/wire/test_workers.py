"""Several worker processes on one port (``sqlgate serve --workers N``): sessions spread over the
workers, and a CancelRequest reaching any worker cancels the session's statement (issue 7)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from typing import Any

import asyncpg
import psycopg
import pytest

from sqlgate.metastore import admin
from sqlgate.wire.cancel import CancelRegistry
from sqlgate.wire.workers import CancelRouter, WorkerInfo
from tests.e2e.test_datasource_cancel import SLOW_MODEL
from tests.support.metadata import seed_login


class _Session:
    def __init__(self) -> None:
        self.cancelled = asyncio.Event()

    def cancel_running(self) -> None:
        self.cancelled.set()


async def test_a_cancel_for_another_workers_session_is_forwarded_to_it() -> None:
    with tempfile.TemporaryDirectory() as cancel_dir:
        routers = [CancelRouter(WorkerInfo(i, 3, cancel_dir), CancelRegistry(i, 3)) for i in range(3)]
        for router in routers:
            await router.start()
        try:
            session = _Session()
            pid, secret = routers[2].registry.register(session)
            assert pid % 3 == 2 and routers[0].registry.owner(pid) == 2
            routers[1].cancel(pid, b"nope")  # a wrong secret cancels nothing
            routers[0].cancel(pid, secret)
            await asyncio.wait_for(session.cancelled.wait(), 10)
            other = _Session()
            pid, _ = routers[2].registry.register(other)
            routers[1].cancel(pid, b"nope")
            await asyncio.sleep(0.2)
            assert not other.cancelled.is_set()
        finally:
            for router in routers:
                await router.close()
        assert os.listdir(cancel_dir) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
async def test_cancel_requests_reach_sessions_on_every_worker(
    metadata_engine: Any, pg_database: str, metadata_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = await asyncpg.connect(pg_database)
    try:
        await conn.execute(
            "CREATE TABLE orders (id int PRIMARY KEY, status text); INSERT INTO orders VALUES (1, 'a')"
        )
    finally:
        await conn.close()
    monkeypatch.setenv("SQLGATE_BCRYPT_COST", "4")
    _, params = admin.db_params_from_url(pg_database)
    seeded = await seed_login(metadata_engine, db_params=params, models={"Slow.yml": SLOW_MODEL})
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sqlgate", "serve", "--workers", "2", "--port", str(port),
         "--metadata-url", metadata_url, "--metrics-port", "off", "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    dsn = (
        f"host=127.0.0.1 port={port} dbname=db user={seeded.username} password={seeded.password} "
        "sslmode=disable"
    )
    sessions: list[psycopg.AsyncConnection[Any]] = []
    try:
        for _ in range(100):
            try:
                sessions.append(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
                break
            except psycopg.OperationalError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                await asyncio.sleep(0.2)
        # Sessions until each worker has some (the kernel spreads connections over the workers).
        while len({s.info.backend_pid % 2 for s in sessions}) < 2 or len(sessions) < 6:
            assert len(sessions) < 60, "every connection went to one worker"
            sessions.append(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
        # Six sessions, three per worker, run a 30-second query; each is cancelled by a CancelRequest
        # on a new connection, which the kernel hands to either worker: without forwarding, about
        # half of them would be lost.
        picked = [s for s in sessions if s.info.backend_pid % 2 == 0][:3]
        picked += [s for s in sessions if s.info.backend_pid % 2 == 1][:3]
        running = [asyncio.ensure_future(s.execute("SELECT MEASURE(count) FROM slow")) for s in picked]
        await asyncio.sleep(0.5)
        for session, task in zip(picked, running, strict=True):
            await session.cancel_safe()  # libpq's CancelRequest, on a new connection
            with pytest.raises(psycopg.errors.QueryCanceled):
                await asyncio.wait_for(task, 20)
        for session in picked:  # still usable
            cur = await session.execute("SELECT MEASURE(count) FROM orders")
            assert await cur.fetchall() == [(1,)]
    finally:
        for session in sessions:
            await session.close()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode == 0
