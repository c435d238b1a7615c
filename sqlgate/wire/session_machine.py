"""The query phase of a connection: frontend messages in, backend messages out.

Everything after authentication goes through :meth:`SessionMachine.handle`, one message at a time, in
arrival order, so pipelined input is answered in order. Output is buffered and flushed at
ReadyForQuery and Flush (and while streaming large results, with back-pressure).

Rules kept from PostgreSQL:

* Simple Query: statements run in order; an error ends the query string; an empty string answers
  EmptyQueryResponse; the unnamed statement and portal are dropped.
* Extended query: after an error every message up to Sync is discarded; Sync ends the implicit
  transaction (closing its portals) unless a transaction block is open; Execute with a row limit
  answers PortalSuspended and the next Execute resumes.
* In a failed transaction block (status E) only ROLLBACK/COMMIT-like statements run; others get 25P02.
* A statement can be cancelled (CancelRequest, statement_timeout): it fails with 57014 and the session
  stays usable.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlgate.errors import (
    DUPLICATE_CURSOR,
    DUPLICATE_PREPARED_STATEMENT,
    FEATURE_NOT_SUPPORTED,
    IN_FAILED_SQL_TRANSACTION,
    INTERNAL_ERROR,
    INVALID_CURSOR_NAME,
    INVALID_SQL_STATEMENT_NAME,
    PROTOCOL_VIOLATION,
    QUERY_CANCELED,
    UNDEFINED_FUNCTION,
    PgError,
)
from sqlgate.observability.audit import QueryAudit
from sqlgate.observability.logs import log_event, query_log, shorten_sql
from sqlgate.observability.metrics import Metrics
from sqlgate.observability.unsupported import UnsupportedLog, is_unsupported
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto.parser import InvalidMessage
from sqlgate.pgproto.values import RowEncoder, decode_value, expand_formats
from sqlgate.planner.api import BoundParams, Execution, Planner, PreparedStatement, ResultColumn
from sqlgate.planner.limits import result_too_large
from sqlgate.planner.session import Session
from sqlgate.wire.output import ClientGone, Output

if TYPE_CHECKING:
    from sqlgate.auth.context import SecurityContext

log = logging.getLogger("sqlgate.wire")
T = TypeVar("T")

# Messages of the extended protocol: an error while handling one skips input up to Sync.
_EXTENDED = (fe.Parse, fe.Bind, fe.Describe, fe.Execute, fe.Close, fe.Flush)
_EXTENDED_TYPES = frozenset(b"PBDECH")


class Terminate(Exception):
    """The client sent Terminate: close the connection."""


class FatalError(Exception):
    """The connection must end after sending this FATAL error."""

    def __init__(self, error: PgError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass
class Portal:
    """A bound statement (protocol-level portal)."""

    statement: PreparedStatement
    execution: Execution
    columns: list[ResultColumn] | None
    formats: list[int]
    encoder: RowEncoder | None
    done: bool = False
    sent: int = 0  # rows sent so far by this portal's Executes (for max_result_rows)
    exhausted: bool = False  # all rows sent, but the last Execute stopped exactly at its row limit
    closed: bool = False

    async def release(self) -> None:
        """Close the execution once (Execution.close must be called exactly once)."""
        if not self.closed:
            self.closed = True
            await _close_quietly(self.execution)


def row_description(columns: Sequence[ResultColumn], formats: Sequence[int]) -> bytes:
    return be.RowDescription(
        tuple(
            be.FieldDescription(c.name, c.type_oid, c.size, c.type_modifier, f, c.table_oid, c.column_number)
            for c, f in zip(columns, formats, strict=True)
        )
    ).encode()


def _adjust_tag(tag: str, rows: int) -> str:
    """PostgreSQL counts the rows of the last Execute in a resumed portal's tag (``SELECT 0``)."""
    if tag.startswith("SELECT "):
        return f"SELECT {rows}"
    return tag


@dataclass(slots=True)
class _SimpleRun:
    """What a simple-query statement got to before it ended (for metrics and logs)."""

    kind: str = "unknown"
    rows: int = 0
    statement: PreparedStatement | None = None
    planning: float | None = None


