# ruff: noqa: E501
"""A small deterministic e-commerce dataset, loadable into PostgreSQL, MariaDB/MySQL and DuckDB.

Tables (the models in ``tests/support/models/`` describe them):

* ``users`` (≈400): NULL emails, cities and ages; ``signed_up_at`` is a plain timestamp (UTC).
* ``products`` (≈60): NULL categories, ``price`` numeric(10,2).
* ``orders`` (≈2,500): guest orders (NULL ``user_id``), NULL ``discount``/``shipped_at``/``note``.
  ``created_at`` is written with several UTC offsets (+02:00, -05:00, +05:30, +09:00, -08:00, Z),
  many of them close to midnight, so day/week/month boundaries are only right when the engine works
  in UTC.
* ``line_items`` (≈7,000): the one-to-many fan-out under orders (1–5 per order, some orders none).

How each database stores the time-zone-aware ``created_at``/``shipped_at``:

* PostgreSQL: ``timestamptz`` (an absolute instant); sessions must use ``TimeZone = UTC``.
* MariaDB/MySQL: ``DATETIME`` holding the UTC wall-clock time (converted when loading), because
  ``TIMESTAMP`` columns convert through the session time zone and stop at 2038.
* DuckDB: ``TIMESTAMPTZ`` (an instant); the connection must use ``SET TimeZone = 'UTC'``.

Text is stored case-sensitively in MariaDB (``utf8mb4_bin``), as in the other two, so the same
filters give the same rows everywhere.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

SEED = 20240611
UTC = dt.UTC
OFFSETS = [
    dt.timezone(dt.timedelta(hours=2)),
    dt.timezone(dt.timedelta(hours=-5)),
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(dt.timedelta(hours=9)),
    dt.timezone(dt.timedelta(hours=-8)),
    UTC,
]
FIRST_NAMES = [
    "Ana",
    "Ben",
    "Chloé",
    "Dmitri",
    "Eve",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jo",
    "Kai",
    "Lena",
    "Mo",
    "Nia",
    "Oskar",
    "Priya",
    "Quinn",
    "Rui",
    "Sven",
    "Tomoko",
    "Uma",
    "Vera",
    "Wes",
    "Zoë",
]
LAST_NAMES = [
    "O'Brien",
    "Smith",
    "Müller",
    "García",
    "Nakamura",
    "Kowalski",
    "Dubois",
    "Rossi",
    "Chen",
    "Novak",
    "Silva",
    "Ivanova",
]
CITIES = [
    ("Berlin", "DE"),
    ("Hamburg", "DE"),
    ("Paris", "FR"),
    ("Lyon", "FR"),
    ("São Paulo", "BR"),
    ("Tokyo", "JP"),
    ("Xi'an", "CN"),
    ("New York", "US"),
    ("Austin", "US"),
    ("Zürich", "CH"),
]
CATEGORIES = ["books", "garden", "kitchen", "toys", "tools", "Books"]  # "Books" ≠ "books" on purpose
STATUSES = ["completed", "completed", "completed", "shipped", "pending", "cancelled", "returned"]


@dataclass(frozen=True)
class Dataset:
    users: list[tuple[Any, ...]]
    products: list[tuple[Any, ...]]
    orders: list[tuple[Any, ...]]
    line_items: list[tuple[Any, ...]]

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        return {
            "users": self.users,
            "products": self.products,
            "orders": self.orders,
            "line_items": self.line_items,
        }


COLUMNS = {
    "users": ["id", "name", "email", "city", "country", "age", "is_vip", "signed_up_at"],
    "products": ["id", "name", "category", "price"],
    "orders": ["id", "user_id", "status", "created_at", "shipped_at", "discount", "note"],
    "line_items": ["id", "order_id", "product_id", "quantity", "unit_price"],
}


def generate(seed: int = SEED, *, users: int = 400, products: int = 60, orders: int = 2500) -> Dataset:
    """The dataset (same rows for the same arguments)."""
    rng = random.Random(seed)
    user_rows = []
    for user_id in range(1, users + 1):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        city, country = rng.choice(CITIES)
        email = None if rng.random() < 0.1 else f"user{user_id}@example.com"
        if rng.random() < 0.08:
            city = None
        age = None if rng.random() < 0.12 else rng.randint(16, 80)
        signed_up = dt.datetime(2022, 1, 1) + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 700))
        user_rows.append((user_id, name, email, city, country, age, rng.random() < 0.2, signed_up))

    product_rows = []
    for product_id in range(1, products + 1):
        category = None if rng.random() < 0.06 else rng.choice(CATEGORIES)
        price = Decimal(rng.randint(199, 25000)) / 100
        product_rows.append((product_id, f"Product {product_id:03d}", category, price))

    order_rows = []
    item_rows = []
    item_id = 1
    start = dt.datetime(2023, 1, 1, tzinfo=UTC)
    for order_id in range(1, orders + 1):
        user_id = None if rng.random() < 0.05 else rng.randint(1, users)
        status = rng.choice(STATUSES)
        instant = start + dt.timedelta(days=rng.randint(0, 540))
        # Half the orders within two hours of midnight UTC: day buckets depend on the time zone.
        if rng.random() < 0.5:
            instant += dt.timedelta(hours=rng.choice([22, 23, 0, 1]), minutes=rng.randint(0, 59))
        else:
            instant += dt.timedelta(seconds=rng.randint(0, 86399))
        created = instant.astimezone(rng.choice(OFFSETS))
        shipped = None
        if status in ("completed", "shipped", "returned"):
            shipped = (instant + dt.timedelta(hours=rng.randint(2, 120))).astimezone(rng.choice(OFFSETS))
        discount = None if rng.random() < 0.4 else Decimal(rng.randint(0, 3000)) / 100
        note = (
            None if rng.random() < 0.85 else rng.choice(["gift", "Gift wrap", "leave at door", "100% urgent"])
        )
        order_rows.append((order_id, user_id, status, created, shipped, discount, note))
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4, 5])):
            product = rng.choice(product_rows)
            quantity = rng.randint(1, 6)
            unit_price = (
                product[3] if rng.random() < 0.8 else (product[3] * Decimal("0.9")).quantize(Decimal("0.01"))
            )
            item_rows.append((item_id, order_id, product[0], quantity, unit_price))
            item_id += 1
    return Dataset(user_rows, product_rows, order_rows, item_rows)


# ------------------------------------------------------------------------------------ loading

PG_DDL = """
CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL, email text, city text, country text NOT NULL,
                    age integer, is_vip boolean NOT NULL, signed_up_at timestamp NOT NULL);
