"""PostgreSQL datasources through an asyncpg pool.

Each query runs in a READ ONLY transaction on a pooled connection and streams through a portal
(``Execute`` with a row limit per batch), so a result is never held in memory as a whole. Result
columns keep PostgreSQL's own type OIDs; types outside :mod:`sqlgate.pgproto.oids` (enums, user
types) are reported as text and their values turned into strings.

Failures: the datasource's own SQLSTATE for errors in the query; 08006 when the server cannot be
reached or the connection breaks (the pool then replaces its idle connections, which may be dead
too); 57014 "canceling statement due to statement timeout" when the query's deadline passes (the
query is cancelled on the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import decimal
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import asyncpg

from sqlgate.errors import INVALID_TEXT_REPRESENTATION, SYSTEM_ERROR, PgError
from sqlgate.pgproto import oids
from sqlgate.sources.base import SourceColumn
from sqlgate.sources.cursor import Converters, GatedCursor, apply_converters
from sqlgate.sources.driver import DriverSource
from sqlgate.sources.failures import cannot_connect, connection_lost, connection_reason
from sqlgate.sources.limits import Deadline, within
from sqlgate.sources.options import SourceOptions
from sqlgate.sources.params import ConnectionSettings
from sqlgate.sources.pgraw import RawConnection, RawPool

if TYPE_CHECKING:
    from sqlgate.sources.passthrough import PassthroughCursor

# Server errors that mean the connection is gone rather than the query being wrong.
_SHUTDOWN_STATES = frozenset({"57P01", "57P02", "57P03"})


class PostgresSource(DriverSource):
    """A PostgreSQL datasource: one asyncpg pool, created on first use."""

    dialect = "postgres"
    PARAMSTYLE = "numeric"

    def __init__(self, settings: ConnectionSettings, options: SourceOptions) -> None:
        super().__init__(settings, options)
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._raw_pool: RawPool | None = None
        self._closed = False
        self._background: set[asyncio.Future[Any]] = set()

    # --- pass-through: DataRow bytes forwarded without decoding (see sources.passthrough) ---

    supports_passthrough = True

    async def open_passthrough(
        self,
        sql: str,
        params: Sequence[Any],
        *,
        result_formats: Sequence[int] = (),
        timeout: float | None = None,
        batch_rows: int = 5000,
        one_shot: bool = False,
    ) -> PassthroughCursor:
        """Start ``sql`` and return a cursor yielding the datasource's DataRow messages.

        ``result_formats`` as in Bind (empty: all text). Parameters go as text of unspecified type.
        Output follows the pass-through session settings (UTC, ISO dates; ``pgraw.SESSION_SETTINGS``).
        ``one_shot``: for a result that will be read to its end (see ``PassthroughCursor``).
        """
        from sqlgate.sources.passthrough import PassthroughCursor

        deadline = Deadline(timeout)
        await self._gate.acquire()
        cursor = PassthroughCursor(self, deadline, batch_rows, one_shot=one_shot)
        try:
            await within(deadline, cursor.start(sql, params, result_formats))
        except BaseException:
            await cursor.close()
            raise
        return cursor

    async def raw_acquire(self, *, settle: bool = True) -> tuple[RawConnection, bool]:
        if self._closed:
            raise connection_lost(self._name, "the datasource was closed")
        if self._raw_pool is None:
            self._raw_pool = RawPool(
                self._settings,
                name=self._name,
                connect_timeout=self._options.connect_timeout,
                idle_timeout=self._options.idle_timeout,
            )
        return await self._raw_pool.acquire(settle=settle)

    def raw_release(self, conn: RawConnection, *, reusable: bool) -> None:
        if self._raw_pool is not None:
            self._raw_pool.release(conn, reusable=reusable)
        else:
            conn.close()

    def raw_expire_idle(self) -> None:
        if self._raw_pool is not None:
            self._raw_pool.expire_idle()

    async def _get_pool(self) -> asyncpg.Pool:
        if self._closed:
            raise connection_lost(self._name, "the datasource was closed")
        if self._pool is not None:
            return self._pool
        async with self._pool_lock:
            if self._closed:
                raise connection_lost(self._name, "the datasource was closed")
            if self._pool is None:
                s = self._settings
                self._pool = asyncpg.create_pool(
                    host=s.host or "localhost",
                    port=s.port or 5432,
                    user=s.user or "postgres",
                    password=s.password or "",  # never fall back to $PGPASSWORD or ~/.pgpass
                    database=s.database or s.user or "postgres",
                    ssl=s.tls.context() if s.tls else False,
                    timeout=self._options.connect_timeout or None,
                    min_size=self._options.pool_min_size,
                    max_size=self._options.pool_max_size,
                    max_inactive_connection_lifetime=self._options.idle_timeout,
                    reset=_reset_connection,
                    # UTC like Cube's PostgreSQL driver: day boundaries of timestamptz do not depend on
                    # the server's default time zone.
                    server_settings={"application_name": "sqlgate", "TimeZone": "UTC"},
                )
                try:
                    await self._pool  # opens pool_min_size connections (none by default)
                except BaseException:
                    pool, self._pool = self._pool, None
                    pool.terminate()
                    raise
            return self._pool

    async def _acquire(self) -> asyncpg.Connection:
        try:
            pool = await self._get_pool()
            return await pool.acquire()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise cannot_connect(self._name, _connect_reason(exc)) from None

    async def open_cursor(
        self, sql: str, params: Sequence[Any], *, timeout: float | None = None
    ) -> PostgresCursor:
        """Start ``sql`` (``$n`` placeholders) with ``params`` bound (see ``sources.base.Source``)."""
        deadline = Deadline(timeout)
        await self._gate.acquire()
        try:
            return await within(deadline, self._start(sql, params, deadline))
        except BaseException:
            self._gate.release()
            raise

    async def _start(self, sql: str, params: Sequence[Any], deadline: Deadline) -> PostgresCursor:
        # A connection taken from the pool may have died while idle (datasource restarted): then
        # BEGIN fails, nothing has run yet, and one retry on a fresh connection is safe.
        for attempt in (1, 2):
            conn = await self._acquire()
            transaction = conn.transaction(readonly=True)
            try:
                await transaction.start()
            except BaseException as exc:
                await self._discard(conn)
                if attempt == 1 and _is_connection_failure(exc):
                    self._expire_idle()
                    continue
                raise self._error(exc) from None
            break
        try:
            statement = await conn.prepare(sql)
            columns, converters = _columns(statement.get_attributes())
            bound = _coerce_params(params, statement.get_parameters())
            portal = await statement.cursor(*bound)
        except BaseException as exc:
            await self._release(conn, transaction, failed=True)
            raise self._error(exc) from None
        return PostgresCursor(
            self,
            conn=conn,
            transaction=transaction,
            portal=portal,
            columns=columns,
            converters=converters,
            deadline=deadline,
        )

    def _error(self, exc: BaseException) -> BaseException:
        """The PgError for a failure (CancelledError and our own PgErrors pass unchanged)."""
        if isinstance(exc, PgError | asyncio.CancelledError | TimeoutError):
            return exc
        if _is_connection_failure(exc):
            self._expire_idle()
            return connection_lost(self._name, _lost_reason(exc))
        if isinstance(exc, asyncpg.PostgresError):
            state = exc.sqlstate or SYSTEM_ERROR
            return PgError(state, exc.args[0] if exc.args else str(exc), detail=exc.detail, hint=exc.hint)
        if isinstance(exc, asyncpg.DataError):
            return PgError(INVALID_TEXT_REPRESENTATION, str(exc))
        if isinstance(exc, asyncpg.InterfaceError):
            return PgError(SYSTEM_ERROR, f"datasource {self._name!r}: {exc}")
        return exc

    def _expire_idle(self) -> None:
        """After a connection failure, replace the pooled connections: they likely died too."""
        if self._pool is not None:
            task = asyncio.ensure_future(self._pool.expire_connections())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _discard(self, conn: asyncpg.Connection) -> None:
        _terminate(conn)
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await self._pool.release(conn)

    async def _release(self, conn: asyncpg.Connection, transaction: Any, *, failed: bool) -> None:
        """End the transaction and return the connection; a broken connection is terminated."""
        # After a connection loss asyncpg may already have handed the connection back to the pool;
        # then every call on it raises InterfaceError, which is fine to ignore here.
        try:
            if not conn.is_closed():
                await transaction.rollback()
        except Exception:
            _terminate(conn)
        if self._pool is not None:
            try:
                await self._pool.release(conn)
            except Exception:
                _terminate(conn)

    async def server_version(self) -> str:
        """``server_version`` of the datasource (also a connectivity check: 08006 when down)."""
        conn = await self._acquire()
        try:
            return str(await conn.fetchval("SHOW server_version"))
        except BaseException as exc:
            raise self._error(exc) from None
        finally:
            if self._pool is not None:
                await self._pool.release(conn)

    async def close(self) -> None:
        """Close the pool, waiting up to ``close_timeout`` for running queries."""
        async with self._pool_lock:
            self._closed = True  # no new queries; running ones still release into self._pool
            pool = self._pool
        if self._raw_pool is not None:
            self._raw_pool.close()
        if pool is None:
            return
        try:
            async with asyncio.timeout(self._options.close_timeout or None):
                await pool.close()
        except TimeoutError:
            pool.terminate()


class PostgresCursor(GatedCursor):
    """An open portal inside a READ ONLY transaction on one pooled connection."""

    def __init__(
        self,
        source: PostgresSource,
        *,
        conn: asyncpg.Connection,
        transaction: Any,
        portal: Any,
        columns: list[SourceColumn],
        converters: Converters,
        deadline: Deadline,
    ) -> None:
        super().__init__(columns, source.gate, deadline)
        self._source = source
        self._conn = conn
        self._transaction = transaction
        self._portal = portal
        self._converters = converters
        self._failed = False

    async def _fetch(self, n: int) -> list[Any]:
        try:
            rows = await self._portal.fetch(n)
        except BaseException as exc:
            self._failed = True
            raise self._source._error(exc) from None
        return apply_converters(rows, self._converters)

    async def _cleanup(self, *, finished: bool) -> None:
        # An unfinished portal is closed by the ROLLBACK; a fetch interrupted by cancellation or a
        # timeout already made asyncpg send a CancelRequest, which the pool waits for on release.
        await self._source._release(self._conn, self._transaction, failed=self._failed or not finished)


def _terminate(conn: asyncpg.Connection) -> None:
    with contextlib.suppress(Exception):
        conn.terminate()


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """Pool reset hook: nothing to undo (queries only run inside READ ONLY transactions that we end);
    skipping asyncpg's default RESET ALL/UNLISTEN saves a round trip per query."""


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.PostgresError):
        state = exc.sqlstate or ""
        return state.startswith("08") or state in _SHUTDOWN_STATES
    if isinstance(exc, asyncpg.InterfaceError):
        return "connection" in str(exc).lower() and "closed" in str(exc).lower()
    return isinstance(exc, ConnectionError | OSError)


