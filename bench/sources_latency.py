"""Per-query cost of the PostgreSQL paths for a tiny query (an indexed one-row lookup), one client.

    .venv/bin/python bench/sources_latency.py [--queries 3000]

Creates a throw-away database on 127.0.0.1:5432 (or $SQLGATE_BENCH_PG_URL) with a 100k-row indexed
table, then runs the same parameterised lookup N times through asyncpg directly (a cached prepared
statement: the floor), through the source's record path (``open_cursor``) and through its
pass-through path (``open_passthrough``), and prints queries/s and µs per query. Timings only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlgate.sources.registry import open_source

PG_URL = os.environ.get("SQLGATE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SQL = "SELECT id, status, amount FROM facts WHERE id = $1"


async def run(n: int) -> None:
    name = f"sqlgate_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(PG_URL)
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    try:
        conn = await asyncpg.connect(url)
        await conn.execute(
            "CREATE TABLE facts AS SELECT g::int8 AS id, (ARRAY['new', 'paid'])[1 + g % 2] AS status,"
            " (g % 1000 / 10.0)::numeric(10, 2) AS amount FROM generate_series(1, 100000) g;"
            " CREATE INDEX ON facts (id); ANALYZE facts"
        )
        params = {
            "host": parts.hostname or "127.0.0.1",
            "port": str(parts.port or 5432),
            "user": parts.username or "postgres",
            "password": parts.password or "",
            "database": name,
        }
        source = open_source("POSTGRES", params, name="bench")

        async def direct(i: int) -> None:
            await conn.fetch(SQL, i)

        async def records(i: int) -> None:
            cursor = await source.open_cursor(SQL, [i])
            async for _ in cursor.batches(1000):
                pass
            await cursor.close()

        async def passthrough(i: int) -> None:
            cursor = await source.open_passthrough(SQL, [i])
            async for _ in cursor.chunks():
                pass
            await cursor.close()

        for label, one in (
            ("asyncpg fetch (direct)", direct),
            ("record path", records),
            ("pass-through", passthrough),
        ):
            started = time.perf_counter()
            for i in range(n):
                await one(1 + i % 100000)
            elapsed = time.perf_counter() - started
            print(f"{label:25} {n / elapsed:8.0f} queries/s  {elapsed / n * 1e6:6.0f} µs/query", flush=True)
        await source.close()
        await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=3000)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(run(args.queries))
    except ImportError:
        asyncio.run(run(args.queries))


if __name__ == "__main__":
    main()