CREATE TABLE products (id integer PRIMARY KEY, name text NOT NULL, category text, price numeric(10,2) NOT NULL);
CREATE TABLE orders (id integer PRIMARY KEY, user_id integer, status text NOT NULL, created_at timestamptz NOT NULL,
                     shipped_at timestamptz, discount numeric(10,2), note text);
CREATE TABLE line_items (id integer PRIMARY KEY, order_id integer NOT NULL, product_id integer NOT NULL,
                         quantity integer NOT NULL, unit_price numeric(10,2) NOT NULL);
"""

MYSQL_DDL = [
    """CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(100), city VARCHAR(100),
       country VARCHAR(10) NOT NULL, age INT, is_vip BOOLEAN NOT NULL, signed_up_at DATETIME NOT NULL)""",
    """CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, category VARCHAR(100),
       price DECIMAL(10,2) NOT NULL)""",
    """CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, status VARCHAR(20) NOT NULL, created_at DATETIME NOT NULL,
       shipped_at DATETIME, discount DECIMAL(10,2), note VARCHAR(100))""",
    """CREATE TABLE line_items (id INT PRIMARY KEY, order_id INT NOT NULL, product_id INT NOT NULL,
       quantity INT NOT NULL, unit_price DECIMAL(10,2) NOT NULL)""",
]

DUCKDB_DDL = [
    """CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, email VARCHAR, city VARCHAR,
       country VARCHAR NOT NULL, age INTEGER, is_vip BOOLEAN NOT NULL, signed_up_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE products (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, category VARCHAR,
       price DECIMAL(10,2) NOT NULL)""",
    """CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, status VARCHAR NOT NULL,
       created_at TIMESTAMPTZ NOT NULL, shipped_at TIMESTAMPTZ, discount DECIMAL(10,2), note VARCHAR)""",
    """CREATE TABLE line_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, product_id INTEGER NOT NULL,
       quantity INTEGER NOT NULL, unit_price DECIMAL(10,2) NOT NULL)""",
]


def _utc_naive(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


async def load_postgres(url: str, data: Dataset | None = None) -> None:
    """Create the tables in the (empty) PostgreSQL database at ``url`` and fill them."""
    import asyncpg

    data = data or generate()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(PG_DDL)
        for table, rows in data.tables().items():
            await conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def mysql_connect_args(url: str) -> dict[str, Any]:
    """asyncmy.connect keyword arguments from a ``mysql://user:pw@host:port/`` URL."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
    }


async def load_mysql(url: str, database: str, data: Dataset | None = None) -> None:
    """Create ``database`` (utf8mb4_bin) on the server at ``url`` and fill it."""
    import asyncmy

    data = data or generate()
    conn = await asyncmy.connect(**mysql_connect_args(url), autocommit=True)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            await cursor.execute(f"USE `{database}`")
            await cursor.execute("SET time_zone = '+00:00'")
            for ddl in MYSQL_DDL:
                await cursor.execute(ddl)
            for table, rows in data.tables().items():
                columns = COLUMNS[table]
                placeholders = ", ".join(["%s"] * len(columns))
                statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
                converted = [tuple(_utc_naive(v) for v in row) for row in rows]
                for start in range(0, len(converted), 500):
                    await cursor.executemany(statement, converted[start : start + 500])
    finally:
        await conn.ensure_closed()


async def drop_mysql(url: str, database: str) -> None:
    import asyncmy

    conn = await asyncmy.connect(**mysql_connect_args(url), autocommit=True)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        await conn.ensure_closed()


def load_duckdb(connection: Any, data: Dataset | None = None) -> None:
    """Create and fill the tables in a DuckDB connection (sets the connection's TimeZone to UTC)."""
    data = data or generate()
    connection.execute("SET TimeZone = 'UTC'")
    for ddl in DUCKDB_DDL:
        connection.execute(ddl)
    import pandas as pd

    for table, rows in data.tables().items():
        # Through a DataFrame: executemany is slow in DuckDB. Instants go in as UTC (TimeZone is UTC).
        frame = pd.DataFrame([tuple(_utc_naive(v) for v in row) for row in rows], columns=COLUMNS[table])
        connection.register("sqlgate_dataset_rows", frame)
        try:
            connection.execute(f"INSERT INTO {table} SELECT * FROM sqlgate_dataset_rows")
        finally:
            connection.unregister("sqlgate_dataset_rows")
