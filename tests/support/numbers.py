"""A stand-in for the semantic handler in wire tests: a virtual table of numbers.

``SELECT n FROM numbers LIMIT 5`` gives rows 1..5 (int4, streamed in batches of 100);
``numbers_failing`` raises division by zero after three rows; ``slow_numbers`` waits 0.2 s per
row (for cancel and shutdown tests). ``LIMIT $1`` takes the count from a parameter. Every execution
is recorded, so tests can check it was closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from sqlgate.errors import DIVISION_BY_ZERO, PgError
from sqlgate.pgproto import oids
from sqlgate.planner.api import BoundParams, Execution, PreparedStatement, ResultColumn, RowBatch
from sqlgate.planner.session import Session


class NumbersExecution(Execution):
    def __init__(self, table: str, count: int) -> None:
        self.columns = [ResultColumn("n", oids.INT4)]
        self.table = table
        self.count = count
        self.next = 1
        self.closed = 0

    async def fetch(self, max_rows: int = 0) -> tuple[RowBatch, bool]:
        want = 100 if max_rows <= 0 else max_rows
        rows: list[tuple[Any, ...]] = []
        while len(rows) < want and self.next <= self.count:
            if self.table == "numbers_failing" and self.next == 4:
                if rows:
                    break  # hand out the rows so far; the next fetch fails
                raise PgError(DIVISION_BY_ZERO, "division by zero")
            if self.table == "slow_numbers":
                await asyncio.sleep(0.2)
            rows.append((self.next,))
            self.next += 1
        return RowBatch(rows=rows, count=len(rows)), self.next > self.count

    def command_tag(self) -> str:
        return f"SELECT {self.count}"

    async def close(self) -> None:
        self.closed += 1


class NumbersStatement(PreparedStatement):
    kind = "semantic"

    def __init__(
        self,
        handler: NumbersHandler,
        sql: str,
        table: str,
        limit: exp.Expression | None,
        declared: Sequence[int],
    ) -> None:
        self.handler = handler
        self.sql = sql
        self.table = table
        self.limit = limit
        self.columns = [ResultColumn("n", oids.INT4)]
        wanted = declared[0] if declared and declared[0] else oids.INT4
        self.param_oids = [wanted] if isinstance(limit, exp.Parameter) else []

    async def execute(
        self, session: Session, params: BoundParams, result_formats: Sequence[int]
    ) -> Execution:
        if isinstance(self.limit, exp.Parameter):
            count = int(params.values[0])
        elif self.limit is not None:
            count = int(self.limit.name)
        else:
            count = 10
        execution = NumbersExecution(self.table, count)
        self.handler.executions.append(execution)
        return execution


class NumbersHandler:
    """The semantic handler signature: ``await handler(tree, sql, session, param_oids)``."""

    def __init__(self) -> None:
        self.executions: list[NumbersExecution] = []

    async def __call__(
        self, tree: exp.Expression, sql: str, session: Session, param_oids: Sequence[int]
    ) -> PreparedStatement:
        table = tree.find(exp.Table)
        if table is None or table.name not in ("numbers", "numbers_failing", "slow_numbers"):
            raise PgError("42P01", f'relation "{table.name if table else "?"}" does not exist')
        limit = tree.args.get("limit")
        return NumbersStatement(
            self, sql, table.name, limit.expression if limit is not None else None, param_oids
        )
