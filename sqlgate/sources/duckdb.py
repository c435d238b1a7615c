"""DuckDB datasources, embedded in the gateway process.

``db_params.database`` is a file path (opened read-only by default) or ``:memory:``. One database
instance per source; each query gets its own DuckDB connection (``cursor()``), which DuckDB allows
to run concurrently on separate threads. DuckDB calls block, so they run on this source's own
thread pool (``pool_max_size`` threads), never on the event loop. Results stream: DuckDB's
``execute`` returns at once with a streaming result, and ``fetchmany`` pulls one batch at a time.

Cancelling the task that waits for a DuckDB call interrupts the query (``interrupt()``) and waits
for the worker thread to let go of the connection; a passed deadline does the same and reports 57014.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb

from sqlgate.errors import (
    AMBIGUOUS_FUNCTION,
    DATATYPE_MISMATCH,
    GROUPING_ERROR,
    INVALID_TEXT_REPRESENTATION,
    NUMERIC_VALUE_OUT_OF_RANGE,
    QUERY_CANCELED,
    READ_ONLY_SQL_TRANSACTION,
    SYNTAX_ERROR,
    UNDEFINED_COLUMN,
    UNDEFINED_FUNCTION,
    UNDEFINED_TABLE,
    WINDOWING_ERROR,
    PgError,
)
from sqlgate.pgproto import oids
from sqlgate.sources.base import SourceColumn
from sqlgate.sources.cursor import Converters, GatedCursor, apply_converters
from sqlgate.sources.driver import DriverSource
from sqlgate.sources.failures import cannot_connect, datasource_error
from sqlgate.sources.limits import Deadline, within
from sqlgate.sources.options import SourceOptions
from sqlgate.sources.params import ConnectionSettings

log = logging.getLogger("sqlgate.sources")

MEMORY = ":memory:"


class DuckDBSource(DriverSource):
    """A DuckDB database (file or in-memory) with a thread pool for its queries."""

    dialect = "duckdb"
    PARAMSTYLE = "qmark"

    def __init__(self, settings: ConnectionSettings, options: SourceOptions) -> None:
        self._path = settings.database or MEMORY
        super().__init__(settings, options)
        self._executor = ThreadPoolExecutor(
            max_workers=options.concurrency, thread_name_prefix="sqlgate-duckdb"
        )
        self._db: duckdb.DuckDBPyConnection | None = None
        self._db_lock = asyncio.Lock()
        self._cursors: set[DuckDBCursor] = set()
        self._idle = asyncio.Event()  # set while no cursor is open
        self._idle.set()
        self._closed = False
        ignored = sorted(k for k in settings.extra if k.startswith("duckdb"))
        if ignored:  # MotherDuck/S3 keys of the Synmetrix form: names only, the values are secrets
            log.warning(
                "datasource %s: db_params keys not used by sqlgate: %s", self._name, ", ".join(ignored)
            )

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _database(self) -> duckdb.DuckDBPyConnection:
        if self._db is not None:
            return self._db
        async with self._db_lock:
            if self._closed:
                raise cannot_connect(self._name, "the datasource was closed")
            if self._db is None:
                try:
                    self._db = await self._run(self._connect)
                except duckdb.Error as exc:
                    raise cannot_connect(self._name, _open_reason(exc)) from None
            return self._db

    def _connect(self) -> duckdb.DuckDBPyConnection:
        config: dict[str, Any] = {}
        if self._options.duckdb_threads:
            config["threads"] = self._options.duckdb_threads
        if self._options.duckdb_memory_limit:
            config["memory_limit"] = self._options.duckdb_memory_limit
        read_only = self._options.duckdb_read_only and self._path != MEMORY
        db = duckdb.connect(self._path, read_only=read_only, config=config)
        # UTC like the other drivers: timestamptz values do not depend on the host's time zone.
        db.execute("SET GLOBAL TimeZone = 'UTC'")
        return db

    async def open_cursor(
        self, sql: str, params: Sequence[Any], *, timeout: float | None = None
    ) -> DuckDBCursor:
        """Start ``sql`` (``?`` placeholders) with ``params`` bound (see ``sources.base.Source``)."""
        deadline = Deadline(timeout)
        await self._gate.acquire()
        try:
            db = await self._database()
            conn = db.cursor()  # a new connection to the same database instance
        except BaseException:
            self._gate.release()
            raise
        cursor = DuckDBCursor(self, conn, deadline)
        self._cursors.add(cursor)
        self._idle.clear()
        try:
            await cursor.start(sql, list(params))
        except BaseException:
            await cursor.close()
            raise
        return cursor

    async def server_version(self) -> str:
        """The DuckDB library version (also checks that the database file opens)."""
        conn = (await self._database()).cursor()
        try:
            row = await self._run(lambda: conn.execute("SELECT version()").fetchone())
        finally:
            conn.close()
        return f"DuckDB {row[0]}"

    async def close(self) -> None:
        """Wait up to ``close_timeout`` for running queries, interrupt the rest, close the database."""
        async with self._db_lock:
            self._closed = True
        if self._cursors:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._options.close_timeout or None):
                    await self._idle.wait()
            for cursor in list(self._cursors):
                cursor.interrupt()
                await cursor.close()
        db, self._db = self._db, None
        if db is not None:
            await self._run(db.close)
        self._executor.shutdown(wait=False)

    def _forget(self, cursor: DuckDBCursor) -> None:
        self._cursors.discard(cursor)
        if not self._cursors:
            self._idle.set()


class DuckDBCursor(GatedCursor):
    """One query on its own DuckDB connection; every DuckDB call runs on the source's threads."""

    def __init__(self, source: DuckDBSource, conn: duckdb.DuckDBPyConnection, deadline: Deadline) -> None:
        super().__init__([], source.gate, deadline)
        self._source = source
        self._conn = conn
        self._converters: Converters = []
        self._worker: asyncio.Future[Any] | None = None

    async def start(self, sql: str, params: list[Any]) -> None:
        description = await within(self._deadline, self._call(_execute, self._conn, sql, params))
        self.columns, self._converters = _columns(description or [])

    async def _fetch(self, n: int) -> list[Any]:
        rows = await self._call(self._conn.fetchmany, n)
        return apply_converters(rows, self._converters)

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a DuckDB call on a worker thread. If we are cancelled meanwhile (client cancel or
        deadline), interrupt the query and wait for the worker to return before re-raising, so the
        connection is never used by two threads at once."""
        worker = asyncio.ensure_future(self._source._run(fn, *args))
        self._worker = worker
        try:
            return await asyncio.shield(worker)
        except asyncio.CancelledError:
            self.interrupt()
            with contextlib.suppress(BaseException):
                await asyncio.shield(worker)
            raise
        except duckdb.Error as exc:
            raise _error(self._source.name, exc) from None
        finally:
            self._worker = None

    def interrupt(self) -> None:
        """Ask DuckDB to stop the running query (safe from any thread)."""
        with contextlib.suppress(Exception):
            self._conn.interrupt()

    async def _cleanup(self, *, finished: bool) -> None:
        worker = self._worker
        if worker is not None and not worker.done():
            self.interrupt()
            with contextlib.suppress(BaseException):
                await worker
        try:
            await self._source._run(self._conn.close)
        except RuntimeError:  # executor already shut down (source closing): close here
            self._conn.close()
        finally:
            self._source._forget(self)


def _execute(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> Any:
    conn.execute(sql, params)
    return conn.description


# --- types ----------------------------------------------------------------------------------------

_OIDS_BY_ID: dict[str, int] = {
    "boolean": oids.BOOL,
    "tinyint": oids.INT2,
    "utinyint": oids.INT2,
    "smallint": oids.INT2,
    "usmallint": oids.INT4,
    "integer": oids.INT4,
    "uinteger": oids.INT8,
    "bigint": oids.INT8,
    "ubigint": oids.NUMERIC,
    "hugeint": oids.NUMERIC,
    "uhugeint": oids.NUMERIC,
    "varint": oids.NUMERIC,
    "bignum": oids.NUMERIC,
    "decimal": oids.NUMERIC,
    "float": oids.FLOAT4,
    "double": oids.FLOAT8,
    "varchar": oids.TEXT,
    "enum": oids.TEXT,
    "date": oids.DATE,
    "time": oids.TIME,
    "timestamp": oids.TIMESTAMP,
    "timestamp_s": oids.TIMESTAMP,
    "timestamp_ms": oids.TIMESTAMP,
    "timestamp_ns": oids.TIMESTAMP,
    "timestamp with time zone": oids.TIMESTAMPTZ,
    "interval": oids.INTERVAL,
    "uuid": oids.UUID,
    "blob": oids.BYTEA,
}


def _columns(description: Sequence[Any]) -> tuple[list[SourceColumn], Converters]:
    columns: list[SourceColumn] = []
    converters: Converters = []
    for index, (name, type_code, *_rest) in enumerate(description):
        type_id = str(getattr(type_code, "id", type_code)).lower()
        if str(type_code).upper() == "JSON":
            columns.append(SourceColumn(name, oids.JSON))
            continue
        oid = _OIDS_BY_ID.get(type_id)
        if oid is None:  # lists, structs, maps, unions, bit, time with time zone …: shown as text
            columns.append(SourceColumn(name, oids.TEXT))
            converters.append((index, _to_text))
        else:
            columns.append(SourceColumn(name, oid))
    return columns, converters


def _to_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=str)
    return str(value)


# --- errors ---------------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).split("\n", 1)[0]
    _, sep, rest = text.partition(" Error: ")
    return rest if sep else text


def _error(name: str, exc: duckdb.Error) -> PgError:
    """A PgError for a DuckDB error: SQLSTATEs for the plain cases, else 58000."""
    message = _first_line(exc)
    if isinstance(exc, duckdb.InterruptException):
        return PgError(QUERY_CANCELED, "canceling statement due to user request")
    if isinstance(exc, duckdb.ParserException):
        return PgError(SYNTAX_ERROR, message)
    if isinstance(exc, duckdb.CatalogException):
        if "Function" in message:
            return PgError(UNDEFINED_FUNCTION, message)
        return PgError(UNDEFINED_TABLE, message)
    if "LIMIT/OFFSET cannot be negative" in message:  # a negative $n bound to LIMIT/OFFSET
        return PgError("2201W", "LIMIT must not be negative")
    if isinstance(exc, duckdb.BinderException):
        return _binder_error(name, message)
    if message.startswith(_REGEX_ERRORS):  # RE2's messages for a client's bad pattern (~, regexp_*)
        return PgError("2201B", f"invalid regular expression: {message}")
    if isinstance(exc, duckdb.ConversionException):
        return PgError(INVALID_TEXT_REPRESENTATION, message)
    if isinstance(exc, duckdb.OutOfRangeException) or "integer too large" in message:
        return PgError(NUMERIC_VALUE_OUT_OF_RANGE, message)
    if "read-only mode" in message:
        return PgError(READ_ONLY_SQL_TRANSACTION, message)
    if isinstance(exc, duckdb.OutOfMemoryException):
        return PgError("53200", message)
    return datasource_error(name, message)


# DuckDB binder messages and the SQLSTATE PostgreSQL gives the same mistake. A type error in the
# client's SQL (upper(timestamp), text = integer) is the client's to fix: 58000 would say the
# datasource failed.
_BINDER_STATES = (
    ("no function matches", UNDEFINED_FUNCTION),
    ("cannot compare values", UNDEFINED_FUNCTION),
    ("no operator", UNDEFINED_FUNCTION),
    ("could not choose a best candidate", AMBIGUOUS_FUNCTION),
    ("cannot mix values", DATATYPE_MISMATCH),
    ("group by clause", GROUPING_ERROR),
    ("aggregate function calls cannot be nested", GROUPING_ERROR),
    ("window function", WINDOWING_ERROR),
    ("column", UNDEFINED_COLUMN),
)


_REGEX_ERRORS = (
    "missing ]", "missing )", "unexpected )", "invalid escape sequence", "invalid character class",
    "invalid character class range", "bad repetition operator", "invalid nested repetition operator",
    "missing argument to repetition operator", "trailing \\", "invalid perl operator",
    "invalid named capture group", "invalid repetition size", "bad named capture group",
)  # fmt: skip


def _binder_error(name: str, message: str) -> PgError:
    lower = message.lower()
    for needle, sqlstate in _BINDER_STATES:
        if needle in lower:
            return PgError(sqlstate, message)
    return datasource_error(name, message)


def _open_reason(exc: duckdb.Error) -> str:
    text = str(exc).lower()
    if "does not exist" in text or "no such file" in text:
        return "database file not found"
    if "lock" in text:
        return "database file is locked by another process"
    if "permission" in text:
        return "permission denied"
    return "database file could not be opened"
