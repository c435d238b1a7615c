"""The corpus loader rejects malformed entries and checks answers the way the README says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.toolsql import (
    CorpusError,
    Expectation,
    StepResult,
    check,
    fill,
    load_file,
    parse_entry,
    saved_value,
)

SOURCE = {"repo": "example/tool", "path": "src/meta.py", "commit": "0" * 40}


def entry(**overrides: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "name": "list_tables",
        "phase": "browse",
        "protocol": "simple",
        "origin": "capture",
        "source": SOURCE,
        "description": "table list",
        "sql": "SELECT relname FROM pg_class",
    }
    raw.update(overrides)
    return raw


def test_a_valid_single_statement_becomes_one_step() -> None:
    statement = parse_entry("tool", entry(expect={"rows": ">=1"}), "here")
    assert statement.id == "tool/list_tables"
    assert len(statement.steps) == 1
    assert statement.steps[0].expect.rows == ">=1"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"phase": "sync"}, "phase"),
        ({"protocol": "binary"}, "protocol"),
        ({"origin": "guess"}, "origin"),
        ({"source": {"repo": "a/b"}}, "source"),
        ({"sql": "SELECT $1", "params": ["1"]}, "extended"),
        (
            {"protocol": "extended", "sql": "SELECT $1", "params": ["1"], "param_types": ["money"]},
            "param_types",
        ),
        ({"expect": {"rows": "many"}}, "rows"),
        ({"expect": {"error": "oops"}}, "SQLSTATE"),
        ({"expect": {"rowz": 1}}, "unknown expect"),
        ({"sql": "SELECT '{{oid}}'"}, "never saved"),
        ({"name": "List Tables"}, "snake_case"),
        ({"pipeline": True}, "pipeline"),
        ({"colour": "red"}, "unknown keys"),
    ],
)
def test_malformed_entries_are_rejected(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(CorpusError, match=message):
        parse_entry("tool", entry(**overrides), "here")


def test_sequence_placeholders_must_be_saved_by_an_earlier_step() -> None:
    raw = entry(
        sql=None,
        sequence=[
            {"sql": "SELECT oid FROM pg_class", "save": {"oid": "oid"}},
            {"sql": "SELECT * FROM pg_attribute WHERE attrelid = '{{oid}}' AND '{{database}}' <> ''"},
        ],
    )
    del raw["sql"]
    statement = parse_entry("tool", raw, "here")
    assert [s.placeholders() for s in statement.steps] == [set(), {"oid", "database"}]
    swapped = dict(raw, sequence=list(reversed(raw["sequence"])))  # type: ignore[arg-type]
    with pytest.raises(CorpusError, match="never saved"):
        parse_entry("tool", swapped, "here")


def test_fill_refuses_unknown_placeholders() -> None:
    assert fill("WHERE datname = '{{database}}'", {"database": "db1"}) == "WHERE datname = 'db1'"
    with pytest.raises(KeyError):
        fill("{{nope}}", {})


def test_check_compares_text_values_and_shapes() -> None:
    result = StepResult(columns=["relname", "relhasindex"], rows=[["orders", "f"], ["users", "t"]])
    assert check(Expectation.parse({"rows": 2, "contains_row": {"relname": "users"}}, "x"), result) == []
    assert (
        check(Expectation.parse({"contains_row": {"relname": "orders", "relhasindex": False}}, "x"), result)
        == []
    )
    assert check(Expectation.parse({"rows": ">=3"}, "x"), result) == ["expected rows >=3, got 2"]
    assert check(Expectation.parse({"columns": ["relname"]}, "x"), result)
    assert check(Expectation.parse({"contains_row": {"relname": "products"}}, "x"), result)


def test_check_handles_errors_and_empty_queries() -> None:
    failed = StepResult(sqlstate="42P10", message="GROUP BY position 2 is not in select list")
    assert check(Expectation.parse({"error": "42P10"}, "x"), failed) == []
    assert check(Expectation.parse({}, "x"), failed) == [
        "failed with 42P10: GROUP BY position 2 is not in select list"
    ]
    assert check(Expectation.parse({"error": "42P10"}, "x"), StepResult(columns=[], rows=[]))
    assert check(Expectation.parse({"empty_query": True}, "x"), StepResult(empty_query=True)) == []
    assert check(Expectation.parse({"command_tag": "SET"}, "x"), StepResult(command_tag="SET")) == []


def test_saved_value_takes_the_first_matching_row() -> None:
    step = parse_entry(
        "tool", entry(save={"nsp": {"column": "oid", "where": {"nspname": "public"}}}), "here"
    ).steps[0]
    result = StepResult(columns=["oid", "nspname"], rows=[["11", "pg_catalog"], ["2200", "public"]])
    assert saved_value(step, "nsp", result) == "2200"
    with pytest.raises(KeyError):
        saved_value(step, "nsp", StepResult(columns=["oid", "nspname"], rows=[["11", "pg_catalog"]]))


def test_a_file_must_be_named_after_its_tool(tmp_path: Path) -> None:
    path = tmp_path / "othertool.yaml"
    path.write_text(
        "tool: sometool\ntitle: t\nnotes: n\nstatements:\n"
        "- {name: a, phase: browse, protocol: simple, origin: capture, description: d, sql: SELECT 1,\n"
        "   source: {url: 'https://example.org'}}\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match="file name"):
        load_file(path)
