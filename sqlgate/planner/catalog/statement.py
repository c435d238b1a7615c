"""Catalog statements on the wire to a shadow database: Describe at prepare, one round trip to run.

**Prepare** (Parse, or a simple Query's first step) sends ``Parse`` + ``Describe(statement)`` +
``Sync`` on a pooled connection of the catalog role: nothing runs, and PostgreSQL's own
ParameterDescription and RowDescription become the statement's parameter types and columns
(cached per shadow database and statement text, so a tool's repeated catalog queries cost no
round trip here).

**Execute** sends, in one write::

    BEGIN READ ONLY                                   (Parse/Bind/Execute)
    SELECT set_config(k, v, true) FROM unnest($1, $2) (the session's view: sqlgate.* and settings)
    the statement                                     (Parse/Bind with the client's parameter bytes and
                                                       formats and result formats / Execute(max_rows+1))
    Sync
    ROLLBACK                                          (simple Query)

and reads until the ROLLBACK's ReadyForQuery. The DataRows are kept exactly as PostgreSQL sent them
and handed to the wire as :attr:`RowBatch.encoded`, so results are byte for byte what PostgreSQL
answers, in text or binary. Every statement ends rolled back: ``set_config`` and friends never
leak into the next user of the pooled connection. More than ``max_rows`` rows (or ``max_bytes``)
is an error (54000), never a truncated answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlgate.errors import PROGRAM_LIMIT_EXCEEDED, PgError
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto import oids
from sqlgate.pgproto.values import encode_value
from sqlgate.planner import gucs
from sqlgate.planner.api import BoundParams, Execution, PreparedStatement, ResultColumn, RowBatch
from sqlgate.planner.catalog import rewrite as rw
from sqlgate.upstream import ConnectFailed, ConnectionBroken, UpstreamConnection, UpstreamPool
from sqlgate.upstream.connection import MessageTooLarge, is_connection_state

if TYPE_CHECKING:
    from sqlgate.planner.session import Session

_BEGIN = fe.Parse("", "BEGIN READ ONLY").encode() + fe.Bind("", "").encode() + fe.Execute("", 0).encode()
_SETUP_SQL = (
    "SELECT pg_catalog.set_config(k, v, true) FROM ROWS FROM "
    "(pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.text[])) AS s(k, v)"
)
_SETUP_PARSE = fe.Parse("", _SETUP_SQL, (oids.TEXT_ARRAY, oids.TEXT_ARRAY)).encode()
_END = fe.Sync().encode() + fe.Query("ROLLBACK").encode()

# Settings of the session that change what the catalog answers or how values are written: they are
# set on the shadow connection for each statement when they differ from the gateway's defaults (the
# connection starts with those).
PUSHED_SETTINGS = (
    "TimeZone", "DateStyle", "IntervalStyle", "extra_float_digits", "search_path", "bytea_output",
    "application_name", "lc_monetary", "lc_numeric", "lc_time", "array_nulls", "quote_all_identifiers",
    "xmloption", "default_text_search_config", "plan_cache_mode", "enable_seqscan", "jit",
    "escape_string_warning", "backslash_quote", "timezone_abbreviations", "row_security",
)  # fmt: skip


def _expand(formats: Sequence[int], count: int) -> list[int]:
    if not formats:
        return [0] * count
    if len(formats) == 1:
        return list(formats) * count
    return list(formats)


def _upstream_error(fields: dict[str, str], rewrite: rw.Rewrite | None) -> PgError:
    """The client's error for an upstream ErrorResponse; a position points into the client's text."""
    error = be.ErrorResponse(fields).to_error()
    if error.position is not None:
        error.position = rewrite.original_position(error.position) if rewrite is not None else None
    return error


def _unavailable(reason: str) -> PgError:
    return PgError("58000", f"the catalog server is not available ({reason})")


@dataclass(frozen=True)
class Described:
    """What Describe(statement) said about a catalog statement."""

    param_oids: tuple[int, ...]
    columns: tuple[ResultColumn, ...] | None


async def _with_connection(
    pool: UpstreamPool, timeout: float, work: Callable[[UpstreamConnection], Any]
) -> Any:
    """Run ``work(conn)`` on a pooled connection. A connection that broke is dropped and the work
    retried once on a fresh one (catalog work is read-only and rolled back: always safe to repeat).
    A cancelled caller leaves the backend cancelled and the connection closed."""
    for attempt in (1, 2):
        try:
            conn, fresh = await pool.acquire(timeout)
        except TimeoutError:
            raise _unavailable("no connection to the shadow database within the timeout") from None
        except ConnectFailed as exc:
            raise _unavailable(exc.reason) from None
        reusable = False
        try:
            result = await work(conn)
            reusable = True
            return result
        except PgError:
            reusable = not conn.broken  # the server answered: the connection is in step
            raise
        except ConnectionBroken:
            if attempt == 2 or fresh:
                raise _unavailable("the connection to the shadow database broke") from None
            pool.expire_idle()
        except asyncio.CancelledError:
            if not conn.broken:
                task = asyncio.ensure_future(conn.cancel())
                task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
            raise
        finally:
            pool.release(conn, reusable=reusable)
    raise AssertionError("unreachable")


async def describe(
    pool: UpstreamPool, sql: str, param_oids: Sequence[int], rewrite: rw.Rewrite | None, timeout: float
) -> Described:
    """Parse + Describe(statement) + Sync: PostgreSQL's parameter types and result columns."""
    request = (
        fe.Parse("", sql, tuple(param_oids)).encode() + fe.Describe("S", "").encode() + fe.Sync().encode()
    )

    async def work(conn: UpstreamConnection) -> Described:
        conn.send(request)
        params: tuple[int, ...] = ()
        columns: tuple[ResultColumn, ...] | None = None
        error: dict[str, str] | None = None
        while True:
            kind, body = await conn.read_message()
            if kind == b"t":
                params = be.ParameterDescription.decode(body).type_oids
            elif kind == b"T":
                columns = tuple(
                    ResultColumn(
                        f.name, f.type_oid, f.type_size, f.type_modifier, f.table_oid, f.column_number
                    )
                    for f in be.RowDescription.decode(body).fields
                )
            elif kind == b"E":
                error = dict(be.ErrorResponse.decode(body).fields)
                if is_connection_state(error.get("C", "")):
                    conn.broken = True
                    raise ConnectionBroken(error.get("M", ""))
            elif kind == b"Z":
                if error is not None:
                    raise _upstream_error(error, rewrite)
                return Described(params, columns)

    try:
        async with asyncio.timeout(timeout):
            result: Described = await _with_connection(pool, timeout, work)
    except TimeoutError:
        raise _unavailable("the shadow database did not answer in time") from None
    return result


