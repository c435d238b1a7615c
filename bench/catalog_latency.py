"""Latency of catalog answers: psql's ``\\d orders`` and pgjdbc's ``DatabaseMetaData.getColumns``.

    .venv/bin/python bench/catalog_latency.py [--repeat 200]

Starts a gateway in this process over the tool-SQL corpus model (a throw-away metadata database,
datasource and catalog role on 127.0.0.1:5432 or $SQLGATE_TEST_PG_URL), then measures, each through
the gateway and directly against a PostgreSQL database holding the same tables (the floor):

* ``\\d orders`` in one psql session, run ``--repeat`` times: (time of N+1 runs - time of 1) / N, so
  psql's start-up and the login do not count;
* ``getColumns(null, "public", "orders", "%")`` in one pgjdbc connection, averaged over the repeats
  (tests/e2e/java/CatalogCheck.java, compiled with javac);
* the very first catalog statement of a new visible set (building its shadow database).

Prints milliseconds. Needs psql, javac/java and /usr/share/java/postgresql.jar. Timings only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.catalog import drop_role_and_databases, start_catalog_env, stop_catalog_env
from tests.support.databases import create_pg_database, drop_pg_database, find_pg_server
from tests.support.metadata import create_metadata_template
from tests.support.toolsql import PG_FIXTURE_SQL

JAR = "/usr/share/java/postgresql.jar"
SOURCE = Path(__file__).resolve().parents[1] / "tests" / "e2e" / "java" / "CatalogCheck.java"


async def psql_seconds(dsn: str, repeat: int) -> float:
    timings = []
    for count in (1, repeat + 1):
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            "psql", "-X", "-q", dsn, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL
        )
        await process.communicate(("\\d orders\n" * count).encode())
        assert process.returncode == 0
        timings.append(time.perf_counter() - started)
    return (timings[1] - timings[0]) / repeat


async def jdbc_ms(classes: str, url: str, user: str, password: str, repeat: int) -> float:
    process = await asyncio.create_subprocess_exec(
        "java", "-cp", f"{JAR}:{classes}", "CatalogCheck", url, user, password, "bench", str(repeat),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    return float(out.decode().strip().split("=", 1)[1])


async def main(repeat: int) -> None:
    server = find_pg_server()
    os.environ.setdefault("SQLGATE_BCRYPT_COST", "4")
    role = f"sqlgate_catalog_bench_{uuid.uuid4().hex[:8]}"
    template = await create_metadata_template(server)
    direct_name = await create_pg_database(server, prefix="sqlgate_bench_direct")
    classes = tempfile.mkdtemp(prefix="sqlgate-java-")
    env = None
    try:
        conn = await asyncpg.connect(server.url_for(direct_name))
        await conn.execute(PG_FIXTURE_SQL)
        await conn.close()
        javac = await asyncio.create_subprocess_exec("javac", "-cp", JAR, "-d", classes, str(SOURCE))
        assert await javac.wait() == 0

        env = await start_catalog_env(server, template, role)
        started = time.perf_counter()
        async with await psycopg.AsyncConnection.connect(env.dsn(), autocommit=True) as first:
            connected = time.perf_counter()
            await first.execute("SELECT relname FROM pg_class WHERE relname = 'orders'")
            cold = time.perf_counter() - connected
        print(f"first catalog statement of a new visible set (builds its database): {cold * 1000:.0f} ms"
              f" (login {(connected - started) * 1000:.0f} ms)")  # fmt: skip

        direct_dsn = server.url_for(direct_name)
        via = await psql_seconds(env.dsn(), repeat)
        floor = await psql_seconds(direct_dsn, repeat)
        print(f"psql \\d orders: gateway {via * 1000:.2f} ms, PostgreSQL directly {floor * 1000:.2f} ms")

        owner = env.owner
        gateway_url = f"jdbc:postgresql://127.0.0.1:{env.port}/db?sslmode=disable"
        via_ms = await jdbc_ms(classes, gateway_url, owner.username, owner.password, repeat)
        parts = server.url
        host_port = parts.split("@", 1)[1].split("/", 1)[0]
        direct_url = f"jdbc:postgresql://{host_port}/{direct_name}?sslmode=disable"
        floor_ms = await jdbc_ms(classes, direct_url, "postgres", "", repeat)
        print(f"pgjdbc getColumns(orders): gateway {via_ms:.2f} ms, PostgreSQL directly {floor_ms:.2f} ms")
    finally:
        if env is not None:
            await stop_catalog_env(server, env)
        await drop_role_and_databases(server.url, role)
        await drop_pg_database(server, direct_name)
        await drop_pg_database(server, template)
        shutil.rmtree(classes, ignore_errors=True)
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    asyncio.run(main(parser.parse_args().repeat))
