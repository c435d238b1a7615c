"""models push checks files with the semantic compiler: member errors stop the push, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlgate.cli.main import main

GOOD = """
cubes:
  - name: Orders
    sql_table: public.orders
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
"""

BAD_TYPE = GOOD.replace("type: count", "type: summ")
BAD_SQL = GOOD.replace("sql: id", "sql: 'id +* 2'")


def _setup(metadata_url: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    common = ["--metadata-url", metadata_url]
    assert main(["users", "create", "--email", "own@example.com", *common]) == 0
    assert main(["teams", "create", "--name", "T", "--owner", "own@example.com", *common]) == 0
    assert (
        main(
            [
                "datasources",
                "create",
                "--team",
                "T",
                "--name",
                "wh",
                "--type",
                "DUCKDB",
                "--params",
                '{"database": ":memory:"}',
                *common,
            ]
        )
        == 0
    )
    capsys.readouterr()
    return common


def test_semantic_error_names_file_line_and_member(
    metadata_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = _setup(metadata_url, capsys)
    (tmp_path / "Orders.yml").write_text(BAD_TYPE)
    assert main(["models", "push", "--team", "T", "--datasource", "wh", str(tmp_path), *common]) == 1
    err = capsys.readouterr().err
    assert "Orders.yml" in err
    assert "'count'" in err and "summ" in err
    # Nothing was stored: a good push afterwards is the datasource's first version, on a new branch.
    (tmp_path / "Orders.yml").write_text(GOOD)
    assert (
        main(["models", "push", "--team", "T", "--datasource", "wh", str(tmp_path), "--json", *common]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["files"] == ["Orders.yml"]
    assert out["branch_status"] == "active"


def test_sql_is_parsed_in_the_datasource_dialect(
    metadata_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = _setup(metadata_url, capsys)
    (tmp_path / "Orders.yml").write_text(BAD_SQL)
    assert main(["models", "push", "--team", "T", "--datasource", "wh", str(tmp_path), *common]) == 1
    err = capsys.readouterr().err
    assert "Orders.yml" in err and "'id'" in err