def session_values(session: Session, needs: frozenset[str], sql: str) -> dict[str, str]:
    """The ``set_config`` pairs that give the shadow connection the session's view."""
    ctx = session.ctx
    values = {
        rw.USER: ctx.username if ctx is not None else "",
        rw.DATABASE: session.database,
        rw.PID: str(session.process_id),
        rw.APPLICATION_NAME: session.settings.get("application_name", ""),
        rw.CLIENT_TLS: "on" if getattr(session, "tls", False) else "off",
    }
    if rw.QUERY in needs:
        values[rw.QUERY] = sql
    if rw.SETTINGS in needs:
        values[rw.SETTINGS] = json.dumps(shown_settings(session))
    if rw.PREPARED in needs:
        values[rw.PREPARED] = json.dumps(
            [
                {
                    "name": name,
                    "statement": statement.sql,
                    "parameter_types": "{" + ",".join(str(o) for o in statement.param_oids) + "}",
                    "from_sql": False,
                }
                for name, statement in session.prepared.items()
                if name
            ]
        )
    for name in PUSHED_SETTINGS:
        value = session.settings.get(name)
        if value is not None and value != gucs.DEFAULTS.get(name):
            values[name] = value
    for name, value in session.settings.items():
        if "." in name and not name.lower().startswith("sqlgate."):
            values[name] = value
    return values


def shown_settings(session: Session) -> dict[str, str]:
    """Settings the gateway owns, as ``current_setting``/``pg_settings`` should show them (lower-case
    names): the session's identity and version rather than the catalog connection's."""
    settings = session.settings
    shown = {
        name.lower(): value for name, value in settings.items() if name in PUSHED_SETTINGS or "." in name
    }
    for name in ("server_version", "server_version_num", "session_authorization", "is_superuser",
                 "default_transaction_read_only", "transaction_read_only", "transaction_isolation",
                 "server_encoding", "client_encoding", "in_hot_standby", "integer_datetimes",
                 "standard_conforming_strings"):  # fmt: skip
        if name in settings:
            shown[name] = settings[name]
    with contextlib.suppress(ValueError):
        shown["statement_timeout"] = str(gucs.parse_milliseconds(settings.get("statement_timeout", "0")))
    return shown


