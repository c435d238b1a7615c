"""Running a semantic plan on its datasource: bind, stream in batches, coerce to the declared types."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlgate.errors import INTERNAL_ERROR, UNDEFINED_PARAMETER, PgError
from sqlgate.pgproto import oids
from sqlgate.pgproto.binary_codec import has_binary_codec
from sqlgate.pgproto.datarows import decode_rows, split_rows
from sqlgate.pgproto.values import BINARY_FORMAT, TEXT_FORMAT, decoder, expand_formats
from sqlgate.planner.api import AuditInfo, BoundParams, Execution, PreparedStatement, RowBatch
from sqlgate.planner.semantic.access import check_access
from sqlgate.planner.semantic.members import TouchedMembers
from sqlgate.planner.semantic.params import convert
from sqlgate.planner.semantic.plan import SemanticPlan
from sqlgate.planner.semantic.types import Coercer, coercer

if TYPE_CHECKING:
    from sqlgate.pgproto.coerce import CodecContext, Decoder
    from sqlgate.planner.session import Session
    from sqlgate.sources.base import Source, SourceCursor
    from sqlgate.sources.passthrough import PassthroughCursor

BATCH_ROWS = 1000


def audit_query(touched: TouchedMembers) -> dict[str, Any]:
    """The semantic query the query log records: Cube REST keys, tables, cubes, member usages."""
    return {
        **touched.cube_query(),
        "tables": sorted(touched.tables),
        "cubes": sorted(touched.cubes),
        "members": {name: sorted(kinds) for name, kinds in sorted(touched.usages.items())},
    }


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
        # The same for every run of a plan: built once and kept on the (cached) plan.
        info = self.plan.__dict__.get("_audit")
        if info is None:
            info = AuditInfo(audit_query(self.plan.touched), self.plan.sql)
            object.__setattr__(self.plan, "_audit", info)
        return info

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
        # Again at every execution: a prepared statement outlives access-list changes, and the
        # session's context is refreshed (docs/security.md); a set look-up, no I/O.
        check_access(self.plan.touched, session.ctx)
        values = self.bind(params)
        sql = self.plan.sql_for(values)
        return SemanticExecution(
            self.source,
            self.plan,
            values,
            timeout=statement_timeout(session),
            sql=sql,
            result_formats=result_formats,
            codec=session.codec_context() if session is not None else None,
        )


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
        result_formats: Sequence[int] = (),
        codec: CodecContext | None = None,
    ) -> None:
        self.source = source
        self.result_formats = result_formats
        self.codec = codec
        self.plan = plan
        self.sql = sql or plan.sql
        self.values = values
        self.timeout = timeout
        self.columns = plan.columns
        self._cursor: SourceCursor | PassthroughCursor | None = None
        self._chunks: AsyncIterator[tuple[bytes, int]] | None = None
        self._raw: bytes = b""  # DataRow messages read but not handed out yet
        self._raw_count = 0
        self._decoders: list[Decoder] | None = None  # pass-through rows that must be decoded
        self._batches: AsyncIterator[list[tuple[Any, ...]]] | None = None
        self._coercers: list[tuple[int, Coercer]] = []
        self._pending: list[tuple[Any, ...]] = []
        self._done = False
        self._closed = False
        self._count = 0

    async def _open(self, max_rows: int = 0) -> None:
        passthrough = getattr(self.source, "supports_passthrough", False) and self._passthrough_possible()
        if passthrough and await self._open_passthrough(one_shot=max_rows == 0):
            return
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

    def _passthrough_possible(self) -> bool:
        """The datasource's text output (UTC, shortest floats) is what this session would get."""
        codec = self.codec
        if codec is None:
            return True
        oids_ = {c.type_oid for c in self.plan.columns}
        if oids_ & _ZONED and codec.timezone is not datetime.UTC:
            return False
        return not (oids_ & _FLOATS and codec.extra_float_digits < 1)

    async def _open_passthrough(self, *, one_shot: bool) -> bool:
        """Start the query on the DataRow pass-through path; False when its result columns need a
        conversion that only the decoding path can do (binary values of a type we cannot decode).
        ``one_shot`` when the first fetch wants every row (no Execute row limit): the whole result is
        asked for at once and streams under TCP flow control."""
        count = len(self.plan.columns)
        formats = expand_formats(self.result_formats, count)
        cursor = await self.source.open_passthrough(  # type: ignore[attr-defined]
            self.sql,
            self.values,
            result_formats=formats,
            timeout=self.timeout,
            batch_rows=PASSTHROUGH_ROWS,
            one_shot=one_shot,
        )
        if len(cursor.fields) != count:
            await cursor.close()
            raise PgError(
                INTERNAL_ERROR,
                f"the datasource returned {len(cursor.fields)} columns, the plan expects {count}",
            )
        decoders: list[Decoder] = []
        forward = True
        for column, field, fmt in zip(self.plan.columns, cursor.fields, formats, strict=True):
            if not _same_bytes(column.type_oid, field.type_oid, fmt):
                forward = False
            if fmt == BINARY_FORMAT and not has_binary_codec(field.type_oid):
                if not forward:
                    await cursor.close()
                    return False
                decoders.append(_undecodable)
                continue
            decode = decoder(field.type_oid, fmt)
            convert_value = coercer(column.type_oid, field.type_oid)
            decoders.append(decode if convert_value is None else _chain(decode, convert_value))
        self._cursor = cursor
        self._chunks = cursor.chunks()
        if not forward:
            self._decoders = decoders
        return True

    async def _fetch_passthrough(self, max_rows: int) -> tuple[RowBatch, bool]:
        cursor = self._cursor
        assert self._chunks is not None and cursor is not None
        if not self._raw_count:
            try:
                self._raw, self._raw_count = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._raw, self._raw_count = b"", 0
        data, count = self._raw, self._raw_count
        if max_rows and count > max_rows:
            data, self._raw = split_rows(data, max_rows)
            count, self._raw_count = max_rows, count - max_rows
        else:
            self._raw, self._raw_count = b"", 0
        done = not self._raw_count and cursor.exhausted  # type: ignore[union-attr]
        if done:
            self._done = True
            await self.close()
        self._count += count
        if self._decoders is not None:
            rows = decode_rows(data, self._decoders) if count else []
            return RowBatch(rows=rows, count=count), done
        return RowBatch(encoded=data, count=count), done

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
            await self._open(max_rows)
        if self._chunks is not None:
            return await self._fetch_passthrough(max_rows)
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
        chunks, self._chunks = self._chunks, None
        if chunks is not None:
            await chunks.aclose()  # type: ignore[attr-defined]
        if cursor is not None:
            await cursor.close()


