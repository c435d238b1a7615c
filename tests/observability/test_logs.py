"""Structured log lines: one per connection and per query, never a secret."""

from __future__ import annotations

import logging

import pytest

from sqlgate.observability.logs import logfmt, shorten_sql
from tests.support.gateways import password_of, running_gateway
from tests.support.rawpg import RawPg


def test_logfmt_quotes_what_needs_quoting() -> None:
    line = logfmt(
        "query", {"user": "alice", "sql": 'SELECT "a" = 1', "ok": True, "ms": 1.23456, "none": None}
    )
    assert line == 'query user=alice sql="SELECT \\"a\\" = 1" ok=true ms=1.235 none=""'
    assert shorten_sql("SELECT\n  1,\n  2") == "SELECT 1, 2"
    assert len(shorten_sql("x" * 1000)) == 300


async def test_one_line_per_connection_and_per_query_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sqlgate")
    async with running_gateway() as gw:
        conn = await RawPg.connect(gw.port)
        await conn.startup("alice", password_of("alice"))
        await conn.query("SELECT 'hello' AS greeting")
        await conn.close()
        bad = await RawPg.connect(gw.port)
        await bad.startup("alice", "my-wrong-password")
    records = [r.getMessage() for r in caplog.records if r.name.startswith("sqlgate.")]
    queries = [r for r in records if r.startswith("query ")]
    closed = [r for r in records if r.startswith("connection_closed ")]
    assert len(queries) == 1 and "kind=builtin" in queries[0] and "outcome=ok" in queries[0]
    assert len(closed) == 1 and "user=alice" in closed[0] and "reason=terminate" in closed[0]
    assert any("authentication_failed" in r and "reason=wrong_password" in r for r in records)
    everything = "\n".join(records)
    assert password_of("alice") not in everything and "my-wrong-password" not in everything
    assert "never-shown" not in everything  # db_params stay out of logs
