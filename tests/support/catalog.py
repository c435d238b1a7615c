"""A gateway serving the tool-SQL corpus model, for catalog and client tests.

The corpus (tests/e2e/toolsql/) assumes four cubes — ``orders``, ``users``, ``products``,
``line_items`` — with the members and rows of ``tests.support.toolsql.PG_FIXTURE_SQL``. This module
holds that model as Cube YAML, the datasource tables it reads, and fixtures that start a real gateway
on a real metadata database with a real PostgreSQL datasource:

* ``catalog_role`` (session): a catalog role name unique to this test run; at the end of the run
  every shadow database it may connect to is dropped, then the role.
* ``catalog_env`` (module): a running gateway with an owner login and a member login whose access
  list allows part of ``orders`` only (:class:`CatalogEnv`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from sqlgate.gateway import Gateway
from tests.support.databases import PgServer, create_pg_database, drop_pg_database
from tests.support.gateways import make_settings
from tests.support.metadata import copy_database, seed_login

ORDERS_YML = """\
cubes:
  - name: orders
    sql_table: public.orders
    title: Orders
    description: Orders
    joins:
      - name: users
        relationship: many_to_one
        sql: "{CUBE}.user_id = {users.id}"
      - name: products
        relationship: many_to_one
        sql: "{CUBE}.product_id = {products.id}"
    measures:
      - name: count
        type: count
        description: Number of orders
      - name: total_amount
        type: sum
        sql: amount
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: status
        sql: status
        type: string
        description: Order status
      - name: created_at
        sql: created_at
        type: time
      - name: completed_at
        sql: completed_at
        type: time
      - name: amount
        sql: amount
        type: number
      - name: user_id
        sql: user_id
        type: number
      - name: product_id
        sql: product_id
        type: number
      - name: is_completed
        sql: is_completed
        type: boolean
"""

USERS_YML = """\
cubes:
  - name: users
    sql_table: public.users
    description: Users
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: name
        sql: name
        type: string
      - name: city
        sql: city
        type: string
      - name: created_at
        sql: created_at
        type: time
"""

PRODUCTS_YML = """\
cubes:
  - name: products
    sql_table: public.products
    description: Products
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: name
        sql: name
        type: string
      - name: category
        sql: category
        type: string
      - name: price
        sql: price
        type: number
"""

LINE_ITEMS_YML = """\
cubes:
  - name: line_items
    sql_table: public.line_items
    description: Line items
    joins:
      - name: orders
        relationship: many_to_one
        sql: "{CUBE}.order_id = {orders.id}"
      - name: products
        relationship: many_to_one
        sql: "{CUBE}.product_id = {products.id}"
    measures:
      - name: count
        type: count
      - name: total_quantity
        type: sum
        sql: quantity
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: order_id
        sql: order_id
        type: number
      - name: product_id
        sql: product_id
        type: number
      - name: quantity
        sql: quantity
        type: number
      - name: price
        sql: price
        type: number
      - name: created_at
        sql: created_at
        type: time
"""

MODEL_FILES = {
    "orders.yml": ORDERS_YML,
    "users.yml": USERS_YML,
    "products.yml": PRODUCTS_YML,
    "line_items.yml": LINE_ITEMS_YML,
}

# The datasource's own tables (the rows of PG_FIXTURE_SQL, without the cube-only columns).
WAREHOUSE_SQL = """
CREATE TABLE public.orders (id integer PRIMARY KEY, status text, created_at timestamp, completed_at timestamp,
    amount numeric, user_id integer, product_id integer, is_completed boolean);
CREATE TABLE public.users (id integer PRIMARY KEY, name text, city text, created_at timestamp);
CREATE TABLE public.products (id integer PRIMARY KEY, name text, category text, price numeric);
CREATE TABLE public.line_items (id integer PRIMARY KEY, order_id integer, product_id integer,
    quantity numeric, price numeric, created_at timestamp);
INSERT INTO public.orders VALUES
    (1, 'new', '2024-01-05 10:00', NULL, 10.5, 1, 1, false),
    (2, 'shipped', '2024-02-11 12:30', '2024-02-12 09:00', 20, 2, 2, true),
    (3, 'shipped', '2024-03-20 08:15', '2024-03-21 10:00', 7.25, 1, 3, true);
INSERT INTO public.users VALUES (1, 'Ann', 'Berlin', '2023-12-01'), (2, 'Bob', 'Paris', '2024-01-15');
INSERT INTO public.products VALUES (1, 'Pen', 'office', 2.5), (2, 'Desk', 'furniture', 120),
    (3, 'Lamp', 'furniture', 30);
INSERT INTO public.line_items VALUES (1, 1, 1, 4, 2.5, '2024-01-05 10:00'),
    (2, 2, 2, 1, 20, '2024-02-11 12:30');
