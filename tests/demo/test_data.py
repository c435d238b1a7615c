"""The demo's sample data: deterministic, realistic enough, and matching the shipped models."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import yaml

from sqlgate.demo.data import describe, ensure, generate, is_current
from sqlgate.demo.models import EXAMPLE_QUERIES, model_files

TABLES = ("customers", "products", "orders", "line_items")


def fingerprint(path: Path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {
            table: conn.execute(
                f"SELECT md5(string_agg(t::VARCHAR, '|' ORDER BY id)) FROM {table} t"
            ).fetchone()[0]
            for table in TABLES
        }


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("demo") / "demo.duckdb", orders=3000).path


def test_sizes_follow_the_order_count(demo_db: Path) -> None:
    data = describe(demo_db)
    assert (data.orders, data.customers, data.products) == (3000, 300, 15)
    assert 3000 <= data.line_items <= 5 * 3000


def test_generation_is_deterministic(demo_db: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again.duckdb", orders=3000).path
    assert fingerprint(again) == fingerprint(demo_db)


def test_data_has_years_statuses_and_nulls(demo_db: Path) -> None:
    with duckdb.connect(str(demo_db), read_only=True) as conn:
        years = [
            r[0] for r in conn.execute("SELECT DISTINCT year(created_at) FROM orders ORDER BY 1").fetchall()
        ]
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM orders").fetchall()}
        nulls = conn.execute(
            "SELECT (SELECT count(*) FROM customers WHERE country IS NULL),"
            " (SELECT count(*) FROM orders WHERE completed_at IS NULL),"
            " (SELECT count(*) FROM orders WHERE discount_code IS NULL)"
        ).fetchone()
        orphans = conn.execute(
            "SELECT count(*) FROM line_items l LEFT JOIN orders o ON o.id = l.order_id"
            " LEFT JOIN products p ON p.id = l.product_id"
            " WHERE o.id IS NULL OR p.id IS NULL OR l.unit_price IS NULL"
        ).fetchone()[0]
        fan_out = conn.execute(
            "SELECT max(n) FROM (SELECT count(*) n FROM line_items GROUP BY order_id)"
        ).fetchone()[0]
    assert years == [2021, 2022, 2023, 2024]
    assert statuses == {"completed", "shipped", "processing", "cancelled", "returned"}
    assert all(n > 0 for n in nulls)
    assert orphans == 0
    assert fan_out > 1  # orders → line_items is one-to-many


def test_ensure_reuses_current_data_and_rebuilds_otherwise(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    assert not is_current(path, orders=500)
    ensure(path, orders=500)
    assert is_current(path, orders=500)
    stamp = path.stat().st_mtime_ns
    ensure(path, orders=500)
    assert path.stat().st_mtime_ns == stamp  # reused, not rewritten
    ensure(path, orders=600)
    assert describe(path).orders == 600
    assert not list(tmp_path.glob("*.partial*"))


def test_models_parse_and_name_real_columns(demo_db: Path) -> None:
    files = dict(model_files())
    assert set(files) == {"customers.yml", "line_items.yml", "orders.yml", "products.yml", "sales.yml"}
    cubes = {}
    views = []
    for text in files.values():
        doc = yaml.safe_load(text)
        cubes.update({c["name"]: c for c in doc.get("cubes", [])})
        views.extend(doc.get("views", []))
    with duckdb.connect(str(demo_db), read_only=True) as conn:
        for cube in cubes.values():
            table = cube["sql_table"]
            for join in cube.get("joins", []):
                assert join["name"] in cubes
            members = [*cube.get("dimensions", []), *cube.get("measures", []), *cube.get("segments", [])]
            for member in members:
                sql = member.get("sql")
                if sql is None or re.search(r"\{(?!CUBE\})", sql):
                    continue  # count measures, and expressions over other members
                conn.execute(f"SELECT {sql.replace('{CUBE}', table)} FROM {table} LIMIT 1")
    kinds = {m["type"] for c in cubes.values() for m in c.get("measures", [])}
    assert {"count", "count_distinct", "sum", "avg", "number"} <= kinds
    assert {d["type"] for c in cubes.values() for d in c.get("dimensions", [])} == {
        "number",
        "string",
        "time",
        "boolean",
    }
    assert [v["name"] for v in views] == ["sales"]
    for part in views[0]["cubes"]:
        assert all(step in cubes for step in part["join_path"].split("."))
    assert len(EXAMPLE_QUERIES) == 3