class CatalogStatement(PreparedStatement):
    """A statement answered by a shadow database."""

    kind = "catalog"
    encodes_rows = True

    def __init__(
        self,
        sql: str,
        rewrite: rw.Rewrite,
        described: Described,
        pool: UpstreamPool,
        *,
        max_rows: int,
        max_bytes: int,
        timeout: float,
    ) -> None:
        self.sql = sql
        self.rewrite = rewrite
        self.param_oids = list(described.param_oids)
        self.columns = list(described.columns) if described.columns is not None else None
        self._pool = pool
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._timeout = timeout

    async def execute(
        self, session: Session, params: BoundParams, result_formats: Sequence[int]
    ) -> Execution:
        raw, formats = params_for_wire(params)
        values = session_values(session, self.rewrite.settings, self.sql)
        names = list(values)
        setup = fe.Bind(
            "",
            "",
            (0, 0),
            (
                encode_value(names, oids.TEXT_ARRAY),
                encode_value([values[n] for n in names], oids.TEXT_ARRAY),
            ),
        ).encode()
        request = b"".join(
            (
                _BEGIN,
                _SETUP_PARSE,
                setup,
                fe.Execute("", 0).encode(),
                fe.Parse("", self.rewrite.sql, tuple(self.param_oids)).encode(),
                fe.Bind("", "", tuple(formats), tuple(raw), tuple(result_formats)).encode(),
                fe.Execute("", self._max_rows + 1).encode(),
                _END,
            )
        )
        return CatalogExecution(self, session, request)

    async def run(self, session: Session, request: bytes) -> tuple[list[bytes], str]:
        """Send ``request`` and collect the statement's DataRow messages and command tag."""

        async def work(conn: UpstreamConnection) -> tuple[list[bytes], str]:
            conn.max_message_size = self._max_bytes + 1024
            conn.send(request)
            try:
                return await self._read(conn)
            except MessageTooLarge:
                raise self._too_large() from None

        try:
            async with asyncio.timeout(self._timeout + 5):
                result: tuple[list[bytes], str] = await _with_connection(self._pool, self._timeout, work)
        except TimeoutError:
            raise _unavailable("the shadow database did not answer in time") from None
        return result

    async def _read(self, conn: UpstreamConnection) -> tuple[list[bytes], str]:
        parsed = completed = 0
        rows: list[bytes] = []
        size = 0
        tag = ""
        error: dict[str, str] | None = None
        in_statement = False
        too_many = False
        ready = 0
        buffer = conn.buffer
        while ready < 2:
            kind, start, end = await conn.read_frame()
            if kind == b"D":
                if parsed == 3 and not too_many:
                    size += end - start
                    if len(rows) >= self._max_rows or size > self._max_bytes:
                        too_many = True
                        rows = []
                    else:
                        rows.append(bytes(buffer[start:end]))
            elif kind == b"1":
                parsed += 1
            elif kind == b"C":
                completed += 1
                if completed == 3 and ready == 0:
                    tag = bytes(buffer[start + 5 : end - 1]).decode()
            elif kind == b"s":
                if parsed == 3:
                    too_many = True
            elif kind == b"E":
                fields = dict(be.ErrorResponse.decode(bytes(buffer[start + 5 : end])).fields)
                if is_connection_state(fields.get("C", "")):
                    conn.broken = True
                    raise ConnectionBroken(fields.get("M", ""))
                if error is None and ready == 0:
                    error, in_statement = fields, completed >= 2
            elif kind == b"Z":
                ready += 1
                if ready == 2 and bytes(buffer[start + 5 : end]) != b"I":
                    conn.broken = True  # out of step: never reuse
        if error is not None:
            raise _upstream_error(error, self.rewrite if in_statement else None)
        if too_many:
            raise self._too_large()
        return rows, tag

    def _too_large(self) -> PgError:
        return PgError(
            PROGRAM_LIMIT_EXCEEDED,
            f"catalog query result exceeds {self._max_rows} rows or {self._max_bytes >> 20} MB",
            hint="Narrow the query with WHERE or LIMIT (setting catalog_max_rows).",
        )


def params_for_wire(params: BoundParams) -> tuple[list[bytes | None], list[int]]:
    """The parameters as protocol bytes with their formats: what the client sent in Bind, or values
    given as Python objects (SQL-level EXECUTE) written as text."""
    raw = list(params.raw)
    formats = _expand(params.formats, len(raw))
    missing = [i for i, value in enumerate(raw) if value is None]
    if missing and params.has_values:
        values = params.values
        for i in missing:
            if values[i] is not None:
                raw[i] = encode_value(values[i], params.oids[i] or oids.TEXT, 0)
                formats[i] = 0
    return raw, formats


class CatalogExecution(Execution):
    """A catalog portal: runs on the first fetch, then hands out the rows it received."""

    def __init__(self, statement: CatalogStatement, session: Session, request: bytes) -> None:
        self.columns = statement.columns
        self._statement = statement
        self._session = session
        self._request = request
        self._rows: list[bytes] | None = None
        self._pos = 0
        self._tag = ""

    async def fetch(self, max_rows: int = 0) -> tuple[RowBatch, bool]:
        if self._rows is None:
            self._rows, self._tag = await self._statement.run(self._session, self._request)
        rows = self._rows
        start = self._pos
        end = len(rows) if max_rows <= 0 else min(len(rows), start + max_rows)
        self._pos = end
        return RowBatch(encoded=b"".join(rows[start:end]), count=end - start), end >= len(rows)

    def command_tag(self) -> str:
        return self._tag

    async def close(self) -> None:
        self._rows = []
