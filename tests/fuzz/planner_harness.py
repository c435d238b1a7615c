"""Run one SQL text through the whole planner (CorePlanner → semantic handler → a real source).

The outcome of a statement is either its rows or the :class:`PgError` a client would see; anything
else (another exception) is a bug and propagates to the test. :func:`check_error` holds the rules a
fuzzed statement's error must follow.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlgate.errors import PgError
from sqlgate.pgproto.values import decode_value
from sqlgate.planner.api import BoundParams
from sqlgate.planner.core import CorePlanner
from sqlgate.planner.semantic import PlanCache, prepare_semantic
from sqlgate.planner.session import Session
from tests.support.semantic_harness import StaticModels, StaticSources, fixture_model

SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")
# SQLSTATE classes a statement may fail with (PostgreSQL Appendix A), for fuzzed input.
ALLOWED_CLASSES = {
    "0A",  # feature not supported
    "0B",  # invalid transaction initiation
    "24",  # invalid cursor state
    "3B",  # savepoint exception
    "55",  # object not in prerequisite state (a backward FETCH on a forward-only cursor)
    "22",  # data exception (bad literal, out of range, division by zero on the datasource …)
    "25",  # read-only transaction, transaction state
    "26",  # invalid statement name
    "34",  # invalid cursor name
    "42",  # syntax error or access rule violation
    "53",  # insufficient resources
    "54",  # program limit exceeded
    "57",  # operator intervention (timeouts)
    "F0",  # model errors
    "08",  # only for protocol errors of parameters
}
# Errors the datasource reports about SQL the planner generated: the planner should have refused the
# statement itself with a clear message instead of sending SQL the datasource rejects.
# (A type error such as upper(timestamp) is the client's, and the datasource's 42883 is right for it.)
GENERATED_SQL_REJECTED = {"42601", "42703", "42P01", "42P10", "42803", "58000", "XX000"}


class RecordingSource:
    """A source that remembers the errors it raised, so a test knows which came from the datasource."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.dialect = source.dialect
        self.paramstyle = source.paramstyle
        self.errors: list[BaseException] = []
        self.executed: list[str] = []

    async def open_cursor(self, sql: str, params: Sequence[Any], **kwargs: Any) -> Any:
        self.executed.append(sql)
        try:
            cursor = await self.source.open_cursor(sql, params, **kwargs)
        except BaseException as exc:
            self.errors.append(exc)
            raise
        return _RecordingCursor(cursor, self.errors)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)


class _RecordingCursor:
    def __init__(self, cursor: Any, errors: list[BaseException]) -> None:
        self.cursor = cursor
        self.errors = errors

    async def batches(self, batch_size: int) -> Any:
        try:
            async for batch in self.cursor.batches(batch_size):
                yield batch
        except BaseException as exc:
            self.errors.append(exc)
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


def make_planner(source: Any, cache: PlanCache | None = None) -> CorePlanner:
    """A planner whose semantic queries run on ``source`` over the fixture models."""
    semantic = functools.partial(
        prepare_semantic,
        models=StaticModels(fixture_model()),
        sources=StaticSources(source),
        plan_cache=cache or PlanCache(),
    )
    return CorePlanner(semantic=semantic)


@dataclass
class Outcome:
    rows: list[tuple[Any, ...]] | None = None
    error: PgError | None = None


async def run_sql(
    planner: CorePlanner, session: Session, sql: str, raw_params: Sequence[bytes | None] = ()
) -> Outcome:
    """Prepare, bind (text parameters), execute and fetch ``sql``; rows or the PgError."""
    try:
        statement = await planner.prepare(session, sql, ())
        oids = list(statement.param_oids)
        raw = list(raw_params[: len(oids)]) + [b"1"] * (len(oids) - len(raw_params))
        values = [None if r is None else decode_value(r, oid, 0) for r, oid in zip(raw, oids, strict=True)]
        params = BoundParams(raw, [0] * len(raw), oids, values=values)
        execution = await statement.execute(session, params, ())
        rows: list[tuple[Any, ...]] = []
        try:
            while True:
                batch, done = await execution.fetch(1000)
                rows.extend(batch.rows or [])
                if done or len(rows) > 100_000:
                    break
        finally:
            await execution.close()
        return Outcome(rows=rows)
    except PgError as exc:
        return Outcome(error=exc)


def check_error(sql: str, error: PgError, source: RecordingSource | None = None) -> None:
    """The rules for the error of a fuzzed statement."""
    assert SQLSTATE.match(error.sqlstate), f"malformed SQLSTATE {error.sqlstate!r} for {sql!r}"
    assert error.sqlstate[:2] != "XX", f"internal error for {sql!r}: {error}"
    assert error.sqlstate[:2] in ALLOWED_CLASSES, f"unexpected SQLSTATE {error} for {sql!r}"
    assert error.message, f"empty error message for {sql!r}"
    if source is not None and any(e is error for e in source.errors):
        assert error.sqlstate not in GENERATED_SQL_REJECTED, (
            f"the datasource rejected generated SQL: {error} for {sql!r}"
        )
