"""A real PostgreSQL datasource behind a real metadata database, for limit and fault tests.

:func:`seed_warehouse` fills a datasource database with an ``orders`` table and registers it (with a
model of an ``Orders`` cube, a ``Slow`` cube whose SQL sleeps on the datasource for a minute, a ``Pause``
cube whose SQL sleeps for two seconds, a
``Trickle`` cube whose rows come slowly for a long time, and a ``Big`` cube of 100,000 rows) in a
metadata database through the admin operations. :func:`served` starts an in-process gateway on that
metadata database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from sqlgate.gateway import Gateway
from sqlgate.metastore import admin
from tests.support.gateways import make_settings
from tests.support.metadata import SeededLogin, seed_login

ORDER_ROWS = 50

WAREHOUSE_MODEL = """\
cubes:
  - name: Orders
    sql_table: public.orders
    measures:
      - name: count
        type: count
      - name: amount
        sql: amount
        type: sum
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: status
        sql: status
        type: string
  - name: Slow
    sql: SELECT id, status FROM public.orders CROSS JOIN pg_sleep(60)
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
  - name: Pause
    sql: SELECT id, status FROM public.orders CROSS JOIN pg_sleep(2)
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
  - name: Trickle
    sql: >-
      SELECT a * 1000 + b AS id FROM generate_series(0, 99999) a CROSS JOIN generate_series(0, 999) b
      WHERE b <> 0 OR pg_sleep(0.001) IS NOT NULL
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
  - name: Big
    sql: SELECT g AS id FROM generate_series(1, 100000) g
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
"""


async def make_orders(url: str, rows: int = ORDER_ROWS) -> None:
    """Create ``orders`` (id, status, amount) with ``rows`` rows in the database at ``url``."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE orders (id int PRIMARY KEY, status text, amount numeric(10, 2));"
            f" INSERT INTO orders SELECT g, CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'open' END, g"
            f" FROM generate_series(1, {int(rows)}) g"
        )
    finally:
        await conn.close()


async def seed_warehouse(
    metadata_engine: Any,
    database_url: str,
    *,
    team: str = "Analytics",
    owner_email: str = "owner@example.com",
    datasource: str = "warehouse",
    fill: bool = True,
) -> SeededLogin:
    """Register the datasource at ``database_url`` (filled with ``orders`` unless ``fill`` is False)
    with :data:`WAREHOUSE_MODEL`; returns its login."""
    if fill:
        await make_orders(database_url)
    _, params = admin.db_params_from_url(database_url)
    return await seed_login(
        metadata_engine,
        team=team,
        owner_email=owner_email,
        datasource=datasource,
        db_params=params,
        models={"warehouse.yml": WAREHOUSE_MODEL},
    )


async def another_credential(metadata_engine: Any, login: SeededLogin) -> tuple[str, str]:
    """A second credential (user name, password) for the same user and datasource as ``login``."""
    issued = await admin.create_credential(
        metadata_engine, team=login.team_id, datasource=login.datasource_id, user=login.owner_id
    )
    return issued["username"], issued["password"]


def dsn(port: int, user: str, password: str, **extra: str) -> str:
    """A libpq connection string to a gateway on 127.0.0.1 (plain text unless ``sslmode`` is given)."""
    parts = {
        "host": "127.0.0.1",
        "port": str(port),
        "dbname": "db",
        "user": user,
        "password": password,
        "sslmode": "disable",
        "connect_timeout": "10",
        **extra,
    }
    return " ".join(f"{k}={v}" for k, v in parts.items())


def login_dsn(port: int, login: SeededLogin, **extra: str) -> str:
    return dsn(port, login.username, login.password, **extra)


@asynccontextmanager
async def served(metadata_url: str, **overrides: Any) -> AsyncIterator[Gateway]:
    """An in-process gateway on ``metadata_url`` (a real metadata database); stopped on exit."""
    gateway = Gateway(make_settings(metadata_url=metadata_url, **overrides))
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop(timeout=2)


async def running_on_datasource(database_url: str, pattern: str, *, suspended: bool = False) -> int:
    """How many active queries on the datasource database match ``pattern`` (ILIKE); with
    ``suspended`` also those whose portal waits for the next Execute (idle in transaction)."""
    states = ["active", "idle in transaction"] if suspended else ["active"]
    conn = await asyncpg.connect(database_url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND query ILIKE $1 AND pid <> pg_backend_pid() AND state = ANY($2::text[])",
                pattern,
                states,
            )
        )
    finally:
        await conn.close()


async def wait_until(predicate: Any, what: str, timeout: float = 10.0) -> None:
    """Poll the async ``predicate`` until it is true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.05)
