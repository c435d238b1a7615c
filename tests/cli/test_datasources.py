"""``sqlgate datasources create`` and ``list`` (``test`` is in test_datasources_test.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Sqlgate
from tests.cli.helpers import query


def _stored(url: str, name: str) -> dict[str, Any]:
    rows = query(
        url,
        "SELECT db_type, db_params, user_id::text, team_id::text FROM public.datasources WHERE name = $1",
        name,
    )
    assert len(rows) == 1
    return {**rows[0], "db_params": json.loads(rows[0]["db_params"])}


def test_create_from_a_postgres_url(
    sqlgate: Sqlgate, datasource: dict[str, Any], team: dict[str, Any], metadata_url: str
) -> None:
    assert datasource["name"] == "shop" and datasource["db_type"] == "POSTGRES"
    assert datasource["db_params"]["password"] == "********"
    assert datasource["warnings"] == []
    stored = _stored(metadata_url, "shop")
    assert stored["db_type"] == "POSTGRES"
    assert stored["db_params"] == {
        "host": "db.internal",
        "port": "5433",
        "database": "shop",
        "user": "reader",
        "password": "s3cr@t",
        "ssl": True,
    }
    assert stored["team_id"] == team["id"]
    assert stored["user_id"] == team["owner"]["id"]  # the creator is the team owner


@pytest.mark.parametrize(
    ("url", "db_type", "params"),
    [
        ("postgres://u@h/d", "POSTGRES", {"host": "h", "port": "5432", "database": "d", "user": "u"}),
        (
            "postgresql://u:@/d?host=/var/run/postgresql",
            "POSTGRES",
            {"host": "/var/run/postgresql", "port": "5432", "database": "d", "user": "u"},
        ),
        (
            "mysql://root:pw@127.0.0.1:3307/events",
            "MYSQL",
            {"host": "127.0.0.1", "port": "3307", "database": "events", "user": "root", "password": "pw"},
        ),
        (
            "mariadb://root@db/events",
            "MYSQL",
            {"host": "db", "port": "3306", "database": "events", "user": "root"},
        ),
        ("duckdb:///srv/data/shop.duckdb", "DUCKDB", {"database": "/srv/data/shop.duckdb"}),
        ("duckdb::memory:", "DUCKDB", {"database": ":memory:"}),
    ],
)
def test_create_from_urls(
    sqlgate: Sqlgate, team: dict[str, Any], metadata_url: str, url: str, db_type: str, params: dict[str, Any]
) -> None:
    result = sqlgate("datasources", "create", "--team", "Analytics", "--name", "ds", "--url", url)
    assert result.code == 0, result.err
    assert result.json()["db_type"] == db_type
    assert _stored(metadata_url, "ds")["db_params"] == params


def test_create_from_params(
    sqlgate: Sqlgate, team: dict[str, Any], metadata_url: str, tmp_path: Path
) -> None:
    params = {"host": "10.0.0.5", "port": "3306", "database": "events", "user": "bi", "password": "pw"}
    result = sqlgate(
        "datasources", "create", "--team", "Analytics", "--name", "events", "--type", "mysql",
        "--params", json.dumps(params), json=False,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert (
        result.out.strip()
        == f"Created MYSQL datasource events (id {_id(metadata_url, 'events')}) in team Analytics."
    )
    stored = _stored(metadata_url, "events")
    assert (stored["db_type"], stored["db_params"]) == ("MYSQL", params)

    file = tmp_path / "params.json"
    file.write_text(json.dumps({"host": "ch", "port": "8123", "password": "pw"}))
    other = sqlgate(
        "datasources",
        "create",
        "--team",
        team["id"],
        "--name",
        "ch",
        "--type",
        "ClickHouse",
        "--params",
        f"@{file}",
    )
    assert other.code == 0, other.err
    assert other.json()["db_type"] == "CLICKHOUSE"
    assert other.json()["warnings"] == [
        "sqlgate can serve POSTGRES, MYSQL, DUCKDB datasources; CLICKHOUSE is stored (Synmetrix can use it) "
        "but sqlgate cannot query it"
    ]
    assert other.err.startswith("warning: sqlgate can serve")


def _id(url: str, name: str) -> str:
    return query(url, "SELECT id::text FROM public.datasources WHERE name = $1", name)[0]["id"]


def test_create_errors(sqlgate: Sqlgate, datasource: dict[str, Any], metadata_url: str) -> None:
    def create(*args: str) -> str:
        result = sqlgate("datasources", "create", "--team", "Analytics", "--name", "x", *args, json=False)
        assert result.code == 1, result.out
        return result.error()

    assert create("--type", "oracle", "--params", "{}").startswith(
        "error: unknown datasource type 'oracle'; use one of: POSTGRES, MYSQL, MONGOBI, CLICKHOUSE, RESHIFT,"
    )
    assert create("--type", "postgres", "--params", '{"host": ') == (
        "error: invalid JSON in --params: Expecting value at line 1 column 10"
    )
    assert create("--type", "postgres", "--params", "[1]") == (
        'error: --params must be a JSON object like {"host": "…", "port": "5432", …}'
    )
    assert create("--type", "postgres", "--params", '{"port": "70000"}') == (
        "error: port must be between 0 and 65535 (got 70000)"
    )
    assert create("--params", "{}") == "error: --type is required with --params"
    assert create("--url", "http://example.com") == (
        "error: unsupported URL scheme 'http://': "
        "use postgresql://, mysql:// or duckdb:///path (or give --params JSON)"
    )
    assert (
        create("--type", "mysql", "--url", "postgresql://u@h/d")
        == "error: --type MYSQL does not match the POSTGRES URL"
    )
    assert (
        create("--url", "postgresql://u:pw@/d")
        == "error: the datasource URL 'postgresql://u:***@/d' has no host"
    )
    assert create("--url", "postgresql://u@h:99999/d").startswith("error: invalid datasource URL")
    duplicate = sqlgate(
        "datasources",
        "create",
        "--team",
        "Analytics",
        "--name",
        "shop",
        "--url",
        "postgresql://u@h/d",
        json=False,
    )
    assert (
        duplicate.error()
        == f"error: team 'Analytics' already has a datasource named 'shop' (id {datasource['id']})"
    )
    unknown_team = sqlgate(
        "datasources", "create", "--team", "Nope", "--name", "y", "--url", "postgresql://u@h/d", json=False
    )
    assert unknown_team.error() == "error: no team named 'Nope' (teams: Analytics)"
    both = sqlgate(
        "datasources",
        "create",
        "--team",
        "Analytics",
        "--name",
        "y",
        "--url",
        "postgresql://u@h/d",
        "--params",
        "{}",
    )
    assert both.code == 2 and "not allowed with argument" in both.err
    neither = sqlgate("datasources", "create", "--team", "Analytics", "--name", "y")
    assert neither.code == 2 and "one of the arguments --params --url is required" in neither.err
    assert [r["name"] for r in query(metadata_url, "SELECT name FROM public.datasources")] == ["shop"]


def test_list_never_shows_passwords(sqlgate: Sqlgate, datasource: dict[str, Any]) -> None:
    params = {"accountId": "a", "username": "u", "password": "pw-snow-1", "apiKey": "key-2"}
    sqlgate(
        "datasources", "create", "--team", "Analytics", "--name", "sf", "--type", "SNOWFLAKE",
        "--params", json.dumps(params),
    )  # fmt: skip
    as_json = sqlgate("datasources", "list", "--team", "Analytics")
    text = sqlgate("datasources", "list", "--team", "Analytics", json=False)
    for output in (as_json.out, text.out):
        for secret in ("s3cr@t", "s3cr%40t", "pw-snow-1", "key-2"):
            assert secret not in output
    listed = {d["name"]: d for d in as_json.json()["datasources"]}
    assert listed["shop"]["db_params"] == {
        "host": "db.internal",
        "port": "5433",
        "database": "shop",
        "user": "reader",
        "password": "********",
        "ssl": True,
    }
    assert listed["sf"]["db_params"]["apiKey"] == "********"
    assert listed["shop"]["active_branch"] is None and listed["shop"]["credentials"] == 0
    assert "db.internal:5433/shop" in text.out


def test_list_of_an_empty_team_and_of_an_unknown_team(sqlgate: Sqlgate, team: dict[str, Any]) -> None:
    empty = sqlgate("datasources", "list", "--team", "Analytics", json=False)
    assert empty.code == 0 and "has no datasources" in empty.out
    assert sqlgate("datasources", "list", "--team", "Analytics").json() == {
        "team": "Analytics",
        "datasources": [],
    }
    unknown = sqlgate("datasources", "list", "--team", "Nope", json=False)
    assert unknown.code == 1 and unknown.error() == "error: no team named 'Nope' (teams: Analytics)"


def test_test_of_an_unknown_datasource(sqlgate: Sqlgate, team: dict[str, Any]) -> None:
    """Resolved before any driver is involved (the connection tests are in test_datasources_test.py)."""
    result = sqlgate("datasources", "test", "--team", "Analytics", "--name", "nope", json=False)
    assert result.code == 1
    assert (
        result.error() == "error: team 'Analytics' has no datasource named 'nope' (its datasources: none yet)"
    )