def _lost_reason(exc: BaseException) -> str:
    state = getattr(exc, "sqlstate", "") or ""
    if state == "57P01":
        return "the datasource terminated the connection (administrator command)"
    if state in ("57P02", "57P03"):
        return "the datasource server is shutting down or restarting"
    return "the connection was closed during the query"


def _connect_reason(exc: BaseException) -> str:
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return "authentication failed"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return "the database does not exist"
    if isinstance(exc, asyncpg.TooManyConnectionsError):
        return "too many connections on the datasource"
    if isinstance(exc, asyncpg.PostgresError):
        if (exc.sqlstate or "") in _SHUTDOWN_STATES:
            return "the datasource server is starting up or shutting down"
        return f"the datasource refused the connection (SQLSTATE {exc.sqlstate})"
    if isinstance(exc, asyncpg.InterfaceError):
        return "connection failed"
    return connection_reason(exc)


# --- result types ---------------------------------------------------------------------------------


def _columns(attributes: Sequence[Any]) -> tuple[list[SourceColumn], Converters]:
    """Result columns with their OIDs, and converters for columns whose type we report as text."""
    columns: list[SourceColumn] = []
    converters: Converters = []
    for index, attr in enumerate(attributes):
        oid = attr.type.oid
        if oid in oids.TYPES_BY_OID:
            columns.append(SourceColumn(attr.name, oid))
            continue
        columns.append(SourceColumn(attr.name, oids.TEXT))
        if attr.type.kind != "scalar" or attr.type.name not in _STR_DECODED:
            converters.append((index, _to_text))
    return columns, converters


