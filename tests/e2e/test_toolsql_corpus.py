"""Self-test of the tool-generated SQL corpus (tests/e2e/toolsql/).

It proves the corpus is real SQL, not invented: every file parses and follows the format, and every
statement is accepted by a real PostgreSQL 15 holding the fixture model (four cube-shaped tables),
answering the way the entry's ``expect`` says. Entries that need objects or settings plain PostgreSQL
lacks are marked ``pg_only_fails`` and must fail here, so the mark cannot go stale.

Each entry runs on its own fresh connection with psycopg's libpq layer, so the protocol matches the
entry: ``simple`` sends one Query message (multi-statement strings included), ``extended`` sends
Parse/Bind/Describe/Execute/Sync with the recorded parameter types and text-format values.
"""

from __future__ import annotations

import re
from collections import Counter

import psycopg
import pytest

from tests.support.toolsql import (
    PG_FIXTURE_SQL,
    ToolStatement,
    check,
    corpus_files,
    load_corpus,
    load_file,
)
from tests.support.toolsql_replay import run_statement

pytestmark = pytest.mark.e2e

CORPUS = load_corpus()
EXPECTED_TOOLS = {
    "asyncpg",
    "datagrip",
    "dbeaver",
    "excel",
    "grafana",
    "metabase",
    "pgjdbc",
    "powerbi",
    "psql",
    "superset",
    "tableau",
}


def test_every_tool_file_parses_and_has_breadth() -> None:
    per_tool = Counter(s.tool for s in CORPUS)
    assert set(per_tool) == EXPECTED_TOOLS
    for path in corpus_files():
        header, statements = load_file(path)
        assert header["notes"].strip(), f"{path.name}: notes must describe the protocol usage"
        assert len(statements) >= 10, f"{path.name}: only {len(statements)} statements"
        assert {s.phase for s in statements} >= {"browse"}, path.name


def test_corpus_covers_every_phase_and_both_protocols() -> None:
    assert {s.phase for s in CORPUS} == {"connect", "browse", "query"}
    assert {st.protocol for s in CORPUS for st in s.steps} == {"simple", "extended"}
    assert any(s.pipeline for s in CORPUS), "the Npgsql pipelined type loading must stay in the corpus"


def test_every_entry_names_where_it_came_from() -> None:
    for statement in CORPUS:
        source = statement.source
        assert str(source.get("url", "")).startswith("https://") or re.fullmatch(
            r"[\w.-]+/[\w.-]+", str(source.get("repo", ""))
        ), statement.id
        assert statement.description, f"{statement.id}: say which tool action sends it"


@pytest.fixture(scope="module")
async def corpus_db_url(pg_database_factory) -> str:
    """A fresh database holding the fixture model the corpus assumes."""
    url = await pg_database_factory()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(PG_FIXTURE_SQL)
    return url


@pytest.mark.parametrize("statement", CORPUS, ids=[s.id for s in CORPUS])
def test_statement_is_accepted_by_postgresql(corpus_db_url: str, statement: ToolStatement) -> None:
    outcomes = run_statement(corpus_db_url, statement)
    failures = [
        (i, r) for i, (s, r) in enumerate(outcomes) if r.sqlstate is not None and s.expect.error is None
    ]
    if statement.pg_only_fails:
        assert failures, f"marked pg_only_fails ({statement.pg_only_fails}) but PostgreSQL accepted it"
        return
    assert not failures, [f"step {i + 1}: {r.sqlstate} {r.message}" for i, r in failures]
    assert len(outcomes) == len(statement.steps)
    if statement.pg_expect_skip:
        return
    problems = [
        f"step {i + 1}: {p}" for i, (step, result) in enumerate(outcomes) for p in check(step.expect, result)
    ]
    assert not problems, problems