class SessionMachine:
    """Handles the messages of one authenticated session."""

    def __init__(
        self,
        planner: Planner,
        session: Session,
        out: Output,
        *,
        metrics: Metrics | None = None,
        log_queries: bool = True,
        audit: QueryAudit | None = None,
        unsupported: UnsupportedLog | None = None,
        refresh_context: Callable[[SecurityContext], Awaitable[SecurityContext]] | None = None,
    ) -> None:
        self.planner = planner
        self.refresh_context = refresh_context
        self.session = session
        self.out = out
        self.metrics = metrics
        self.log_queries = log_queries
        self.audit = audit
        self.unsupported = unsupported
        self.portals: dict[str, Portal] = {}
        self.skip_until_sync = False
        # True between an extended-protocol message and the Sync that ends its batch: a draining
        # server finishes the batch (its client waits for ReadyForQuery) before it ends the session.
        self.in_batch = False
        self.reported: dict[str, str] = {}
        self.queries = 0
        self._running: asyncio.Task[Any] | None = None
        self._cancel_reason: str | None = None
        self._batch_settings: dict[str, str] | None = None

    # ------------------------------------------------------------------ start and end

    def send_initial_status(self) -> None:
        """ParameterStatus for every reported setting (after AuthenticationOk)."""
        for name, value in sorted(self.session.reported_settings().items(), key=lambda kv: kv[0].lower()):
            self.out.write(be.ParameterStatus(name, value).encode())
            self.reported[name] = value

    def ready_for_query(self) -> None:
        """Changed settings, then ReadyForQuery with the transaction status, then flush."""
        for name, value in self.session.reported_settings().items():
            if self.reported.get(name) != value:
                self.out.write(be.ParameterStatus(name, value).encode())
                self.reported[name] = value
        self.out.write(be.ready_for_query(self.session.transaction_status))
        self.out.flush()

    async def close(self) -> None:
        """Release every portal and cursor (connection closing)."""
        await self._close_portals()
        cursors, self.session.cursors = list(self.session.cursors.values()), {}
        for execution in cursors:
            await _close_quietly(execution)

    @property
    def busy(self) -> bool:
        return self._running is not None

    def cancel_running(self, reason: str = "user") -> None:
        """Cancel the running statement (CancelRequest / statement_timeout); no-op when idle."""
        task = self._running
        if task is not None and not task.done():
            self._cancel_reason = reason
            task.cancel()

    async def _cancellable(self, work: Awaitable[T]) -> T:
        """Run ``work`` so that :meth:`cancel_running` and statement_timeout turn into 57014."""
        task = asyncio.ensure_future(work)
        self._running = task
        self._cancel_reason = None
        timeout = self.session.statement_timeout()
        timer = (
            asyncio.get_running_loop().call_later(timeout, self.cancel_running, "timeout")
            if timeout
            else None
        )
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and self._cancel_reason and not (current and current.cancelling()):
                if self._cancel_reason == "timeout":
                    raise PgError(QUERY_CANCELED, "canceling statement due to statement timeout") from None
                raise PgError(QUERY_CANCELED, "canceling statement due to user request") from None
            raise
        finally:
            self._running = None
            if timer is not None:
                timer.cancel()

    # ------------------------------------------------------------------ dispatch

    async def handle(self, msg: Any) -> None:
        """Handle one message. Raises :class:`Terminate` or :class:`FatalError` to end the connection."""
        try:
            await self._handle(msg)
        except (Terminate, FatalError, ClientGone, asyncio.CancelledError):
            raise
        except Exception:
            # A bug: report it as an internal error and keep the session (and the server) alive.
            log.exception("internal error while handling %s", type(msg).__name__)
            extended = isinstance(msg, _EXTENDED)
            self._error(PgError(INTERNAL_ERROR, "internal error"), extended=extended)
            if not extended:
                self.ready_for_query()

    async def _handle(self, msg: Any) -> None:
        if isinstance(msg, fe.Terminate):
            raise Terminate
        if isinstance(msg, fe.Sync):
            self.in_batch = False
            await self._sync()
            return
        if isinstance(msg, _EXTENDED):
            self.in_batch = True
        if self.skip_until_sync:
            return
        if self.refresh_context is not None and isinstance(msg, fe.Query | fe.Parse | fe.Bind):
            await self._refresh_context()
        if isinstance(msg, InvalidMessage):
            self._error(msg.error, extended=msg.type_byte[:1] in (b"P", b"B", b"D", b"E", b"C", b"H"))
            if msg.type_byte not in (b"P", b"B", b"D", b"E", b"C", b"H"):
                self.ready_for_query()
            return
        if isinstance(msg, fe.Query):
            await self._simple_query(msg.sql)
            return
        if isinstance(msg, _EXTENDED):
            if self._batch_settings is None and self.session.transaction_status == "I":
                self._batch_settings = dict(self.session.settings)
            try:
                await self._extended(msg)
            except PgError as exc:
                self._error(exc, extended=True)
            return
        if isinstance(msg, fe.CopyData | fe.CopyDone | fe.CopyFail):
            return  # PostgreSQL ignores these outside COPY
        if isinstance(msg, fe.FunctionCall):
            self._error(PgError(FEATURE_NOT_SUPPORTED, "fast-path function calls are not supported"))
            self.ready_for_query()
            return
        code = msg.type_code if isinstance(msg, fe.UnknownMessage) else getattr(msg, "type_byte", b"?")
        raise FatalError(
            PgError(
                PROTOCOL_VIOLATION,
                f"invalid frontend message type {code[0] if code else 0}",
                severity="FATAL",
            )
        )

    async def _refresh_context(self) -> None:
        """Pick up role/access-list changes before a new statement; a revoked credential ends the
        connection (FATAL 28000). Cheap: the refresher reads the metadata at most every few seconds."""
        assert self.refresh_context is not None
        try:
            self.session.ctx = await self.refresh_context(self.session.ctx)
        except PgError as exc:
            if exc.severity == "FATAL":
                raise FatalError(exc) from None
            raise

    def _error(self, exc: PgError, *, extended: bool = False) -> None:
        if exc.severity == "FATAL":
            raise FatalError(exc)
        self._flush_notices()
        self.out.write(be.error_response(exc))
        self.session.fail_transaction()
        if extended:
            # PostgreSQL sends an error at once: a client that sent Parse/Describe + Flush without a
            # Sync (asyncpg's prepare) waits for it before it sends the Sync that ends the skipping.
            self.out.flush()
            self.skip_until_sync = True
            if self.session.transaction_status == "I" and self._batch_settings is not None:
                self.session.settings = self._batch_settings
                self._batch_settings = None

    def _flush_notices(self) -> None:
        notices = self.session.notices
        if notices:
            for notice in notices:
                self.out.write(be.notice_response(notice))
            notices.clear()

    # ------------------------------------------------------------------ simple query

    async def _simple_query(self, sql: str) -> None:
        await self._drop_unnamed()
        statements = self.planner.split(sql)
        snapshot = dict(self.session.settings) if self.session.transaction_status == "I" else None
        try:
            if not statements:
                self.out.write(be.EMPTY_QUERY_RESPONSE)
            for text in statements:
                await self._run_simple(text)
        except PgError as exc:
            if snapshot is not None and self.session.transaction_status == "I" and len(statements) > 1:
                self.session.settings = snapshot  # the implicit transaction of the query string rolls back
            self._error(exc)
        self.ready_for_query()

    async def _run_simple(self, sql: str) -> None:
        started = time.perf_counter()
        state = _SimpleRun()

        async def plan_and_run() -> None:
            # One cancellable task for both steps (a task per step cost a task creation each).
            statement = await self.planner.prepare(self.session, sql, ())
            state.statement = statement
            state.planning = time.perf_counter() - started
            state.kind = statement.kind
            self._planned(statement.kind, state.planning)
            self._check_transaction(statement)
            if statement.kind == "empty":
                self.out.write(be.EMPTY_QUERY_RESPONSE)
                return
            state.rows = await self._run_statement_simple(statement)

        try:
            await self._cancellable(plan_and_run())
        except BaseException as exc:
            self._observe(
                sql, state.kind, started, state.rows, exc, statement=state.statement, planning=state.planning
            )
            raise
        self._observe(
            sql, state.kind, started, state.rows, None, statement=state.statement, planning=state.planning
        )

    async def _run_statement_simple(self, statement: PreparedStatement) -> int:
        execution = await statement.execute(self.session, BoundParams([], [], []), ())
        try:
            columns = list(execution.columns) if execution.columns is not None else statement.columns
            encoder = None
            if columns:
                formats = [0] * len(columns)
                self.out.write(row_description(columns, formats))
                encoder = RowEncoder([c.type_oid for c in columns], formats, self.session.codec_context())
            rows, _ = await self._stream(execution, encoder, 0)
            self._flush_notices()
            self.out.write(be.command_complete(_adjust_tag(execution.command_tag(), rows)))
            return rows
        finally:
            await _close_quietly(execution)
            await self._after_statement(execution)

    async def _after_statement(self, execution: Execution) -> None:
        """Statements that close every portal (DISCARD ALL, CLOSE ALL) take protocol portals too."""
        tag = execution.command_tag()
        if tag in ("DISCARD ALL", "CLOSE CURSOR ALL"):
            for name in [n for n, p in self.portals.items() if p.execution is not execution]:
                await self.portals.pop(name).release()

    async def _stream(
        self, execution: Execution, encoder: RowEncoder | None, max_rows: int, already: int = 0
    ) -> tuple[int, bool]:
        """Write rows until the execution is done or ``max_rows`` were sent; (rows sent, done).
        ``already``: rows earlier Executes of the same portal sent (they count against the limit)."""
        sent = 0
        out = self.out
        limit = self.session.max_result_rows
        while True:
            batch, done = await execution.fetch(0 if max_rows <= 0 else max_rows - sent)
            if limit and already + sent + batch.count > limit:
                # Never a truncated result: the statement fails instead of completing (the client
                # discards rows of a failed statement); the caller closes the execution, which
                # cancels the datasource query.
                raise result_too_large(limit)
            if batch.encoded is not None:
                out.write(batch.encoded)
            elif batch.rows:
                if encoder is None:
                    raise PgError(INTERNAL_ERROR, "statement returned rows but has no result columns")
                out.write(encoder.encode_rows(batch.rows))
            sent += batch.count
            if out.pending >= out.limit:
                await out.drain()
            if done:
                return sent, True
            if max_rows > 0 and sent >= max_rows:
                return sent, False

    def _check_transaction(self, statement: PreparedStatement) -> None:
        if self.session.transaction_status == "E" and not statement.allowed_in_failed_transaction:
            raise PgError(
                IN_FAILED_SQL_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            )

    def _planned(self, kind: str, seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.planning_done(kind, seconds)

    def _observe(
        self,
        sql: str,
        kind: str,
        started: float,
        rows: int,
        exc: BaseException | None,
        *,
        statement: PreparedStatement | None = None,
        planning: float | None = None,
    ) -> None:
        """Account for a finished (or refused) statement: metrics, the query log line, the audit log.
        ``planning`` is the time spent in the planner when it is part of this measurement."""
        self.queries += 1
        seconds = time.perf_counter() - started
        if exc is None:
            outcome, sqlstate = "ok", ""
        elif isinstance(exc, PgError):
            outcome = "cancelled" if exc.sqlstate == QUERY_CANCELED else "error"
            sqlstate = exc.sqlstate
            if kind == "unknown" and exc.statement_kind:
                kind = exc.statement_kind
            if self.unsupported is not None and is_unsupported(exc, kind):
                self.unsupported.record(
                    user=self.session.ctx.username,
                    application_name=self.session.settings.get("application_name", ""),
                    error=exc,
                    sql=sql,
                )
        else:
            outcome, sqlstate = "aborted", ""
        if self.metrics is not None:
            self.metrics.query_done(kind, outcome, seconds)
            if statement is not None:
                self.metrics.execution_done(kind, seconds - (planning or 0.0))
        if self.audit is not None:
            self.audit.statement_done(
                self.session.ctx,
                sql=sql,
                kind=kind,
                audit=statement.audit() if statement is not None else getattr(exc, "audit", None),
                started=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds),
                seconds=seconds,
                planning_seconds=planning,
                error=exc if isinstance(exc, PgError) else None,
            )
        if self.log_queries:
            log_event(
                query_log,
                "query",
                pid=self.session.process_id,
                user=self.session.ctx.username,
                kind=kind,
                outcome=outcome,
                sqlstate=sqlstate,
                rows=rows,
                duration_ms=seconds * 1000,
                sql=shorten_sql(sql),
            )

    # ------------------------------------------------------------------ extended query

    async def _extended(self, msg: Any) -> None:
        if isinstance(msg, fe.Parse):
            await self._parse(msg)
        elif isinstance(msg, fe.Bind):
            await self._bind(msg)
        elif isinstance(msg, fe.Describe):
            self._describe(msg)
        elif isinstance(msg, fe.Execute):
            await self._execute(msg)
        elif isinstance(msg, fe.Close):
            await self._close(msg)
        elif isinstance(msg, fe.Flush):
            self.out.flush()

    async def _parse(self, msg: fe.Parse) -> None:
        if msg.name and msg.name in self.session.prepared:
            raise PgError(DUPLICATE_PREPARED_STATEMENT, f'prepared statement "{msg.name}" already exists')
        started = time.perf_counter()
        try:
            statement = await self._cancellable(self.planner.prepare(self.session, msg.sql, msg.param_oids))
            self._planned(statement.kind, time.perf_counter() - started)
            self._check_transaction(statement)
        except PgError as exc:
            self._observe(msg.sql, "unknown", started, 0, exc)
            raise
        self.session.prepared[msg.name] = _with_declared_types(statement, msg.param_oids)
        self.out.write(be.PARSE_COMPLETE)

    def _statement(self, name: str) -> PreparedStatement:
        statement = self.session.prepared.get(name)
        if statement is None:
            if name:
                raise PgError(INVALID_SQL_STATEMENT_NAME, f'prepared statement "{name}" does not exist')
            raise PgError(INVALID_SQL_STATEMENT_NAME, "unnamed prepared statement does not exist")
        return statement

    def _portal(self, name: str) -> Portal:
        portal = self.portals.get(name)
        if portal is None:
            raise PgError(INVALID_CURSOR_NAME, f'portal "{name}" does not exist')
        return portal

    async def _bind(self, msg: fe.Bind) -> None:
        statement = self._statement(msg.statement)
        if msg.portal and msg.portal in self.portals:
            raise PgError(DUPLICATE_CURSOR, f'portal "{msg.portal}" already exists')
        count = len(msg.params)
        if count != len(statement.param_oids):
            raise PgError(
                PROTOCOL_VIOLATION,
                f"bind message supplies {count} parameters, but prepared statement "
                f'"{msg.statement}" requires {len(statement.param_oids)}',
            )
        if len(msg.param_formats) not in (0, 1, count):
            raise PgError(
                PROTOCOL_VIOLATION,
                f"bind message has {len(msg.param_formats)} parameter formats but {count} parameters",
            )
        self._check_transaction(statement)
        columns = statement.columns
        formats = expand_formats(msg.result_formats, len(columns or []))
        encoder = None
        if columns and not statement.encodes_rows:
            encoder = RowEncoder([c.type_oid for c in columns], formats, self.session.codec_context())
        params = self._decode_params(msg, statement)
        if msg.portal == "" and "" in self.portals:
            await self.portals.pop("").release()
        execution = await self._cancellable(statement.execute(self.session, params, msg.result_formats))
        if execution.columns is not None and columns is not None and list(execution.columns) != list(columns):
            columns = list(execution.columns)
            formats = expand_formats(msg.result_formats, len(columns))
            if not statement.encodes_rows:
                encoder = RowEncoder([c.type_oid for c in columns], formats, self.session.codec_context())
        self.portals[msg.portal] = Portal(statement, execution, columns, formats, encoder)
        self.out.write(be.BIND_COMPLETE)

    def _decode_params(self, msg: fe.Bind, statement: PreparedStatement) -> BoundParams:
        """Decode parameters now, so that bad input fails at Bind as in PostgreSQL. A binary value of a
        type without a binary codec stays raw (a statement may forward it as it is)."""
        formats = expand_formats(msg.param_formats, len(msg.params)) if msg.params else []
        ctx = self.session.codec_context()
        values: list[Any] = []
        for index, (raw, oid, fmt) in enumerate(
            zip(msg.params, statement.param_oids, formats, strict=True), 1
        ):
            if raw is None:
                values.append(None)
                continue
            try:
                values.append(decode_value(raw, oid, fmt, ctx))
            except PgError as exc:
                if exc.sqlstate == UNDEFINED_FUNCTION:
                    return BoundParams(
                        msg.params, msg.param_formats, statement.param_oids, decoder=_lazy_decoder(ctx)
                    )
                if fmt == 1:
                    raise PgError(
                        exc.sqlstate, f"incorrect binary data format in bind parameter {index}"
                    ) from None
                raise
        return BoundParams(msg.params, msg.param_formats, statement.param_oids, values=values)

    def _describe(self, msg: fe.Describe) -> None:
        if msg.kind == "S":
            statement = self._statement(msg.name)
            self.out.write(be.ParameterDescription(tuple(statement.param_oids)).encode())
            if statement.columns:
                self.out.write(row_description(statement.columns, [0] * len(statement.columns)))
            else:
                self.out.write(be.NO_DATA)
        elif msg.kind == "P":
            cursor = self.session.cursors.get(msg.name) if msg.name not in self.portals else None
            if cursor is not None:
                # A DECLAREd cursor is a portal too (psycopg describes its server-side cursors).
                columns = list(cursor.columns or [])
                self.out.write(row_description(columns, [0] * len(columns)) if columns else be.NO_DATA)
                return
            portal = self._portal(msg.name)
            if portal.columns:
                self.out.write(row_description(portal.columns, portal.formats))
            else:
                self.out.write(be.NO_DATA)
        else:
            raise PgError(PROTOCOL_VIOLATION, f"invalid DESCRIBE message subtype {ord(msg.kind[:1] or ' ')}")

    async def _execute(self, msg: fe.Execute) -> None:
        portal = self._portal(msg.portal)
        statement = portal.statement
        self._check_transaction(statement)
        if statement.kind == "empty":
            self.out.write(be.EMPTY_QUERY_RESPONSE)
            return
        if portal.done:
            self.out.write(be.command_complete(_adjust_tag(portal.execution.command_tag(), 0)))
            return
        started = time.perf_counter()
        rows = 0
        try:
            if portal.exhausted:
                done = True
            else:
                rows, done = await self._cancellable(
                    self._stream(portal.execution, portal.encoder, msg.max_rows, portal.sent)
                )
                portal.sent += rows
                if done and 0 < msg.max_rows == rows:
                    # PostgreSQL does not look ahead: a portal stopped exactly at the limit is suspended,
                    # and the next Execute completes it with "SELECT 0".
                    portal.exhausted = True
                    done = False
        except BaseException as exc:
            self._observe(statement.sql, statement.kind, started, rows, exc, statement=statement)
            self.portals.pop(msg.portal, None)
            await portal.release()
            raise
        if done:
            portal.done = True
            self._flush_notices()
            self.out.write(be.command_complete(_adjust_tag(portal.execution.command_tag(), rows)))
            await portal.release()
            await self._after_statement(portal.execution)
            self._observe(statement.sql, statement.kind, started, rows, None, statement=statement)
        else:
            self.out.write(be.PORTAL_SUSPENDED)

    async def _close(self, msg: fe.Close) -> None:
        if msg.kind == "S":
            self.session.prepared.pop(msg.name, None)
        elif msg.kind == "P":
            portal = self.portals.pop(msg.name, None)
            if portal is not None:
                await portal.release()
        else:
            raise PgError(PROTOCOL_VIOLATION, f"invalid CLOSE message subtype {ord(msg.kind[:1] or ' ')}")
        self.out.write(be.CLOSE_COMPLETE)

    async def _sync(self) -> None:
        self.skip_until_sync = False
        self._batch_settings = None
        if self.session.transaction_status == "I":
            await self._close_portals()
        self._flush_notices()
        self.ready_for_query()

    async def _close_portals(self) -> None:
        portals, self.portals = list(self.portals.values()), {}
        for portal in portals:
            await portal.release()

    async def _drop_unnamed(self) -> None:
        self.session.prepared.pop("", None)
        portal = self.portals.pop("", None)
        if portal is not None:
            await portal.release()


