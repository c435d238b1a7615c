"""Running a semantic plan on its datasource: bind, stream in batches, coerce to the declared types."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlgate.errors import INTERNAL_ERROR, UNDEFINED_PARAMETER, PgError
from sqlgate.planner.api import AuditInfo, BoundParams, Execution, PreparedStatement, RowBatch
from sqlgate.planner.semantic.members import TouchedMembers
from sqlgate.planner.semantic.params import convert
from sqlgate.planner.semantic.plan import SemanticPlan
from sqlgate.planner.semantic.types import Coercer, coercer

if TYPE_CHECKING:
    from sqlgate.planner.session import Session
    from sqlgate.sources.base import Source, SourceCursor

BATCH_ROWS = 1000


class SemanticStatement(PreparedStatement):
    """A planned semantic query: Describe reads ``param_oids``/``columns``; Bind runs it."""

    kind = "semantic"

    def __init__(self, sql: str, plan: SemanticPlan, source: Source, lifted: dict[int, Any]) -> None:
        self.sql = sql
        self.plan = plan
        self.source = source
        self._lifted = lifted
        self.param_oids = list(plan.param_oids)
        self.columns = list(plan.columns)

    @property
    def members(self) -> TouchedMembers:
        """Every member the statement touches (for access checks and the query log)."""
        return self.plan.touched

    @property
    def generated_sql(self) -> str:
        """The SQL the datasource runs (placeholders, never client values)."""
        return self.plan.sql

    def audit(self) -> AuditInfo:
        touched = self.plan.touched
        query = {
            "tables": sorted(touched.tables),
            "cubes": sorted(touched.cubes),
            "members": {name: sorted(kinds) for name, kinds in sorted(touched.usages.items())},
        }
        return AuditInfo(query, self.plan.sql)

    def bind(self, params: BoundParams | Sequence[Any]) -> list[Any]:
        """The values for the plan's placeholders, converted to their bound types."""
        client = params.values if isinstance(params, BoundParams) and len(params) else list(params or [])
        values: list[Any] = []
        for position, slot in enumerate(self.plan.slots):
            if slot.source.client:
                number = slot.source.index
                if number > len(client):
                    raise PgError(UNDEFINED_PARAMETER, f"there is no parameter ${number}")
                values.append(convert(client[number - 1], slot.oid))
            else:
                values.append(self._lifted[position])
        return values

    async def execute(
        self, session: Session, params: BoundParams, result_formats: Sequence[int]
    ) -> SemanticExecution:
        values = self.bind(params)
        sql = self.plan.sql_for(values)
        return SemanticExecution(self.source, self.plan, values, timeout=statement_timeout(session), sql=sql)


def statement_timeout(session: Session) -> float | None:
    """The session's effective statement timeout in seconds (None when there is none)."""
    return session.statement_timeout() if session is not None else None


class SemanticExecution(Execution):
    """Streams the rows of one run; the datasource cursor is opened on the first fetch."""

    def __init__(
        self,
        source: Source,
        plan: SemanticPlan,
        values: list[Any],
        *,
        timeout: float | None,
        sql: str | None = None,
    ) -> None:
        self.source = source
        self.plan = plan
        self.sql = sql or plan.sql
        self.values = values
        self.timeout = timeout
        self.columns = plan.columns
        self._cursor: SourceCursor | None = None
        self._batches: AsyncIterator[list[tuple[Any, ...]]] | None = None
        self._coercers: list[tuple[int, Coercer]] = []
        self._pending: list[tuple[Any, ...]] = []
        self._done = False
        self._closed = False
        self._count = 0

    async def _open(self) -> None:
        cursor = await self.source.open_cursor(self.sql, self.values, timeout=self.timeout)
        self._cursor = cursor
        if len(cursor.columns) != len(self.plan.columns):
            await self.close()
            raise PgError(
                INTERNAL_ERROR,
                f"the datasource returned {len(cursor.columns)} columns,"
                f" the plan expects {len(self.plan.columns)}",
            )
        for position, (column, source_column) in enumerate(
            zip(self.plan.columns, cursor.columns, strict=True)
        ):
            convert_value = coercer(column.type_oid, source_column.type_oid)
            if convert_value is not None:
                self._coercers.append((position, convert_value))
        self._batches = cursor.batches(BATCH_ROWS)

    def _coerce(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if not self._coercers:
            return rows if all(type(r) is tuple for r in rows[:1]) else [tuple(r) for r in rows]
        result = []
        for row in rows:
            values = list(row)
            for position, convert_value in self._coercers:
                value = values[position]
                if value is not None:
                    values[position] = convert_value(value)
            result.append(tuple(values))
        return result

    async def _next_batch(self) -> list[tuple[Any, ...]] | None:
        assert self._batches is not None
        try:
            return await self._batches.__anext__()
        except StopAsyncIteration:
            return None

    async def fetch(self, max_rows: int = 0) -> tuple[RowBatch, bool]:
        if self._done:
            return RowBatch(rows=[], count=0), True
        if self._cursor is None:
            await self._open()
        rows: list[tuple[Any, ...]] = []
        while True:
            if self._pending:
                if max_rows and len(rows) + len(self._pending) > max_rows:
                    take = max_rows - len(rows)
                    rows.extend(self._pending[:take])
                    self._pending = self._pending[take:]
                    break
                rows.extend(self._pending)
                self._pending = []
                if not max_rows and rows:
                    break
                if max_rows and len(rows) == max_rows:
                    break
            batch = await self._next_batch()
            if batch is None:
                self._done = True
                break
            self._pending = self._coerce(batch)
        if self._done and not self._pending:
            await self.close()
        self._count += len(rows)
        done = self._done and not self._pending
        return RowBatch(rows=rows, count=len(rows)), done

    def command_tag(self) -> str:
        return f"SELECT {self._count}"

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            await cursor.close()
