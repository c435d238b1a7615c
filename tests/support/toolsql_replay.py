"""Replay tool-SQL corpus entries on a server with libpq (psycopg's ``pq`` layer), as the tools send them.

* ``simple`` steps go out as one Query message (multi-statement strings included);
* ``extended`` steps as Parse/Bind/Describe/Execute/Sync of the unnamed statement, with the recorded
  parameter types and text values;
* a ``pipeline`` entry sends every step's Parse/Bind/Describe/Execute back to back with ONE Sync at the
  end (libpq pipeline mode), then reads the results in order — what Npgsql 4/5 does.

Results come back as :class:`~tests.support.toolsql.StepResult` for the shared checker. The functions
block: a test of an in-process gateway runs them in a thread (they wait with ``select``, which
releases the GIL, never inside libpq).
"""

from __future__ import annotations

import datetime
import decimal
import select
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import pq

from tests.support.toolsql import PARAM_TYPE_OIDS, Step, StepResult, ToolStatement, saved_value


def _flush(pgconn: pq.PGconn) -> None:
    while pgconn.flush() == 1:
        select.select([], [pgconn.socket], [], 10)


def _next_result(pgconn: pq.PGconn) -> pq.abc.PGresult | None:
    """The next result, waiting in Python (with the GIL released): libpq's own blocking wait holds
    the GIL, which would freeze a gateway running in this process."""
    _flush(pgconn)
    while True:
        pgconn.consume_input()
        if not pgconn.is_busy():
            return pgconn.get_result()
        select.select([pgconn.socket], [], [], 10)


def _results(pgconn: pq.PGconn) -> Iterator[pq.abc.PGresult]:
    while (res := _next_result(pgconn)) is not None:
        yield res


def as_step_result(results: list[pq.abc.PGresult]) -> StepResult:
    """Fold libpq results into one StepResult: the first error, else the last result set."""
    outcome = StepResult()
    for res in results:
        if res.status in (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_ABORTED):
            state = res.error_field(pq.DiagnosticField.SQLSTATE)
            message = res.error_field(pq.DiagnosticField.MESSAGE_PRIMARY)
            return StepResult(
                sqlstate=state.decode() if state else "?????",
                message=message.decode() if message else "aborted pipeline",
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


def _send(pgconn: pq.PGconn, step: Step, variables: dict[str, str]) -> None:
    sql, params = step.render(variables)
    if step.protocol == "simple":
        pgconn.send_query(sql.encode())
    else:
        types = [PARAM_TYPE_OIDS[t] for t in step.param_types] or None
        values = [None if p is None else p.encode() for p in params]
        pgconn.send_query_params(sql.encode(), values, param_types=types)


def run_step(conn: psycopg.Connection, step: Step, variables: dict[str, str]) -> StepResult:
    """Send one step the way the tool does and collect the answer in text form."""
    _send(conn.pgconn, step, variables)
    return as_step_result(list(_results(conn.pgconn)))


def _run_pipeline(
    conn: psycopg.Connection, statement: ToolStatement, variables: dict[str, str]
) -> list[StepResult]:
    pgconn = conn.pgconn
    pgconn.enter_pipeline_mode()
    try:
        for step in statement.steps:
            _send(pgconn, step, variables)
        pgconn.pipeline_sync()
        outcomes = []
        for _ in statement.steps:
            outcomes.append(as_step_result(list(_results(pgconn))))
        sync = _next_result(pgconn)
        assert sync is not None and sync.status == pq.ExecStatus.PIPELINE_SYNC
    finally:
        pgconn.exit_pipeline_mode()
    return outcomes


def run_statement(
    conninfo: str, statement: ToolStatement, *, gateway: bool = False
) -> list[tuple[Step, StepResult]]:
    """Run an entry on a fresh connection; stops at the first step that fails unexpectedly (judged by
    the gateway's expectations with ``gateway``)."""
    outcomes: list[tuple[Step, StepResult]] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        variables = {"database": conn.info.dbname, "user": conn.info.user}
        if statement.pipeline:
            return list(zip(statement.steps, _run_pipeline(conn, statement, variables), strict=True))
        for step in statement.steps:
            result = run_step(conn, step, variables)
            outcomes.append((step, result))
            expect = step.expect_from_gateway if gateway else step.expect
            if result.sqlstate is not None and expect.error is None:
                break
            for name in step.save:
                variables[name] = saved_value(step, name, result)
    return outcomes


# --- the same entries through asyncpg (binary parameters and results, Parse/Describe/Flush) --------------


def _from_text(text: str | None, type_name: str) -> Any:
    """A corpus parameter (text form) as the Python value asyncpg encodes for ``type_name``."""
    if text is None:
        return None
    if type_name in ("int2", "int4", "int8", "oid"):
        return int(text)
    if type_name in ("_int2", "_int4", "_int8", "_oid", "int2[]", "int4[]", "int8[]", "oid[]"):
        return [int(v) for v in text.strip("{}").split(",") if v]
    if type_name in ("_text", "_varchar", "_name", "text[]", "varchar[]", "name[]"):
        return [v for v in text.strip("{}").split(",") if v]
    if type_name == "bool":
        return text.lower() in ("t", "true", "on", "1")
    if type_name in ("timestamp", "timestamptz", "date"):
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if type_name == "timestamptz" and value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        if type_name == "timestamp":
            value = value.replace(tzinfo=None)
        return value.date() if type_name == "date" else value
    if type_name == "numeric":
        return decimal.Decimal(text)
    return text


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes):
        return value.decode("latin-1")  # "char"
    if isinstance(value, list):
        return "{" + ",".join("NULL" if v is None else str(v) for v in value) + "}"
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    return str(value)


async def run_statement_asyncpg(conn: Any, statement: ToolStatement) -> list[tuple[Step, StepResult]]:
    """Run an all-extended entry with asyncpg on ``conn``: each step prepared (Parse + Describe +
    Flush), its parameters converted to the types the server described, rows read back in binary."""
    import asyncpg

    outcomes: list[tuple[Step, StepResult]] = []
    variables = {"database": "db", "user": conn.get_settings().session_authorization}
    for step in statement.steps:
        sql, params = step.render(variables)
        try:
            prepared = await conn.prepare(sql)
            types = [t.name for t in prepared.get_parameters()]
            records = await prepared.fetch(*(_from_text(p, t) for p, t in zip(params, types, strict=True)))
            columns = [a.name for a in prepared.get_attributes()]
            result = StepResult(
                columns=columns if prepared.get_attributes() else None,
                rows=[[_as_text(v) for v in record.values()] for record in records],
                command_tag=prepared.get_statusmsg(),
            )
        except asyncpg.PostgresError as exc:
            result = StepResult(sqlstate=exc.sqlstate, message=str(exc))
        outcomes.append((step, result))
        if result.sqlstate is not None and step.expect_from_gateway.error is None:
            break
        for name in step.save:
            variables[name] = saved_value(step, name, result)
    return outcomes
