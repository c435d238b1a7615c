"""MySQL / MariaDB datasources through an asyncmy pool.

Rows stream through an unbuffered cursor (``SSCursor``: rows are read from the socket as they are
fetched). Sessions are READ ONLY and in UTC (``time_zone = '+00:00'``, as Cube's MySQL driver does).

Parameters: paramstyle "format" — generated SQL marks parameters with ``%s`` and writes every literal
``%`` as ``%%`` (always, also without parameters). MySQL's text protocol has no bound parameters, and
asyncmy's server-side prepared statements return buffered results only, so values are escaped by
asyncmy (charset- and NO_BACKSLASH_ESCAPES-aware) and substituted here for the ``%s`` markers.

Cancellation: MySQL has no cancel message; an unfinished query is stopped with ``KILL QUERY`` sent
on a separate control connection, and its connection is closed rather than reused (an interrupted
read leaves it out of step).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import asyncmy
import asyncmy.errors
from asyncmy.cursors import SSCursor

from sqlgate.errors import (
    DIVISION_BY_ZERO,
    INSUFFICIENT_PRIVILEGE,
    INTERNAL_ERROR,
    INVALID_DATETIME_FORMAT,
    INVALID_TEXT_REPRESENTATION,
    NUMERIC_VALUE_OUT_OF_RANGE,
    QUERY_CANCELED,
    READ_ONLY_SQL_TRANSACTION,
    SYNTAX_ERROR,
    UNDEFINED_COLUMN,
    UNDEFINED_FUNCTION,
    UNDEFINED_TABLE,
    PgError,
)
from sqlgate.pgproto import oids
from sqlgate.sources.base import SourceColumn
from sqlgate.sources.cursor import Converters, GatedCursor, apply_converters
from sqlgate.sources.driver import DriverSource
from sqlgate.sources.failures import cannot_connect, connection_lost, connection_reason, datasource_error
from sqlgate.sources.limits import Deadline, within
from sqlgate.sources.options import SourceOptions
from sqlgate.sources.params import ConnectionSettings

# Client/connection errors: the server is unreachable or the connection broke.
_CONNECT_ERRNOS = {
    1040: "too many connections on the datasource",
    1044: "access denied",
    1045: "authentication failed",
    1049: "the database does not exist",
    1129: "host is blocked by the datasource",
    1130: "host is not allowed to connect",
    2002: "connection refused",
    2003: "connection refused",
    2005: "host name could not be resolved",
    2026: "TLS negotiation failed",
}
_LOST_ERRNOS = frozenset({2006, 2013, 2014, 2055, 1053, 1927})
# MySQL error numbers with a PostgreSQL counterpart.
_SQLSTATES = {
    1054: UNDEFINED_COLUMN,
    1064: SYNTAX_ERROR,
    1142: INSUFFICIENT_PRIVILEGE,
    1146: UNDEFINED_TABLE,
    1264: NUMERIC_VALUE_OUT_OF_RANGE,
    1292: INVALID_DATETIME_FORMAT,
    1305: UNDEFINED_FUNCTION,
    1317: QUERY_CANCELED,
    1365: DIVISION_BY_ZERO,
    1366: INVALID_TEXT_REPRESENTATION,
    1690: NUMERIC_VALUE_OUT_OF_RANGE,
    1792: READ_ONLY_SQL_TRANSACTION,
    1969: QUERY_CANCELED,  # MariaDB max_statement_time
    3024: QUERY_CANCELED,  # MySQL max_execution_time
}

_SESSION_SETUP = "SET SESSION TRANSACTION READ ONLY; SET time_zone = '+00:00'"


class MySQLSource(DriverSource):
    """A MySQL or MariaDB datasource: one asyncmy pool, created on first use."""

    dialect = "mysql"
    PARAMSTYLE = "format"

    def __init__(self, settings: ConnectionSettings, options: SourceOptions) -> None:
        super().__init__(settings, options)
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()
        self._control: Any = None  # the connection KILL QUERY is sent on
        self._control_lock = asyncio.Lock()
        self._closed = False

    def _connect_kwargs(self) -> dict[str, Any]:
        s = self._settings
        kwargs: dict[str, Any] = {
            "host": s.host or "localhost",
            "port": s.port or 3306,
            "user": s.user or "root",
            "password": s.password or "",
            "charset": "utf8mb4",
            "autocommit": True,
            "connect_timeout": self._options.connect_timeout or 31536000,
            "init_command": _SESSION_SETUP,
        }
        if s.database:
            kwargs["db"] = s.database
        if s.tls:
            kwargs["ssl"] = s.tls.context()
        return kwargs

    async def _get_pool(self) -> Any:
        if self._closed:
            raise connection_lost(self._name, "the datasource was closed")
        if self._pool is not None:
            return self._pool
        async with self._pool_lock:
            if self._closed:
                raise connection_lost(self._name, "the datasource was closed")
            if self._pool is None:
                self._pool = await asyncmy.create_pool(
                    minsize=self._options.pool_min_size,
                    maxsize=self._options.pool_max_size,
                    pool_recycle=int(self._options.idle_timeout) if self._options.idle_timeout else -1,
                    **self._connect_kwargs(),
                )
            return self._pool

    async def _acquire(self) -> Any:
        try:
            pool = await self._get_pool()
            return await pool.acquire()
        except (OSError, asyncmy.errors.MySQLError) as exc:
            raise cannot_connect(self._name, _connect_reason(exc)) from None

    async def open_cursor(
        self, sql: str, params: Sequence[Any], *, timeout: float | None = None
    ) -> MySQLCursor:
        """Start ``sql`` (``%s`` placeholders, ``%%`` for %) with ``params`` (see ``base.Source``)."""
        deadline = Deadline(timeout)
        await self._gate.acquire()
        try:
            conn = await within(deadline, self._acquire())
        except BaseException:
            self._gate.release()
            raise
        cursor = MySQLCursor(self, conn, deadline)
        try:
            await cursor.start(sql, params)
        except BaseException:
            await cursor.close()
            raise
        return cursor

    async def kill_query(self, thread_id: int) -> None:
        """Stop the query running on connection ``thread_id`` (best effort, never raises)."""
        async with self._control_lock:
            for _ in (1, 2):
                try:
                    if self._control is None or not self._control.connected:
                        kwargs = self._connect_kwargs() | {"init_command": None}
                        self._control = await asyncmy.connect(**kwargs)
                    async with self._control.cursor() as cur:
                        await cur.execute(f"KILL QUERY {int(thread_id)}")
                    return
                except asyncmy.errors.MySQLError as exc:
                    if exc.args and exc.args[0] == 1094:  # unknown thread: the query already ended
                        return
                    self._drop_control()
                except Exception:
                    self._drop_control()

    def _drop_control(self) -> None:
        if self._control is not None:
            with contextlib.suppress(Exception):
                self._control.close()
        self._control = None

    def release(self, conn: Any, *, reusable: bool) -> None:
        """Return a connection to the pool; one that may be out of step is closed first."""
        if not reusable:
            with contextlib.suppress(Exception):
                conn.close()
        if self._pool is not None:
            with contextlib.suppress(Exception):
                self._pool.release(conn)

    def error(self, exc: BaseException) -> BaseException:
        """The PgError for a driver failure (CancelledError and PgErrors pass unchanged)."""
        if not isinstance(exc, asyncmy.errors.MySQLError | OSError):
            return exc
        errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        if isinstance(exc, OSError) or errno in _LOST_ERRNOS or errno in _CONNECT_ERRNOS:
            reason = _CONNECT_ERRNOS.get(errno, "the connection was closed during the query")
            return connection_lost(self._name, reason)
        state = _SQLSTATES.get(errno)
        if state is not None:
            return PgError(state, message)
        return datasource_error(self._name, message)

    async def server_version(self) -> str:
        """``VERSION()`` of the server (also a connectivity check: 08006 when down)."""
        conn = await self._acquire()
        reusable = False
        try:
            async with conn.cursor() as cur:
                await cur.execute("SELECT VERSION()")
                row = await cur.fetchone()
            reusable = True
            return str(row[0])
        except BaseException as exc:
            raise self.error(exc) from None
        finally:
            self.release(conn, reusable=reusable)

    async def close(self) -> None:
        """Close the pool, waiting up to ``close_timeout`` for running queries."""
        async with self._pool_lock:
            self._closed = True  # no new queries; running ones still release into self._pool
            pool = self._pool
        async with self._control_lock:
            self._drop_control()
        if pool is None:
            return
        pool.close()
        try:
            async with asyncio.timeout(self._options.close_timeout or None):
                await pool.wait_closed()
        except TimeoutError:
            pool.terminate()
            with contextlib.suppress(Exception):
                await pool.wait_closed()


class MySQLCursor(GatedCursor):
    """An unbuffered result on one pooled connection."""

    def __init__(self, source: MySQLSource, conn: Any, deadline: Deadline) -> None:
        super().__init__([], source.gate, deadline)
        self._source = source
        self._conn = conn
        self._thread_id = conn.thread_id()
        self._cursor: Any = None
        self._converters: Converters = []
        self._healthy = True

    async def start(self, sql: str, params: Sequence[Any]) -> None:
        query = format_query(sql, [self._conn.literal(value) for value in params])
        self._cursor = self._conn.cursor(SSCursor)
        try:
            await within(self._deadline, self._cursor.execute(query))
        except BaseException as exc:
            self._healthy = False
            raise self._source.error(exc) from None
        self.columns, self._converters = _columns(self._cursor._result.fields if self._cursor._result else [])
        if not self.columns:  # a statement without a result set (never generated, but be exact)
            self._exhausted = True
        else:
            self._pause_reading()

    # asyncmy reads whatever the server sends into an ever-growing buffer (no flow control): a
    # slow client would make the whole result pile up in memory. So the socket is read only while
    # a batch is being fetched; in between, TCP flow control holds the server back.
    def _pause_reading(self) -> None:
        with contextlib.suppress(Exception):
            self._conn._transport.pause_reading()

    def _resume_reading(self) -> None:
        with contextlib.suppress(Exception):
            self._conn._transport.resume_reading()

    async def _fetch(self, n: int) -> list[Any]:
        self._resume_reading()
        try:
            rows = await self._cursor.fetchmany(n)
        except BaseException as exc:
            self._healthy = False
            raise self._source.error(exc) from None
        finally:
            self._pause_reading()
        return apply_converters(rows, self._converters)

    async def _cleanup(self, *, finished: bool) -> None:
        self._resume_reading()
        reusable = finished and self._healthy
        if not reusable:  # also when asyncmy closed the socket: the server query runs on regardless
            await self._source.kill_query(self._thread_id)
        self._source.release(self._conn, reusable=reusable)


def format_query(sql: str, literals: Sequence[str]) -> str:
    """Put escaped literals in place of ``%s``; ``%%`` is a literal ``%`` (PEP 249 "format")."""
    try:
        return sql % tuple(literals)
    except (TypeError, ValueError) as exc:
        raise PgError(
            INTERNAL_ERROR,
            f"generated MySQL statement does not match its {len(literals)} parameter(s): {exc}",
        ) from None


def _connect_reason(exc: BaseException) -> str:
    if isinstance(exc, asyncmy.errors.MySQLError) and exc.args and isinstance(exc.args[0], int):
        reason = _CONNECT_ERRNOS.get(exc.args[0])
        if reason:
            return reason
        return f"the datasource refused the connection (error {exc.args[0]})"
    return connection_reason(exc)


# --- types ----------------------------------------------------------------------------------------

_UNSIGNED = 32
_BINARY_CHARSET = 63
_TINY, _SHORT, _LONG, _FLOAT, _DOUBLE, _NULL, _TIMESTAMP, _LONGLONG, _INT24 = 1, 2, 3, 4, 5, 6, 7, 8, 9
_DATE, _TIME, _DATETIME, _YEAR, _NEWDATE, _VARCHAR, _BIT = 10, 11, 12, 13, 14, 15, 16
_JSON, _NEWDECIMAL, _DECIMAL, _GEOMETRY = 245, 246, 0, 255
_STRINGS = frozenset({_VARCHAR, 247, 248, 249, 250, 251, 252, 253, 254})

_SIMPLE = {
    _DECIMAL: oids.NUMERIC,
    _NEWDECIMAL: oids.NUMERIC,
    _FLOAT: oids.FLOAT4,
    _DOUBLE: oids.FLOAT8,
    _NULL: oids.TEXT,
    _TIMESTAMP: oids.TIMESTAMP,
    _DATETIME: oids.TIMESTAMP,
    _DATE: oids.DATE,
    _NEWDATE: oids.DATE,
    _TIME: oids.INTERVAL,  # MySQL TIME spans -838:59:59..838:59:59 and arrives as a timedelta
    _YEAR: oids.INT2,
    _JSON: oids.JSON,
    _GEOMETRY: oids.BYTEA,
}


def _column_oid(field: Any) -> tuple[int, Callable[[Any], Any] | None]:
    code = field.type_code
    unsigned = bool(field.flags & _UNSIGNED)
    if code == _TINY:
        if field.length == 1:  # TINYINT(1) is MySQL's BOOLEAN
            return oids.BOOL, _to_bool
        return oids.INT2, None
    if code == _SHORT:
        return (oids.INT4 if unsigned else oids.INT2), None
    if code in (_LONG, _INT24):
        return (oids.INT8 if unsigned and code == _LONG else oids.INT4), None
    if code == _LONGLONG:
        return (oids.NUMERIC if unsigned else oids.INT8), None
    if code == _BIT:
        if field.length == 1:
            return oids.BOOL, _bit_to_bool
        return oids.INT8, _bit_to_int
    if code in _STRINGS:
        return (oids.BYTEA if field.charsetnr == _BINARY_CHARSET else oids.TEXT), None
    oid = _SIMPLE.get(code)
    if oid is None:
        return oids.TEXT, _to_text
    return oid, None


def _columns(fields: Sequence[Any]) -> tuple[list[SourceColumn], Converters]:
    columns: list[SourceColumn] = []
    converters: Converters = []
    for index, field in enumerate(fields):
        oid, converter = _column_oid(field)
        columns.append(SourceColumn(field.name, oid))
        if converter is not None:
            converters.append((index, converter))
    return columns, converters


def _to_bool(value: Any) -> Any:
    return None if value is None else bool(value)


def _bit_to_int(value: Any) -> Any:
    return None if value is None else int.from_bytes(value, "big")


def _bit_to_bool(value: Any) -> Any:
    return None if value is None else bool(int.from_bytes(value, "big"))


def _to_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
