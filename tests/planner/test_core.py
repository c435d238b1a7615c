"""Dispatch: which statements go where, and what happens without a handler."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlglot import exp

from sqlgate.errors import PgError
from sqlgate.pgproto import oids
from sqlgate.planner.api import PreparedStatement, ResultColumn
from sqlgate.planner.core import CorePlanner, references_catalog
from sqlgate.planner.session import Session
from sqlgate.planner.statements import InProcessStatement
from tests.planner.conftest import run


class Recorder:
    """A handler that records its calls and answers one text column."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[exp.Expression | None, str, list[int]]] = []

    async def __call__(
        self, tree: exp.Expression | None, sql: str, session: Session, param_oids: Sequence[int]
    ) -> PreparedStatement:
        self.calls.append((tree, sql, list(param_oids)))

        async def answer(s: Session, params: object) -> tuple[list, str]:
            return [(self.name,)], "SELECT 1"

        return InProcessStatement("semantic", sql, answer, columns=[ResultColumn("who", oids.TEXT)])


@pytest.fixture
def handlers() -> tuple[Recorder, Recorder]:
    return Recorder("semantic"), Recorder("catalog")


async def test_queries_go_to_the_right_handler(handlers: tuple[Recorder, Recorder], session: Session) -> None:
    semantic, catalog = handlers
    planner = CorePlanner(semantic=semantic, catalog=catalog)
    assert (await run(planner, session, "SELECT count FROM orders")).rows == [("semantic",)]
    assert (await run(planner, session, "SELECT * FROM pg_catalog.pg_type")).rows == [("catalog",)]
    assert (await run(planner, session, "SELECT * FROM information_schema.tables;")).rows == [("catalog",)]
    assert (await run(planner, session, "SELECT 'orders'::regclass")).rows == [("catalog",)]
    assert (await run(planner, session, "SELECT t.oid FROM pg_type t WHERE t.oid = any($1::oid[])")).rows == [
        ("catalog",)
    ]
    assert catalog.calls[-1][0] is None  # sqlglot cannot parse ::oid[]; the handler gets the text
    assert isinstance(semantic.calls[0][0], exp.Select) and semantic.calls[0][1] == "SELECT count FROM orders"
    assert (await run(planner, session, "SELECT 1")).kind == "builtin"
    assert len(semantic.calls) == 1


async def test_without_handlers_statements_get_0a000(planner: CorePlanner, session: Session) -> None:
    for sql in ("SELECT * FROM orders", "SELECT * FROM pg_class"):
        with pytest.raises(PgError) as info:
            await planner.prepare(session, sql, ())
        assert info.value.sqlstate == "0A000" and "not supported yet" in info.value.message


@pytest.mark.parametrize(
    ("sql", "sqlstate"),
    [
        ("INSERT INTO t VALUES (1)", "25006"),
        ("DROP TABLE t", "25006"),
        ("SELECT 1; SELECT 2", "42601"),
        ("SELECT 1 FROM", "42601"),
        ("VACUUM", "0A000"),
    ],
)
async def test_refused_statements(planner: CorePlanner, session: Session, sql: str, sqlstate: str) -> None:
    with pytest.raises(PgError) as info:
        await planner.prepare(session, sql, ())
    assert info.value.sqlstate == sqlstate


async def test_empty_statement(planner: CorePlanner, session: Session) -> None:
    stmt = await planner.prepare(session, " -- nothing\n", ())
    assert stmt.kind == "empty" and stmt.columns is None


def test_references_catalog_without_a_tree() -> None:
    assert references_catalog(None, "select typname from pg_type")
    assert not references_catalog(None, "select x from orders")