# Types asyncpg already returns as str: no conversion needed when we report them as text.
_STR_DECODED = frozenset({"money", "xml", "bpchar", "citext", "tsvector", "tsquery", "macaddr", "macaddr8"})


def _to_text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


# --- parameters -----------------------------------------------------------------------------------

_INT_TYPES = frozenset({oids.INT2, oids.INT4, oids.INT8, oids.OID})
_TEXT_TYPES = frozenset({oids.TEXT, oids.VARCHAR, oids.BPCHAR, oids.NAME, oids.CHAR})
_TRUE = frozenset({"t", "true", "y", "yes", "on", "1"})
_FALSE = frozenset({"f", "false", "n", "no", "off", "0"})


def _coerce_params(params: Sequence[Any], types: Sequence[Any]) -> list[Any]:
    """Bring client values to the Python types asyncpg encodes for the server-inferred parameter types.

    Clients often send parameters as text of unspecified type ("42" for an integer column); asyncpg
    only encodes Python objects of the matching type. Values stay bound parameters: this only parses
    them, with PostgreSQL's "invalid input syntax" error (22P02) when that fails.
    """
    if len(params) != len(types):
        raise PgError(
            "08P01", f"bind message supplies {len(params)} parameters, but the query needs {len(types)}"
        )
    return [_coerce(value, t.oid, t.name) for value, t in zip(params, types, strict=True)]


