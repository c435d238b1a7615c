"""``sqlgate access-lists``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Sqlgate
from tests.cli.helpers import scalar

ORDERS = {"Orders": {"measures": ["Orders.count"], "dimensions": ["Orders.status"], "segments": []}}


def _write(tmp_path: Path, content: Any, name: str = "acl.json") -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_create_with_datasource_name_stores_the_id(
    sqlgate: Sqlgate, datasource: dict[str, Any], tmp_path: Path, metadata_url: str
) -> None:
    config = _write(tmp_path, {"datasources": {"shop": {"cubes": ORDERS}}})
    result = sqlgate("access-lists", "create", "--team", "Analytics", "--name", "Sales", "--config", config)
    assert result.code == 0, result.err
    created = result.json()
    assert created["name"] == "Sales" and created["team"] == "Analytics"
    assert created["config"] == {"datasources": {datasource["id"]: {"cubes": ORDERS}}}
    stored = scalar(metadata_url, "SELECT config FROM public.access_lists")
    assert json.loads(stored) == {"datasources": {datasource["id"]: {"cubes": ORDERS}}}

    listed = sqlgate("access-lists", "list", "--team", "Analytics").json()["access_lists"]
    assert [(a["name"], a["used_by"]) for a in listed] == [("Sales", 0)]
    assert "Sales  1" in sqlgate("access-lists", "list", "--team", "Analytics", json=False).out


def test_create_with_datasource_id_and_from_stdin(
    sqlgate: Sqlgate, datasource: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "sys.stdin", io.StringIO(json.dumps({"datasources": {datasource["id"]: {"cubes": ORDERS}}}))
    )
    result = sqlgate(
        "access-lists", "create", "--team", "Analytics", "--name", "Sales", "--config", "-", json=False
    )
    assert result.code == 0, result.err
    assert result.out.startswith("Created access list Sales (id ")


def test_a_config_file_with_a_byte_order_mark(
    sqlgate: Sqlgate, datasource: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"datasources": {"shop": {"cubes": ORDERS}}}).encode())
    result = sqlgate("access-lists", "create", "--team", "Analytics", "--name", "Bom", "--config", str(path))
    assert result.code == 0, result.err


def test_create_errors(
    sqlgate: Sqlgate, datasource: dict[str, Any], tmp_path: Path, metadata_url: str
) -> None:
    def create(config: str, name: str = "X", team: str = "Analytics") -> str:
        result = sqlgate(
            "access-lists", "create", "--team", team, "--name", name, "--config", config, json=False
        )
        assert result.code == 1
        return result.error()

    assert create(_write(tmp_path, '{"datasources": [')).startswith(
        f"error: invalid JSON in access list config file {tmp_path}/acl.json: "
        "Expecting value at line 1 column 18"
    )
    assert create(str(tmp_path / "missing.json")) == (
        f"error: cannot read access list config file {tmp_path}/missing.json: No such file or directory"
    )
    assert create(_write(tmp_path, "[]")) == (
        'error: the access list config must be a JSON object like {"datasources": {...}}'
    )
    assert create(_write(tmp_path, {"cubes": {}})) == "error: unknown key(s) in access list config: cubes"
    assert create(_write(tmp_path, {"datasources": {"nope": {"cubes": {}}}})) == (
        "error: team 'Analytics' has no datasource named 'nope' (its datasources: shop)"
    )
    assert create(
        _write(tmp_path, {"datasources": {"shop": {"cubes": {"Orders": {"measures": ["count"]}}}}})
    ) == (
        "error: datasources['shop'].cubes.Orders.measures: "
        "use full member names like Orders.count (got 'count')"
    )
    assert create(_write(tmp_path, {"datasources": {"shop": {"cubes": {"Orders": {"filters": []}}}}})) == (
        "error: datasources['shop'].cubes.Orders has unknown key(s) filters "
        "(allowed: measures, dimensions, segments)"
    )
    assert create(_write(tmp_path, {}), team="Nope") == "error: no team named 'Nope' (teams: Analytics)"
    assert scalar(metadata_url, "SELECT count(*) FROM public.access_lists") == 0

    ok = _write(tmp_path, {"datasources": {}})
    assert (
        sqlgate("access-lists", "create", "--team", "Analytics", "--name", "Sales", "--config", ok).code == 0
    )
    assert create(ok, name="Sales").startswith(
        "error: team 'Analytics' already has an access list named 'Sales' (id "
    )


def test_update_replaces_the_config(
    sqlgate: Sqlgate, datasource: dict[str, Any], tmp_path: Path, metadata_url: str
) -> None:
    first = _write(tmp_path, {"datasources": {"shop": {"cubes": ORDERS}}})
    assert (
        sqlgate("access-lists", "create", "--team", "Analytics", "--name", "Sales", "--config", first).code
        == 0
    )
    wider = {"Orders": {**ORDERS["Orders"], "measures": ["Orders.count", "Orders.amount"]}}
    second = _write(tmp_path, {"datasources": {"shop": {"cubes": wider}}}, "wider.json")
    result = sqlgate("access-lists", "update", "--team", "Analytics", "--name", "Sales", "--config", second)
    assert result.code == 0, result.err
    assert result.json()["config"] == {"datasources": {datasource["id"]: {"cubes": wider}}}
    stored = scalar(metadata_url, "SELECT config FROM public.access_lists")
    assert json.loads(stored) == {"datasources": {datasource["id"]: {"cubes": wider}}}
    missing = sqlgate("access-lists", "update", "--team", "Analytics", "--name", "Nope", "--config", second)
    assert missing.code != 0 and "Nope" in missing.err
    bad = _write(tmp_path, {"datasources": {"shop": {"cubes": {"Orders": {"measures": "x"}}}}}, "bad.json")
    invalid = sqlgate("access-lists", "update", "--team", "Analytics", "--name", "Sales", "--config", bad)
    assert invalid.code != 0
    assert json.loads(scalar(metadata_url, "SELECT config FROM public.access_lists")) == {
        "datasources": {datasource["id"]: {"cubes": wider}}
    }
