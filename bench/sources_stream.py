"""Stream a large result through each datasource driver and report rows/s and memory growth.

    .venv/bin/python bench/sources_stream.py [--rows 1000000] [--batch 1000,5000,20000] [--json out.json]

It loads ``--rows`` rows (int8, int4, numeric(12,2), text, timestamptz) into a throw-away PostgreSQL
database (127.0.0.1:5432 as postgres, or $SQLGATE_BENCH_PG_URL), a MariaDB database (when one answers
on 127.0.0.1:3306) and a DuckDB file, then for each driver and batch size streams ``SELECT *`` through
``open_source(...).open_cursor(...).batches(n)`` and prints rows/s and the growth of the process's
resident memory while streaming. For PostgreSQL two baselines run first: ``psql -At`` (libpq, rows
formatted as text and discarded) and a minimal Python reader that only frames the DataRow messages of
the raw protocol stream (the most any Python gateway could forward without decoding). Timings only;
nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlgate.sources.registry import open_source

PG_URL = os.environ.get("SQLGATE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
FILL_PG = """
CREATE TABLE facts AS
SELECT g::int8 AS id, (g % 1000)::int4 AS customer_id, (g % 10000 / 100.0)::numeric(12, 2) AS amount,
       (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + g % 4] AS status,
       timestamptz '2020-01-01' + g * interval '1 minute' AS created_at
