"""Fixtures for planner tests: a planner without handlers and a session for user "alice"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from sqlgate.errors import PgError
from sqlgate.planner.api import BoundParams
from sqlgate.planner.core import CorePlanner
from sqlgate.planner.session import Session
from tests.support.contexts import make_context


@dataclass
class Result:
    columns: list[tuple[str, int]]
    rows: list[tuple[Any, ...]]
    tag: str
    notices: list[PgError]
    kind: str
    param_oids: list[int]


@pytest.fixture
def planner() -> CorePlanner:
    return CorePlanner()


@pytest.fixture
def session() -> Session:
    return Session(make_context(username="alice"), database="db", process_id=4242)


async def run(planner: CorePlanner, session: Session, sql: str, params: Sequence[Any] = ()) -> Result:
    """Prepare, execute and fetch ``sql`` the way the wire does."""
    stmt = await planner.prepare(session, sql, ())
    execution = await stmt.execute(session, BoundParams.from_values(list(params), stmt.param_oids), ())
    rows: list[tuple[Any, ...]] = []
    while True:
        batch, done = await execution.fetch(0)
        rows.extend(batch.rows or [])
        if done:
            break
    notices = list(session.notices)
    session.notices.clear()
    columns = [(c.name, c.type_oid) for c in stmt.columns or []]
    return Result(columns, rows, execution.command_tag(), notices, stmt.kind, stmt.param_oids)