"""

# What a member with the access list below may see of the model.
MEMBER_ACCESS = {
    "orders": {
        "measures": ["orders.count"],
        "dimensions": ["orders.status", "orders.created_at"],
        "segments": [],
    }
}


def db_params_from_url(url: str) -> dict[str, Any]:
    """Synmetrix ``db_params`` for the PostgreSQL database at ``url``."""
    parts = urlsplit(url)
    params: dict[str, Any] = {"database": parts.path.lstrip("/"), "user": parts.username or "postgres"}
    if parts.password:
        params["password"] = parts.password
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    params["host"] = query.get("host") or parts.hostname or "127.0.0.1"
    if parts.port:
        params["port"] = str(parts.port)
    return params


@dataclass
class Login:
    username: str
    password: str = field(repr=False)


@dataclass
class CatalogEnv:
    """A running gateway over the corpus model: ``owner`` sees everything, ``member`` only
    ``orders.count``, ``orders.status`` and ``orders.created_at``."""

    gateway: Gateway
    owner: Login
    member: Login
    metadata_url: str
    warehouse_url: str
    host: str = "127.0.0.1"

    @property
    def port(self) -> int:
        return self.gateway.port

    def dsn(self, login: Login | None = None, **extra: str) -> str:
        login = login or self.owner
        parts = {
            "host": self.host,
            "port": str(self.port),
            "user": login.username,
            "password": login.password,
            "dbname": "db",
            "sslmode": "disable",
            **extra,
        }
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def url(self, login: Login | None = None, scheme: str = "postgresql") -> str:
        login = login or self.owner
        return f"{scheme}://{login.username}:{login.password}@{self.host}:{self.port}/db"


async def drop_role_and_databases(admin_url: str, role: str) -> None:
    """Drop every shadow database ``role`` may connect to, then the role itself."""
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        if not exists:
            return
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'sqlgate\\_cat\\_%'"
            " AND has_database_privilege($1, oid, 'CONNECT')",
            role,
        )
        for row in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
        await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def catalog_role(pg_server: PgServer) -> Iterator[str]:
    """A catalog role name for this test run; its shadow databases and the role go at the end."""
    role = f"sqlgate_catalog_test_{uuid.uuid4().hex[:8]}"
    yield role
    asyncio.run(drop_role_and_databases(pg_server.url, role))


async def start_catalog_env(
    pg_server: PgServer, metadata_template: str, role: str, **settings: Any
) -> CatalogEnv:
    """Metadata and warehouse databases, an owner and a member login, and a started gateway."""
    import asyncpg

    from sqlgate.metastore import admin
    from sqlgate.metastore.engine import create_metadata_engine

    metadata_name = await copy_database(pg_server, metadata_template)
    metadata_url = pg_server.url_for(metadata_name)
    warehouse_name = await create_pg_database(pg_server, prefix="sqlgate_wh")
    warehouse_url = pg_server.url_for(warehouse_name)
    conn = await asyncpg.connect(warehouse_url)
    try:
        await conn.execute(WAREHOUSE_SQL)
    finally:
        await conn.close()
    engine = create_metadata_engine(metadata_url)
    try:
        seeded = await seed_login(engine, db_params=db_params_from_url(warehouse_url), models=MODEL_FILES)
        await admin.create_user(engine, email="member@example.com")
        await admin.create_access_list(
            engine,
            team=seeded.team_id,
            name="orders basics",
            config={"datasources": {seeded.datasource_id: {"cubes": MEMBER_ACCESS}}},
        )
        await admin.add_member(
            engine, team=seeded.team_id, user="member@example.com", role="member", access_list="orders basics"
        )
        issued = await admin.create_credential(
            engine, team=seeded.team_id, datasource=seeded.datasource_id, user="member@example.com"
        )
    finally:
        await engine.dispose()
    gateway = Gateway(make_settings(metadata_url=metadata_url, catalog_role=role, **settings))
    await gateway.start()
    return CatalogEnv(
        gateway,
        Login(seeded.username, seeded.password),
        Login(issued["username"], issued["password"]),
        metadata_url,
        warehouse_url,
    )


async def stop_catalog_env(pg_server: PgServer, env: CatalogEnv) -> None:
    await env.gateway.stop(timeout=2)
    for url in (env.metadata_url, env.warehouse_url):
        await drop_pg_database(pg_server, urlsplit(url).path.lstrip("/"))


@asynccontextmanager
async def running_catalog_env(
    pg_server: PgServer, metadata_template: str, role: str, **settings: Any
) -> AsyncIterator[CatalogEnv]:
    """:func:`start_catalog_env` … :func:`stop_catalog_env`, with fast bcrypt for the logins."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SQLGATE_BCRYPT_COST", "4")
    env = await start_catalog_env(pg_server, metadata_template, role, **settings)
    try:
        yield env
    finally:
        await stop_catalog_env(pg_server, env)
        mp.undo()


@pytest.fixture(scope="module")
async def catalog_env(
    pg_server: PgServer, metadata_template: str, catalog_role: str
) -> AsyncIterator[CatalogEnv]:
    """A gateway over the corpus model, shared by the tests of a module."""
    async with running_catalog_env(pg_server, metadata_template, catalog_role) as env:
        yield env