def _coerce(value: Any, oid: int, type_name: str) -> Any:
    if value is None:
        return None
    try:
        if isinstance(value, str):
            return _parse_text(value, oid, type_name)
        if oid in _TEXT_TYPES and not isinstance(value, str):
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
        if oid == oids.NUMERIC and isinstance(value, float):
            return decimal.Decimal(repr(value))
        if oid in (oids.FLOAT4, oids.FLOAT8) and isinstance(value, decimal.Decimal):
            return float(value)
        if oid in _INT_TYPES and isinstance(value, decimal.Decimal) and value == value.to_integral_value():
            return int(value)
    except (ValueError, ArithmeticError):
        raise PgError(
            INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type {type_name}: "{value}"'
        ) from None
    return value


def _parse_text(value: str, oid: int, type_name: str) -> Any:
    text = value.strip()
    if oid in _INT_TYPES:
        return int(text)
    if oid == oids.NUMERIC:
        return decimal.Decimal(text)
    if oid in (oids.FLOAT4, oids.FLOAT8):
        return float(text)
    if oid == oids.BOOL:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(value)
    if oid == oids.DATE:
        return datetime.date.fromisoformat(text)
    if oid == oids.TIMESTAMP:
        return datetime.datetime.fromisoformat(text).replace(tzinfo=None)
    if oid == oids.TIMESTAMPTZ:
        parsed = datetime.datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
    if oid == oids.TIME:
        return datetime.time.fromisoformat(text)
    if oid == oids.UUID:
        return uuid.UUID(text)
    return value