class _DeclaredTypes(PreparedStatement):
    """A statement whose parameter types the client fixed in Parse: those types are the ones the
    values arrive in (and what Describe reports), whatever the planner inferred."""

    def __init__(self, inner: PreparedStatement, param_oids: list[int]) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.sql = inner.sql
        self.columns = inner.columns
        self.param_oids = param_oids
        self.allowed_in_failed_transaction = inner.allowed_in_failed_transaction
        self.encodes_rows = inner.encodes_rows

    async def execute(
        self, session: Session, params: BoundParams, result_formats: Sequence[int]
    ) -> Execution:
        return await self.inner.execute(session, params, result_formats)


def _with_declared_types(statement: PreparedStatement, declared: Sequence[int]) -> PreparedStatement:
    if not any(declared):
        return statement
    inferred = list(statement.param_oids)
    merged = [
        (declared[i] if i < len(declared) and declared[i] else (inferred[i] if i < len(inferred) else 0))
        for i in range(max(len(declared), len(inferred)))
    ]
    if merged == inferred:
        return statement
    return _DeclaredTypes(statement, merged)


def _lazy_decoder(ctx: Any) -> Any:
    def decode(raw: bytes, oid: int, fmt: int) -> Any:
        return decode_value(raw, oid, fmt, ctx)

    return decode


async def _close_quietly(execution: Execution) -> None:
    try:
        await execution.close()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("closing an execution failed", exc_info=True)
