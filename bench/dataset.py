"""The benchmark's data: a ``facts`` table generated in the database, and the model over it.

``facts`` has ``rows`` rows (1M by default) with ~10 rows per customer, 8 regions, 20 categories,
4 channels and 4 statuses, loaded with one ``generate_series`` INSERT (seconds, no client round
trips). The model is one cube ``facts``: 10 dimensions and 25 measures (enough for the 30-member
select list of workload (e)).
"""

from __future__ import annotations

import asyncpg

from bench.servers import Postgres

KEPT_DATABASE = "sqlgate_bench_data"

CREATE = """
CREATE TABLE facts (
    id bigint PRIMARY KEY,
    customer_id int NOT NULL,
    region text NOT NULL,
    category text NOT NULL,
    channel text NOT NULL,
    status text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    quantity int NOT NULL,
    discount numeric(12, 2) NOT NULL,
    created_at timestamp NOT NULL
)
"""

FILL = """
INSERT INTO facts
SELECT g,
       1 + (g * 7919) % $2::int,
       (ARRAY['north', 'south', 'east', 'west', 'central', 'islands', 'coast', 'mountains'])[1 + g % 8],
       'category_' || lpad((g % 20)::text, 2, '0'),
       (ARRAY['web', 'store', 'phone', 'partner'])[1 + (g / 7) % 4],
       (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + (g / 3) % 4],
       ((g * 37) % 100000) / 100.0,
       1 + g % 9,
       ((g * 13) % 1000) / 100.0,
       timestamp '2020-01-01' + (g % 1500000) * interval '1 minute'
FROM generate_series(1, $1::bigint) AS g
"""

INDEXES = ("CREATE INDEX facts_customer ON facts (customer_id)",)

DIMENSIONS = [
    ("id", "number", True),
    ("customer_id", "number", False),
    ("region", "string", False),
    ("category", "string", False),
    ("channel", "string", False),
    ("status", "string", False),
    ("amount", "number", False),
    ("quantity", "number", False),
    ("discount", "number", False),
    ("created_at", "time", False),
]


def _measures() -> list[tuple[str, str, str | None]]:
    measures: list[tuple[str, str, str | None]] = [
        ("count", "count", None),
        ("total_amount", "sum", "amount"),
        ("total_quantity", "sum", "quantity"),
        ("total_discount", "sum", "discount"),
        ("avg_amount", "avg", "amount"),
        ("min_amount", "min", "amount"),
        ("max_amount", "max", "amount"),
        ("customers", "count_distinct", "customer_id"),
    ]
    # Extra sums, so a 30-member select list exists without repeating a member.
    measures += [(f"weighted_{k:02d}", "sum", f"amount * {k}") for k in range(2, 19)]
    return measures


def model_measures() -> list[str]:
    """Names of the model's measures (25)."""
    return [name for name, _, _ in _measures()]


def model_yaml() -> str:
    """The data model (one cube over ``public.facts``) as Synmetrix YAML."""
    lines = ["cubes:", "  - name: facts", "    sql_table: public.facts", "    measures:"]
    for name, kind, sql in _measures():
        lines.append(f"      - name: {name}")
        if sql is not None:
            lines.append(f"        sql: {sql}")
        lines.append(f"        type: {kind}")
    lines.append("    dimensions:")
    for name, kind, primary in DIMENSIONS:
        lines += [f"      - name: {name}", f"        sql: {name}", f"        type: {kind}"]
        if primary:
            lines.append("        primary_key: true")
    return "\n".join(lines) + "\n"


def customers_for(rows: int) -> int:
    """Distinct customer ids for ``rows`` rows (about ten rows each)."""
    return max(10, rows // 10)


async def table_rows(url: str) -> int | None:
    """Rows of ``facts`` in the database at ``url`` (None when the database or table is missing)."""
    try:
        conn = await asyncpg.connect(url)
    except (asyncpg.InvalidCatalogNameError, OSError):
        return None
    try:
        return int(await conn.fetchval("SELECT count(*) FROM facts"))
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()


async def create_database(pg: Postgres, name: str) -> None:
    conn = await asyncpg.connect(pg.url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(pg: Postgres, name: str) -> None:
    conn = await asyncpg.connect(pg.url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def load(pg: Postgres, name: str, rows: int, *, keep: bool) -> dict[str, object]:
    """Make sure database ``name`` holds ``facts`` with exactly ``rows`` rows; returns how long the
    load took (0 when a kept database already had them)."""
    import time

    url = pg.url_for(name)
    if keep and await table_rows(url) == rows:
        return {"database": name, "rows": rows, "reused": True, "load_seconds": 0.0}
    await drop_database(pg, name)
    await create_database(pg, name)
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(CREATE)
        await conn.execute(FILL, rows, customers_for(rows))
        for statement in INDEXES:
            await conn.execute(statement)
        await conn.execute("VACUUM ANALYZE facts")
    finally:
        await conn.close()
    return {
        "database": name,
        "rows": rows,
        "reused": False,
        "load_seconds": round(time.perf_counter() - started, 2),
    }
