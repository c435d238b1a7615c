"""Audit (issue 6 item 6): every query — answered, failed at the datasource, refused by the access
list, by the parser or by the planner — writes a request_logs row and its request_event_logs rows
in the Synmetrix shape into the real metadata database, and no password or secret appears in them."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import psycopg
import pytest

from sqlgate.metastore import admin
from tests.support.security import USERS, SecureSetup

pytestmark = pytest.mark.e2e


async def logged(secure: SecureSetup, since: Any) -> list[dict[str, Any]]:
    """request_logs rows since ``since`` with their events (oldest first)."""
    assert secure.gateway.query_log is not None
    await secure.gateway.query_log.flush()
    conn = await asyncpg.connect(secure.metadata_url)
    try:
        requests = await conn.fetch(
            "SELECT * FROM public.request_logs WHERE start_time >= $1 ORDER BY start_time", since
        )
        events = await conn.fetch('SELECT * FROM public.request_event_logs ORDER BY "timestamp", event')
    finally:
        await conn.close()
    result = []
    for request in requests:
        row = dict(request)
        row["events"] = [dict(e) for e in events if e["request_id"] == request["request_id"]]
        result.append(row)
    return result


async def now(secure: SecureSetup) -> Any:
    conn = await asyncpg.connect(secure.metadata_url)
    try:
        return await conn.fetchval("SELECT clock_timestamp()")
    finally:
        await conn.close()


def event(request: dict[str, Any], name: str) -> dict[str, Any]:
    found = [e for e in request["events"] if e["event"] == name]
    assert len(found) == 1, (name, [e["event"] for e in request["events"]])
    return found[0]


async def test_answered_failed_and_refused_queries_are_logged_without_secrets(secure: SecureSetup) -> None:
    since = await now(secure)
    statements = {
        "answered": "SELECT status, MEASURE(count) FROM orders WHERE completed GROUP BY 1 ORDER BY 1",
        "datasource_error": "SELECT status, 1 / (MEASURE(count) - MEASURE(count)) FROM orders GROUP BY 1",
        "access_refused": "SELECT MEASURE(avg_discount) FROM orders",
        "parse_error": "SELEC status FROM orders",
        "unknown_table": "SELECT * FROM secrets",
        "user_column": "SELECT MEASURE(count) FROM orders WHERE __user = 'x'",
    }
    outcomes: dict[str, str] = {}
    async with await secure.connect("analyst") as conn:
        for key, sql in statements.items():
            try:
                await conn.execute(sql)
                outcomes[key] = "ok"
            except psycopg.Error as exc:
                outcomes[key] = exc.sqlstate or "?"
    assert outcomes == {
        "answered": "ok",
        "datasource_error": "22012",
        "access_refused": "42501",
        "parse_error": "42601",
        "unknown_table": "42P01",
        "user_column": "42501",
    }
    requests = await logged(secure, since)
    by_sql = {json.loads(event(r, "Load Request")["query"])["sql"]: r for r in requests}
    assert set(statements.values()) <= set(by_sql)
    analyst_id = await _user_id(secure, secure.credentials[("analyst", "POSTGRES")][0])
    for sql in statements.values():
        request = by_sql[sql]
        assert str(request["user_id"]) == analyst_id and request["path"] == "sql"
        assert str(request["datasource_id"]) == secure.datasources["POSTGRES"]
        assert request["end_time"] >= request["start_time"]

    answered = by_sql[statements["answered"]]
    assert [e["event"] for e in answered["events"]] == [
        "Load Request",
        "Load Request SQL",
        "Load Request Success",
    ]
    query = json.loads(event(answered, "Load Request Success")["query"])
    # The semantic query in Cube's REST shape, next to the client SQL and the members' usages.
    assert query["measures"] == ["orders.count"] and query["dimensions"] == ["orders.status"]
    assert query["segments"] == ["orders.completed"] and query["order"] == [{"id": "orders.status"}]
    assert event(answered, "Load Request SQL")["query_sql"].startswith("SELECT")
    assert event(answered, "Load Request Success")["duration"] is not None

    failed = by_sql[statements["datasource_error"]]
    error = event(failed, "Cube SQL Error")
    assert error["error"].startswith("22012") and "division by zero" in error["error"]
    assert "orders" in error["query_sql"].lower()  # what the datasource ran (it failed)

    for key, sqlstate in (
        ("access_refused", "42501"),
        ("parse_error", "42601"),
        ("unknown_table", "42P01"),
        ("user_column", "42501"),
    ):
        refused = by_sql[statements[key]]
        assert [e["event"] for e in refused["events"]] == ["Load Request", "Cube SQL Error"], key
        assert event(refused, "Cube SQL Error")["error"].startswith(sqlstate), key
    refused_error = event(by_sql[statements["access_refused"]], "Cube SQL Error")
    assert "orders.avg_discount" in refused_error["error"]
    # A statement refused after planning records what it tried to read (and no generated SQL).
    assert json.loads(refused_error["query"])["measures"] == ["orders.avg_discount"]
    assert refused_error["query_sql"] is None
    _assert_no_secrets(requests, secure)


async def test_datasource_connection_failure_is_logged_without_its_password(secure: SecureSetup) -> None:
    secret = "sgsecret-not-the-password-8431"
    # This server trusts local connections: a login that does not exist makes the connection fail.
    params = {**secure.pg.params, "user": "sqlgate_no_such_login", "password": secret}
    ds = await admin.create_datasource(
        secure.engine, team=secure.team_id, name="wrong-password", db_type="POSTGRES", params=params
    )
    from tests.support.semantic_harness import model_files

    await admin.push_model_sources(
        secure.engine,
        team=secure.team_id,
        datasource=ds["id"],
        sources=[admin.ModelSource(name=n, path=n, code=c) for n, c in model_files()],
    )
    issued = await admin.create_credential(
        secure.engine, team=secure.team_id, datasource=ds["id"], user=USERS["owner"]
    )
    since = await now(secure)
    dsn = (
        f"host=127.0.0.1 port={secure.gateway.port} dbname=db user={issued['username']}"
        f" password={issued['password']} sslmode=disable"
    )
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as info:
            await conn.execute("SELECT MEASURE(count) FROM orders")
        assert secret not in str(info.value)
        assert info.value.sqlstate is not None and info.value.sqlstate[:2] in ("08", "28", "58")
    requests = await logged(secure, since)
    mine = [r for r in requests if str(r["datasource_id"]) == ds["id"]]
    assert len(mine) == 1
    assert event(mine[0], "Cube SQL Error")["error"][:2] in ("08", "28", "58")
    _assert_no_secrets(requests, secure, extra=(secret, issued["password"]))


def _assert_no_secrets(
    requests: list[dict[str, Any]], secure: SecureSetup, extra: tuple[str, ...] = ()
) -> None:
    secrets = [password for _, password in secure.credentials.values()]
    secrets += [secure.pg.params["password"], secure.mysql.params["password"], *extra]
    for request in requests:
        text = json.dumps(request, default=str)
        for secret in secrets:
            assert secret not in text


async def _user_id(secure: SecureSetup, username: str) -> str:
    conn = await asyncpg.connect(secure.metadata_url)
    try:
        return str(
            await conn.fetchval("SELECT user_id FROM public.sql_credentials WHERE username = $1", username)
        )
    finally:
        await conn.close()
