"""Capture mode (``sqlgate serve --log-unsupported FILE``): every statement refused as not supported,
or naming a catalog object the catalog lacks, is appended to the file as one JSON line."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.support.catalog import running_catalog_env
from tests.support.databases import PgServer

pytestmark = pytest.mark.e2e


async def test_unsupported_statements_are_captured(
    pg_server: PgServer, metadata_template: str, catalog_role: str, tmp_path: Path
) -> None:
    capture = tmp_path / "unsupported.jsonl"
    async with (
        running_catalog_env(pg_server, metadata_template, catalog_role, log_unsupported=str(capture)) as env,
        await psycopg.AsyncConnection.connect(
            env.dsn(application_name="'Capture Tool 1.0'"), autocommit=True
        ) as conn,
    ):
        refused = [
            ("SELECT pg_catalog.pg_no_such_function()", "42883"),  # catalog: missing function
            ("SELECT * FROM pg_catalog.pg_no_such_view", "42P01"),  # catalog: missing relation
            ("SELECT 'x'::regclass FROM pg_class LIMIT 1", "42P01"),  # catalog: missing object at Execute
            ("EXPLAIN SELECT status FROM orders", "0A000"),  # not supported
            ("SELECT o.status FROM orders o JOIN pg_class c ON true", "0A000"),  # mixing
        ]
        for sql, sqlstate in refused:
            with pytest.raises(psycopg.Error) as info:
                await conn.execute(sql)
            assert info.value.sqlstate == sqlstate, sql
        with pytest.raises(psycopg.Error):
            await conn.execute("SELECT no_such_member FROM orders")  # a cube query error: not captured
        with pytest.raises(psycopg.Error):
            await conn.execute("SELECT * FROM pg_class WHERE relname = %s AND x", ["orders"])  # 42703
        await conn.execute("SELECT relname FROM pg_class WHERE relname = %s", ["orders"])  # fine
    records = [json.loads(line) for line in capture.read_text().splitlines()]
    assert [(r["sqlstate"], r["sql"]) for r in records] == [(s, sql) for sql, s in refused]
    first = records[0]
    assert set(first) == {"time", "user", "application_name", "sqlstate", "message", "sql"}
    assert first["user"] == env.owner.username and first["application_name"] == "Capture Tool 1.0"
    assert "pg_no_such_function" in first["message"]
    assert env.owner.password not in capture.read_text()
