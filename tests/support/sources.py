"""Synmetrix-style ``db_params`` for the test databases, so tests open sources the way the gateway does."""

from __future__ import annotations

import asyncio
import socket
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest


def db_params_from_url(url: str, database: str | None = None) -> dict[str, Any]:
    """``{host, port, user, password, database}`` for a postgresql:// or mysql:// URL.

    Ports come back as strings, as Synmetrix stores them. A unix-socket URL (``?host=/tmp/…``) gives
    the socket directory as ``host``.
    """
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or [""])[0]
    params: dict[str, Any] = {
        "host": host,
        "port": str(parts.port) if parts.port else "",
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": database if database is not None else unquote(parts.path.lstrip("/")),
    }
    return params


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound to port 0, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> bool:
    """Poll ``check`` until it is true or ``timeout`` seconds passed; returns the last result."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        if await check():
            return True
        if loop.time() > end:
            return False
        await asyncio.sleep(0.05)


async def collect(cursor: Any, batch_size: int = 1000) -> list[tuple[Any, ...]]:
    """All rows of a cursor as tuples; closes it."""
    rows: list[tuple[Any, ...]] = []
    try:
        async for batch in cursor.batches(batch_size):
            rows.extend(tuple(r) for r in batch)
    finally:
        await cursor.close()
    return rows


async def until(
    count: Callable[[], Awaitable[int]], predicate: Callable[[int], bool], timeout: float = 10.0
) -> bool:
    """Poll ``count()`` until ``predicate`` holds for it (or ``timeout`` seconds passed)."""

    async def check() -> bool:
        return predicate(await count())

    return await eventually(check, timeout)


async def pg_active(admin: Any, marker: str) -> int:
    """How many other sessions are running a query containing ``marker`` (pg_stat_activity)."""
    return int(
        await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
            f"%{marker}%",
        )
    )


async def pg_terminate(admin: Any, marker: str) -> None:
    """pg_terminate_backend every other session whose query contains ``marker``."""
    await admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE query LIKE $1 AND pid <> pg_backend_pid()",
        f"%{marker}%",
    )


async def pg_sqlgate_states(admin: Any) -> list[str]:
    """States of the sqlgate sessions on the admin connection's database."""
    rows = await admin.fetch(
        "SELECT state FROM pg_stat_activity"
        " WHERE application_name = 'sqlgate' AND datname = current_database()"
    )
    return [row["state"] for row in rows]


@dataclass(frozen=True)
class Streamed:
    """What :func:`stream_traced` saw."""

    rows: int
    first_column_sum: int
    batches: int
    peak_bytes: int  # tracemalloc peak while streaming


async def stream_traced(source: Any, sql: str, batch_size: int) -> Streamed:
    """Stream ``sql`` through ``source`` in batches (checking their size) under tracemalloc."""
    tracemalloc.start()
    try:
        cursor = await source.open_cursor(sql, [])
        rows = total = 0
        try:
            async for batch in cursor.batches(batch_size):
                assert len(batch) <= batch_size
                rows += len(batch)
                total += sum(row[0] for row in batch)
        finally:
            await cursor.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Streamed(rows, total, cursor.batch_count, peak)


async def drain(source: Any, sql: str, batch_size: int = 100) -> None:
    """Open ``sql`` and read it to the end (closing the cursor whatever happens)."""
    cursor = await source.open_cursor(sql, [])
    try:
        async for _ in cursor.batches(batch_size):
            pass
    finally:
        await cursor.close()


async def cancel_while_running(query: Awaitable[Any], running: Callable[[], Awaitable[int]]) -> None:
    """Run ``query`` in a task, wait until the datasource shows it running, cancel the task, and
    wait until the datasource no longer runs it."""
    task = asyncio.ensure_future(query)
    assert await until(running, lambda n: n > 0), "the query never showed up on the datasource"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await until(running, lambda n: n == 0, timeout=5), "the query kept running after the cancel"
