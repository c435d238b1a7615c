"""Parsing details that matter for security: CTE scope in routing, string syntaxes, FROM relations."""

from __future__ import annotations

import pytest
import sqlglot

from sqlgate.errors import PgError
from sqlgate.planner.catalog import rewrite as rw
from sqlgate.planner.core import _parse, route_of
from sqlgate.planner.semantic.strings import decode_unicode_escapes, plain_strings


@pytest.mark.parametrize(
    ("sql", "route"),
    [
        ("WITH orders AS (SELECT * FROM orders) SELECT count(*) FROM orders", "semantic"),
        ("WITH x AS (SELECT 1 AS a) SELECT * FROM x", "catalog"),
        ("WITH a AS (SELECT 1 AS v), b AS (SELECT * FROM a) SELECT * FROM b", "catalog"),
        ("WITH b AS (SELECT * FROM a), a AS (SELECT 1 AS v) SELECT * FROM b", "semantic"),
        ("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT * FROM r", "catalog"),
        ("WITH pg_x AS (SELECT status FROM orders) SELECT count(*) FROM pg_x", "semantic"),
    ],
)
def test_cte_scope_in_routing(sql: str, route: str) -> None:
    tree, _ = _parse(sql)
    assert route_of(tree, sql) == route


def test_sqlglot_crashes_are_syntax_errors() -> None:
    tree, error = _parse('SELECT CAST(status AS "text; DROP TABLE orders") FROM orders')
    assert tree is None and error is not None and error.sqlstate == "42601"


def test_string_syntaxes_become_plain_values() -> None:
    tree = sqlglot.parse_one(
        "SELECT 1 WHERE a = $$x'y$$ AND b = E'c\\'d' AND c = U&'\\0041!' AND d = U&'e!0042' UESCAPE '!'",
        read="postgres",
    )
    plain = plain_strings(tree, copy=True)
    values = {lit.this for lit in plain.find_all(sqlglot.exp.Literal) if lit.is_string}
    assert {"x'y", "c'd", "A!", "eB"} <= values
    assert not list(plain.find_all(sqlglot.exp.RawString, sqlglot.exp.ByteString, sqlglot.exp.UnicodeString))


def test_unicode_escapes() -> None:
    assert decode_unicode_escapes(r"\+01F600 \\ \0041") == "😀 \\ A"
    for bad in (r"\00G1", r"\D800", r"\12"):
        with pytest.raises(PgError) as info:
            decode_unicode_escapes(bad)
        assert info.value.sqlstate == "22025"


def test_from_relations_of_unparsed_statements() -> None:
    sql = 'select 1 from pg_catalog.pg_class c join public."Orders" o on true, generate_series(1, 2) g, users'
    assert rw.from_relations(rw.scan(sql)) == [
        ("pg_catalog", "pg_class"),
        ("public", "Orders"),
        (None, "users"),
    ]
    sql = "SELECT a FROM (SELECT 1 FROM pg_type) x WHERE EXISTS (SELECT 1 FROM products) ORDER BY a, b"
    assert rw.from_relations(rw.scan(sql)) == [(None, "pg_type"), (None, "products")]