# Pass-through rows per Execute round trip: large enough that a long result streams at the framing
# loop's speed, small enough that the datasource stops soon after a client stops reading.
PASSTHROUGH_ROWS = 5000

_ZONED = frozenset({oids.TIMESTAMPTZ, oids.TIMETZ})
_FLOATS = frozenset({oids.FLOAT4, oids.FLOAT8})
# Target type -> datasource types whose text form is already the target's text form.
_TEXT_SAME: dict[int, frozenset[int]] = {
    oids.INT8: frozenset({oids.INT2, oids.INT4, oids.INT8}),
    oids.INT4: frozenset({oids.INT2, oids.INT4}),
    oids.NUMERIC: frozenset({oids.INT2, oids.INT4, oids.INT8, oids.NUMERIC}),
    oids.TEXT: frozenset({oids.TEXT, oids.VARCHAR, oids.BPCHAR, oids.NAME}),
    oids.VARCHAR: frozenset({oids.TEXT, oids.VARCHAR}),
}


def _same_bytes(target: int, source: int, fmt: int) -> bool:
    """Whether the datasource's bytes for a ``source`` value are what the client expects of
    ``target`` in format ``fmt``."""
    if target == source:
        return True
    if fmt != TEXT_FORMAT:
        return False
    if target in (oids.TEXT, oids.VARCHAR) and source not in oids.TYPES_BY_OID:
        return True  # enums and other types of the datasource are reported as text
    return source in _TEXT_SAME.get(target, frozenset())


def _chain(decode: Decoder, convert_value: Coercer) -> Decoder:
    def run(data: bytes) -> Any:
        return convert_value(decode(data))

    return run


def _undecodable(data: bytes) -> Any:  # pragma: no cover - only used when rows are forwarded as bytes
    raise PgError(INTERNAL_ERROR, "a binary value of an unknown type cannot be converted")