FROM generate_series(1, $1::int8) AS g
"""


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def measure(counts: Any) -> dict[str, float]:
    """Consume ``counts`` (an async iterator of row counts) and report rows/s and RSS growth."""
    start_rss = peak = rss_bytes()
    started = time.perf_counter()
    rows = steps = 0
    async for count in counts:
        rows += count
        steps += 1
        if steps % 50 == 0:
            peak = max(peak, rss_bytes())
    elapsed = time.perf_counter() - started
    peak = max(peak, rss_bytes())
    return {"rows": rows, "seconds": round(elapsed, 3), "rows_per_s": round(rows / elapsed),
            "rss_growth_mb": round((peak - start_rss) / 2**20, 1)}  # fmt: skip


async def stream(source: Any, sql: str, batch: int) -> dict[str, float]:
    """The record path: Python values in batches (``open_cursor().batches()``)."""

    async def counts() -> Any:
        cursor = await source.open_cursor(sql, [])
        try:
            async for rows in cursor.batches(batch):
                yield len(rows)
        finally:
            await cursor.close()

    return await measure(counts())


async def passthrough(source: Any, sql: str, batch: int) -> dict[str, float]:
    """The pass-through path: DataRow bytes as PostgreSQL sent them (what the wire would write)."""

    async def counts() -> Any:
        cursor = await source.open_passthrough(sql, [], batch_rows=batch)
        try:
            async for _data, count in cursor.chunks():
                yield count
        finally:
            await cursor.close()

    return await measure(counts())


async def raw_pg_frames(host: str, port: int, user: str, database: str, sql: str) -> dict[str, float]:
    """Floor: read the protocol stream and find DataRow boundaries, nothing else (trust auth only)."""
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    body = struct.pack("!i", 196608) + f"user\0{user}\0database\0{database}\0\0".encode()
    writer.write(struct.pack("!i", len(body) + 4) + body)
    while True:
        head = await reader.readexactly(5)
        payload = await reader.readexactly(int.from_bytes(head[1:5], "big") - 4)
        if head[:1] == b"R" and payload[:4] != b"\0\0\0\0":
            raise RuntimeError("raw baseline needs trust authentication")
        if head[:1] == b"Z":
            break
    query = sql.encode() + b"\0"
    started = time.perf_counter()
    writer.write(b"Q" + struct.pack("!i", len(query) + 4) + query)
    unpack_from = struct.Struct("!I").unpack_from
    rows, carry, done = 0, b"", False
    while not done:
        chunk = await reader.read(1 << 18)
        buf = carry + chunk if carry else chunk
        i, end = 0, len(buf) - 5
        while i <= end:
            j = i + 1 + unpack_from(buf, i + 1)[0]
            if j > end + 5:
                break
            kind = buf[i]
            if kind == 68:
                rows += 1
            elif kind == 90:
                done = True
            i = j
        carry = buf[i:]
    elapsed = time.perf_counter() - started
    writer.close()
    return {"rows": rows, "seconds": round(elapsed, 3), "rows_per_s": round(rows / elapsed)}


def psql_baseline(url: str, sql: str) -> dict[str, float] | None:
    if shutil.which("psql") is None:
        return None
    started = time.perf_counter()
    subprocess.run(["psql", url, "-At", "-c", sql, "-o", "/dev/null"], check=True)
    elapsed = time.perf_counter() - started
    return {"seconds": round(elapsed, 3)}


async def bench_postgres(rows: int, batches: list[int]) -> dict[str, Any]:
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    name = f"sqlgate_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(PG_URL)
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    results: dict[str, Any] = {}
    try:
        conn = await asyncpg.connect(url)
        await conn.execute(FILL_PG.replace("$1::int8", str(int(rows))))
        await conn.execute("ANALYZE facts")
        await conn.close()
        sql = "SELECT * FROM facts"
        results["psql -At (libpq, text)"] = psql_baseline(url, sql)
        host, port = parts.hostname or "127.0.0.1", parts.port or 5432
        results["raw protocol framing (python)"] = await raw_pg_frames(
            host, port, parts.username or "postgres", name, sql
        )
        params = {"host": host, "port": str(port), "user": parts.username or "postgres",
                  "password": parts.password or "", "database": name}  # fmt: skip
        source = open_source("POSTGRES", params, name="bench")
        try:
            for batch in batches:
                results[f"sqlgate postgres batches({batch})"] = await stream(source, sql, batch)
            for batch in batches:
                results[f"sqlgate postgres pass-through({batch})"] = await passthrough(source, sql, batch)
        finally:
            await source.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return results


async def bench_duckdb(rows: int, batches: list[int]) -> dict[str, Any]:
    import duckdb

    folder = Path(tempfile.mkdtemp(prefix="sqlgate-bench-"))
    path = folder / "bench.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE facts AS SELECT range AS id, (range % 1000)::INTEGER AS customer_id,"
            " (range % 10000 / 100.0)::DECIMAL(12, 2) AS amount,"
            " ['new', 'paid', 'shipped', 'cancelled'][1 + range % 4] AS status,"
            " TIMESTAMPTZ '2020-01-01' + to_minutes(range) AS created_at FROM range(?)",
            [rows],
        )
    results: dict[str, Any] = {}
    source = open_source("DUCKDB", {"database": str(path)}, name="bench")
    try:
        for batch in batches:
            results[f"sqlgate duckdb batches({batch})"] = await stream(source, "SELECT * FROM facts", batch)
    finally:
        await source.close()
        shutil.rmtree(folder)
    return results


async def bench_mysql(rows: int, batches: list[int]) -> dict[str, Any]:
    import asyncmy

    try:
        admin = await asyncmy.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    except Exception as exc:  # no MariaDB here
        return {"skipped": f"no MariaDB on 127.0.0.1:3306 ({type(exc).__name__})"}
    name = f"sqlgate_bench_{uuid.uuid4().hex[:8]}"
    results: dict[str, Any] = {}
    try:
        async with admin.cursor() as cur:
            await cur.execute(f"CREATE DATABASE `{name}`")
            await cur.execute(
                f"CREATE TABLE `{name}`.facts AS SELECT seq AS id, seq % 1000 AS customer_id,"
                " CAST(seq % 10000 / 100.0 AS DECIMAL(12, 2)) AS amount,"
                " ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled') AS status,"
                " TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq MINUTE AS created_at"
                f" FROM `{name}`.seq_1_to_{int(rows)}"
            )
        params = {"host": "127.0.0.1", "port": "3306", "user": "root", "database": name}
        source = open_source("MYSQL", params, name="bench")
        try:
            for batch in batches:
                results[f"sqlgate mysql batches({batch})"] = await stream(
                    source, "SELECT * FROM facts", batch
                )
        finally:
            await source.close()
    finally:
        async with admin.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", default="1000,5000,20000", help="comma-separated batch sizes")
    parser.add_argument("--only", choices=["postgres", "duckdb", "mysql"], action="append")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    batches = [int(b) for b in args.batch.split(",")]
    chosen = args.only or ["postgres", "duckdb", "mysql"]
    results: dict[str, Any] = {"rows": args.rows, "python": sys.version.split()[0]}
    runners = {"postgres": bench_postgres, "duckdb": bench_duckdb, "mysql": bench_mysql}
    for name in chosen:
        results[name] = await runners[name](args.rows, batches)
        for label, result in results[name].items():
            print(f"{label:45} {json.dumps(result)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
