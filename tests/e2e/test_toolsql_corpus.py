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
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import pq

from tests.support.toolsql import (
    PARAM_TYPE_OIDS,
    PG_FIXTURE_SQL,
    Step,
    StepResult,
    ToolStatement,
    check,
    corpus_files,
    load_corpus,
    load_file,
    saved_value,
)

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


def _results(pgconn: pq.PGconn) -> Iterator[pq.abc.PGresult]:
    while (res := pgconn.get_result()) is not None:
        yield res


def _as_step_result(results: list[pq.abc.PGresult]) -> StepResult:
    """Fold libpq results into one StepResult: the first error, else the last result set."""
    outcome = StepResult()
    for res in results:
        if res.status == pq.ExecStatus.FATAL_ERROR:
            state = res.error_field(pq.DiagnosticField.SQLSTATE)
            message = res.error_field(pq.DiagnosticField.MESSAGE_PRIMARY)
            return StepResult(
                sqlstate=state.decode() if state else "?????",
                message=message.decode() if message else "",
            )
        if res.status == pq.ExecStatus.EMPTY_QUERY:
            outcome = StepResult(empty_query=True)
            continue
        tag = (res.command_status or b"").decode()
        if res.status == pq.ExecStatus.TUPLES_OK:
            columns = [(res.fname(i) or b"").decode() for i in range(res.nfields)]
            rows = [
                [
                    None if (v := res.get_value(r, c)) is None else bytes(v).decode()
                    for c in range(res.nfields)
                ]
                for r in range(res.ntuples)
            ]
            outcome = StepResult(columns=columns, rows=rows, command_tag=tag)
        else:
            outcome = StepResult(command_tag=tag)
    return outcome


def run_step(conn: psycopg.Connection, step: Step, variables: dict[str, str]) -> StepResult:
    """Send one step the way the tool does and collect the answer in text form."""
    sql, params = step.render(variables)
    pgconn = conn.pgconn
    if step.protocol == "simple":
        pgconn.send_query(sql.encode())
    else:
        types = [PARAM_TYPE_OIDS[t] for t in step.param_types] or None
        values = [None if p is None else p.encode() for p in params]
        pgconn.send_query_params(sql.encode(), values, param_types=types)
    return _as_step_result(list(_results(pgconn)))


def run_statement(url: str, statement: ToolStatement) -> list[tuple[Step, StepResult]]:
    outcomes: list[tuple[Step, StepResult]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        variables = {"database": conn.info.dbname, "user": conn.info.user}
        for step in statement.steps:
            result = run_step(conn, step, variables)
            outcomes.append((step, result))
            if result.sqlstate is not None and step.expect.error is None:
                break
            for name in step.save:
                variables[name] = saved_value(step, name, result)
    return outcomes


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
