"""The same message sequences sent to sqlgate and to a real PostgreSQL must get the same answers.

Only statements both answer the same way are used (builtins, session commands, syntax errors);
ParameterStatus other than application_name and the backend key are left out of the comparison.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sqlgate.gateway import Gateway
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from tests.support.databases import PgServer
from tests.support.gateways import password_of
from tests.support.rawpg import RawPg


def _describe(messages: Sequence[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for m in messages:
        if isinstance(m, be.ParameterStatus):
            if m.name in ("application_name", "TimeZone", "DateStyle"):
                out.append(("ParameterStatus", m.name, m.value))
        elif isinstance(m, be.ErrorResponse):
            out.append((type(m).__name__, m.code, m.severity))
        elif isinstance(m, be.CommandComplete):
            out.append(("CommandComplete", m.tag))
        elif isinstance(m, be.DataRow):
            out.append(("DataRow", m.values))
        elif isinstance(m, be.RowDescription):
            out.append(("RowDescription", tuple((f.name, f.type_oid, f.format) for f in m.fields)))
        elif isinstance(m, be.ParameterDescription):
            out.append(("ParameterDescription", m.type_oids))
        elif isinstance(m, be.ReadyForQuery):
            out.append(("ReadyForQuery", m.status))
        else:
            out.append((type(m).__name__,))
    return out


SEQUENCES: dict[str, list[list[Any]]] = {
    "multi_statement": [[fe.Query("SELECT 1 AS a; SELECT 'x' AS b")]],
    "empty_query": [[fe.Query("")], [fe.Query(";")]],
    "transaction_block": [
        [fe.Query("BEGIN; SELECT 1; COMMIT")],
        [fe.Query("COMMIT")],
        [fe.Query("ROLLBACK")],
    ],
    "failed_block": [
        [fe.Query("BEGIN")],
        [fe.Query("SELEC 1")],
        [fe.Query("SELECT 1")],
        [fe.Query("COMMIT")],
    ],
    "set_reports_parameter": [
        [fe.Query("SET application_name = 'diff'")],
        [fe.Query("SHOW application_name")],
    ],
    "portal_gone_after_sync": [
        [fe.Parse("", "SELECT 1"), fe.Bind("", ""), fe.Execute(), fe.Sync()],
        [fe.Execute(), fe.Sync()],
    ],
    "closed_portal": [
        [fe.Parse("s", "SELECT 1"), fe.Bind("p", "s"), fe.Close("P", "p"), fe.Execute("p"), fe.Sync()]
    ],
    "describe_and_params": [
        [
            fe.Parse("q", "SELECT $1::int AS v"),
            fe.Describe("S", "q"),
            fe.Bind("", "q", (), (b"5",)),
            fe.Describe("P"),
            fe.Execute(),
            fe.Sync(),
        ],
    ],
    "binary_result": [
        [fe.Parse("", "SELECT $1::int8 AS v"), fe.Bind("", "", (0,), (b"7",), (1,)), fe.Execute(), fe.Sync()]
    ],
    "error_skips_to_sync": [
        [fe.Parse("", "SELEC 1"), fe.Bind("", ""), fe.Execute(), fe.Sync(), fe.Query("SELECT 2")],
    ],
    "multiple_commands_in_parse": [[fe.Parse("", "SELECT 1; SELECT 2"), fe.Sync()]],
    "bind_parameter_count": [[fe.Parse("", "SELECT $1::int"), fe.Bind("", "", (), ()), fe.Sync()]],
    "duplicate_statement": [[fe.Parse("d", "SELECT 1"), fe.Parse("d", "SELECT 1"), fe.Sync()]],
    "empty_parse": [[fe.Parse("", ""), fe.Bind("", ""), fe.Describe("P"), fe.Execute(), fe.Sync()]],
    "set_has_no_data": [
        [
            fe.Parse("", "SET application_name = 'e'"),
            fe.Bind("", ""),
            fe.Describe("P"),
            fe.Execute(),
            fe.Sync(),
        ]
    ],
    "row_limit_in_block": [
        [fe.Query("BEGIN")],
        [fe.Parse("", "SELECT 1"), fe.Bind("", ""), fe.Execute("", 1), fe.Sync()],
        [fe.Execute("", 1), fe.Sync()],
        [fe.Query("COMMIT")],
    ],
    "savepoints": [
        [
            fe.Query("BEGIN; SAVEPOINT a; SHOW nope"),
            fe.Query("ROLLBACK TO a"),
            fe.Query("SELECT 3"),
            fe.Query("COMMIT"),
        ]
    ],
    "time_zone": [
        [fe.Query("SET TIME ZONE 'Europe/Berlin'")],
        [fe.Query("SELECT '2024-07-01 12:00:00+00'::timestamptz, '2024-01-01 12:00:00+00'::timestamptz")],
        [fe.Query("SET TIME ZONE -7; SHOW TimeZone")],
        [fe.Query("SET TIME ZONE 'UTC'")],
    ],
    "datestyle": [[fe.Query("SET DateStyle = 'ISO, DMY'"), fe.Query("SHOW DateStyle")]],
    "discard_in_block": [[fe.Query("BEGIN; DISCARD ALL")], [fe.Query("ROLLBACK")]],
    "set_local_outside_block": [[fe.Query("SET LOCAL application_name = 'x'")]],
    "prepare_execute": [
        [fe.Query("PREPARE p (int) AS SELECT $1 + 1 AS n; EXECUTE p(41); DEALLOCATE p")],
        [fe.Query("DEALLOCATE p")],
    ],
    "literals": [
        [
            fe.Query(
                "SELECT 1.5::float8, 0.1::float4, 1e20::float8, '2024-01-01'::date, true, null,"
                " 12.50::numeric, 3000000000, -2147483648, 'a' || 'b'"
            )
        ]
    ],
    "binary_types": [
        [
            fe.Parse(
                "",
                "SELECT 1::int2, 2::int4, 3.5::numeric, 'x'::text, '2024-01-01 10:00'::timestamp,"
                " true, '2024-02-03'::date, 0.25::float8, '1 day 02:00'::interval",
            ),
            fe.Bind("", "", (), (), (1,)),
            fe.Execute(),
            fe.Sync(),
        ]
    ],
    "no_rows": [[fe.Parse("", "SELECT 1 WHERE false"), fe.Bind("", ""), fe.Execute(), fe.Sync()]],
    "close_missing": [[fe.Close("P", "nope"), fe.Close("S", "nope"), fe.Sync()]],
    "declared_param_type": [[fe.Parse("", "SELECT $1", (20,)), fe.Describe("S"), fe.Sync()]],
    "session_describe": [[fe.Parse("", "SHOW TimeZone"), fe.Describe("S"), fe.Sync()]],
    "deallocate_all_parse": [[fe.Parse("", "DEALLOCATE ALL"), fe.Bind("", ""), fe.Execute(), fe.Sync()]],
    "isolation": [
        [
            fe.Query(
                "SHOW TRANSACTION ISOLATION LEVEL; BEGIN ISOLATION LEVEL SERIALIZABLE;"
                " SHOW transaction_isolation; COMMIT; SHOW transaction_isolation"
            )
        ]
    ],
    "current_setting": [
        [
            fe.Query(
                "SELECT current_setting('standard_conforming_strings'),"
                " current_setting('nope', true), set_config('application_name', 'cfg', false)"
            )
        ]
    ],
}


async def _run(conn: RawPg, batches: list[list[Any]]) -> list[list[tuple[Any, ...]]]:
    results = []
    for batch in batches:
        await conn.send(*batch)
        expected = sum(isinstance(m, fe.Sync | fe.Query) for m in batch)
        got: list[Any] = []
        for _ in range(expected):
            got += await conn.recv_until()
        results.append(_describe(got))
    return results


@pytest.fixture
async def postgres(pg_server: PgServer) -> AsyncIterator[RawPg]:
    parts = urlsplit(pg_server.url)
    host = parts.hostname or parse_qs(parts.query).get("host", ["127.0.0.1"])[0]
    conn = await RawPg.connect(parts.port or 5432, host)
    messages = await conn.startup(parts.username or "postgres", parts.password, database="postgres")
    if not isinstance(messages[-1], be.ReadyForQuery):
        pytest.skip(f"cannot log in to the reference PostgreSQL: {messages[-1]!r}")
    yield conn
    await conn.close()


@pytest.mark.parametrize("name", sorted(SEQUENCES))
async def test_same_answers_as_postgresql(name: str, gateway: Gateway, postgres: RawPg) -> None:
    ours = await RawPg.connect(gateway.port)
    await ours.startup("alice", password_of("alice"))
    try:
        assert await _run(ours, SEQUENCES[name]) == await _run(postgres, SEQUENCES[name])
    finally:
        await ours.close()
