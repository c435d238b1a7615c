"""``sqlgate models push``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Sqlgate
from tests.cli.helpers import query, scalar

ORDERS = """\
cubes:
  - name: Orders
    sql_table: public.orders
    measures:
      - name: count
        type: count
    dimensions:
      - name: status
        sql: status
        type: string
"""
USERS = "cubes:\n  - name: Users\n    sql_table: public.users\n"
VIEW = "views:\n  - name: Sales\n    cubes:\n      - join_path: Orders\n        includes: '*'\n"
JS = "cube(`Products`, { sql_table: `products` });\n"


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    (root / "cubes").mkdir(parents=True)
    (root / "cubes" / "Orders.yml").write_text(ORDERS)
    (root / "cubes" / "Users.yaml").write_text(USERS)
    (root / "Sales.yml").write_text(VIEW)
    (root / "README.md").write_text("not a model")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "Old.yml").write_text("not: [valid")
    return root


def _versions(url: str) -> int:
    return scalar(url, "SELECT count(*) FROM public.versions")


def test_push_a_folder_creates_the_active_branch_and_a_version(
    sqlgate: Sqlgate, datasource: dict[str, Any], team: dict[str, Any], models_dir: Path, metadata_url: str
) -> None:
    result = sqlgate("models", "push", "--team", "Analytics", "--datasource", "shop", str(models_dir))
    assert result.code == 0, result.err
    pushed = result.json()
    assert pushed["files"] == ["Sales.yml", "Orders.yml", "Users.yaml"]
    assert (pushed["branch"], pushed["branch_status"], pushed["warnings"]) == ("main", "active", [])
    assert pushed["checksum"] == hashlib.md5((VIEW + ORDERS + USERS).encode()).hexdigest()
    rows = query(
        metadata_url,
        "SELECT d.name, d.code, d.checksum, d.user_id::text AS user_id, d.datasource_id::text AS ds, "
        "v.checksum AS version_checksum, v.user_id::text AS version_user, b.user_id::text AS branch_user "
        "FROM public.dataschemas d JOIN public.versions v ON v.id = d.version_id "
        "JOIN public.branches b ON b.id = v.branch_id WHERE v.id = $1::uuid ORDER BY d.name",
        pushed["version_id"],
    )
    assert [(r["name"], r["code"]) for r in rows] == [
        ("Orders.yml", ORDERS),
        ("Sales.yml", VIEW),
        ("Users.yaml", USERS),
    ]
    owner = team["owner"]["id"]
    for row in rows:
        assert row["checksum"] == hashlib.md5(f"{row['name']}-{row['code']}".encode()).hexdigest()  # trigger
        assert row["user_id"] == row["version_user"] == row["branch_user"] == owner
        assert row["ds"] == datasource["id"]
        assert row["version_checksum"] == pushed["checksum"]
    listed = sqlgate("datasources", "list", "--team", "Analytics").json()["datasources"][0]
    assert (listed["active_branch"], listed["version_id"]) == ("main", pushed["version_id"])


def test_every_push_is_a_new_full_version(
    sqlgate: Sqlgate, datasource: dict[str, Any], models_dir: Path, metadata_url: str
) -> None:
    orders = str(models_dir / "cubes" / "Orders.yml")
    first = sqlgate("models", "push", "--team", "Analytics", "--datasource", datasource["id"], orders).json()
    second = sqlgate("models", "push", "--team", "Analytics", "--datasource", "shop", str(models_dir)).json()
    assert first["version_id"] != second["version_id"]
    assert first["branch_id"] == second["branch_id"]
    assert _versions(metadata_url) == 2
    assert scalar(metadata_url, "SELECT count(*) FROM public.branches") == 1
    text = sqlgate("models", "push", "--team", "Analytics", "--datasource", "shop", orders, json=False)
    assert text.code == 0
    assert text.out.startswith("Pushed 1 file(s) to shop branch main (active) as version ")
    assert "\n  Orders.yml" in text.out


def test_another_branch_is_created_but_not_active(
    sqlgate: Sqlgate, datasource: dict[str, Any], models_dir: Path
) -> None:
    orders = str(models_dir / "cubes" / "Orders.yml")
    sqlgate("models", "push", "--team", "Analytics", "--datasource", "shop", orders)
    dev = sqlgate("models", "push", "--team", "Analytics", "--datasource", "shop", "--branch", "dev", orders)
    assert dev.code == 0
    assert dev.json()["branch_status"] == "created"
    warning = "branch 'dev' is not active, so sqlgate does not serve it (the active branch is 'main')"
    assert dev.json()["warnings"] == [warning]
    assert dev.err.strip() == f"warning: {warning}"
    by_id = sqlgate(
        "models",
        "push",
        "--team",
        "Analytics",
        "--datasource",
        "shop",
        "--branch",
        dev.json()["branch_id"],
        orders,
    )
    assert by_id.json()["branch"] == "dev"


def test_js_files_are_stored_with_a_warning(
    sqlgate: Sqlgate, datasource: dict[str, Any], tmp_path: Path, metadata_url: str
) -> None:
    js = tmp_path / "Products.js"
    js.write_text(JS)
    result = sqlgate("models", "push", "--team", "Analytics", "--datasource", "shop", str(js), json=False)
    assert result.code == 0
    assert result.err.strip() == (
        f"warning: {js}: stored, but sqlgate cannot serve JavaScript models yet (only YAML); "
        "Synmetrix can use it"
    )
    assert scalar(metadata_url, "SELECT code FROM public.dataschemas") == JS


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "Bad.yml",
            "cubes:\n  - name: A\n    sql: [unclosed\n",
            "line 4: invalid YAML: expected ',' or ']', but got '<stream end>' "
            "(while parsing a flow sequence started at line 3)",
        ),
        ("Bad.yml", "cubes:\n  - name: A\n   bad indent: x\n", "line 3: invalid YAML:"),
        ("Bad.yml", "views: 3\n", "line 1: views: must be a list"),
        ("Bad.yml", "- a\n- b\n", "line 1: expected a mapping with cubes: and/or views: at the top"),
        ("Bad.yml", "", "line 1: expected a mapping with cubes: and/or views: at the top"),
        ("Bad.yml", "name: Orders\n", "line 1: no cubes: or views: list at the top level"),
        ("Bad.yml", "cubes:\n  - sql_table: x\n", "line 2: this cube has no name"),
        ("Bad.yml", "cubes:\n  - Orders\n", "line 2: each entry of cubes: must be a mapping with a name"),
    ],
)
def test_an_invalid_file_stops_the_whole_push(
    sqlgate: Sqlgate,
    datasource: dict[str, Any],
    models_dir: Path,
    metadata_url: str,
    name: str,
    content: str,
    message: str,
) -> None:
    bad = models_dir / name
    bad.write_text(content)
    result = sqlgate(
        "models", "push", "--team", "Analytics", "--datasource", "shop", str(models_dir), json=False
    )
    assert result.code == 1
    line = result.error()
    assert line.startswith(f"error: nothing pushed, 1 problem: {bad}: {message}")
    assert _versions(metadata_url) == 0
    assert scalar(metadata_url, "SELECT count(*) FROM public.branches") == 0
    assert scalar(metadata_url, "SELECT count(*) FROM public.dataschemas") == 0


def test_all_problems_are_reported_at_once(
    sqlgate: Sqlgate, datasource: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "A.yml").write_text("views: 3\n")
    (tmp_path / "B.yml").write_text("cubes:\n  - sql: x\n")
    result = sqlgate(
        "models", "push", "--team", "Analytics", "--datasource", "shop", str(tmp_path), json=False
    )
    assert result.error() == (
        f"error: nothing pushed, 2 problems: {tmp_path}/A.yml: line 1: views: must be a list; "
        f"{tmp_path}/B.yml: line 2: this cube has no name"
    )


def test_path_errors(sqlgate: Sqlgate, datasource: dict[str, Any], tmp_path: Path, metadata_url: str) -> None:
    def push(*paths: str, datasource: str = "shop") -> str:
        result = sqlgate(
            "models", "push", "--team", "Analytics", "--datasource", datasource, *paths, json=False
        )
        assert result.code == 1
        return result.error()

    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    assert push(str(notes)) == f"error: {notes}: not a model file (expected .yml, .yaml, .js)"
    assert push(str(tmp_path / "missing.yml")) == f"error: {tmp_path}/missing.yml: no such file or folder"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert push(str(empty)) == f"error: {empty}: no model files (.yml, .yaml, .js) in this folder"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "Orders.yml").write_text(ORDERS)
    (tmp_path / "b" / "Orders.yml").write_text(ORDERS)
    assert push(str(tmp_path / "a"), str(tmp_path / "b")) == (
        f"error: two model files are named Orders.yml ({tmp_path}/a/Orders.yml and {tmp_path}/b/Orders.yml); "
        "file names must be unique in a version"
    )
    latin1 = tmp_path / "Latin.yml"
    latin1.write_bytes("cubes: [] # caf\xe9".encode("latin-1"))
    assert push(str(latin1)).startswith(f"error: {latin1}: not UTF-8 text")
    assert push(str(tmp_path / "a"), datasource="nope") == (
        "error: team 'Analytics' has no datasource named 'nope' (its datasources: shop)"
    )
    assert _versions(metadata_url) == 0
    no_paths = sqlgate("models", "push", "--team", "Analytics", "--datasource", "shop")
    assert no_paths.code == 2 and "PATH" in no_paths.err
