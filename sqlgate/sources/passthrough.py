"""PostgreSQL results forwarded as PostgreSQL sent them: DataRow messages, not Python values.

When a client asked for the column types the datasource returns, in formats the datasource can
produce (text, or binary for types both sides know), the gateway can write the datasource's DataRow
messages to the client byte for byte: no decoding into Python objects, no re-encoding. This is about
three times faster than decoding rows (see docs/sources.md, "Performance").

One query = one round trip to start: Parse, Bind (parameters as text of unspecified type, results in
the requested formats), Describe, Execute(batch_rows), Flush. Each further batch is another
Execute(batch_rows), sent only when the consumer asks for more (back-pressure), so at most one batch
is in flight. The implicit transaction is read-only (``default_transaction_read_only``) and ends with
Sync when the cursor is closed.
"""

from __future__ import annotations

import datetime
import decimal
import math
import struct
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlgate.errors import FEATURE_NOT_SUPPORTED, PgError
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto.buffer import I32
from sqlgate.sources.base import SourceColumn
from sqlgate.sources.cursor import SlotCursor
from sqlgate.sources.failures import connection_lost
from sqlgate.sources.limits import Deadline, statement_timeout, within
from sqlgate.sources.pgraw import (
    DESCRIBE_PORTAL,
    FLUSH,
    I16,
    SYNC,
    U32_FROM,
    ConnectionBroken,
    RawConnection,
    bind_message,
    error_fields,
    execute_message,
    is_connection_state,
    parse_message,
    pg_error,
)

if TYPE_CHECKING:
    from sqlgate.sources.postgres import PostgresSource

DATA_ROW = 68  # b"D"
I32_FROM = I32.unpack_from


@dataclass(frozen=True, slots=True)
class RawField:
    """A RowDescription field exactly as the datasource sent it."""

    name: str
    table_oid: int
    column_number: int
    type_oid: int
    type_size: int
    type_modifier: int
    format: int


class PassthroughCursor(SlotCursor):
    """An open result whose rows come out as complete DataRow messages (see :meth:`chunks`)."""

    def __init__(
        self, source: PostgresSource, deadline: Deadline, batch_rows: int, *, one_shot: bool = False
    ) -> None:
        super().__init__(source.gate, deadline)
        # One shot: Execute without a row limit and Sync in the first write. The result streams
        # under TCP flow control (the server blocks while we do not read); the query costs one write
        # and no Sync at close, but closing before the end cancels it and drops the connection.
        self._one_shot = one_shot
        self._source = source
        self._batch_rows = batch_rows
        self._conn: RawConnection | None = None
        self._buf = b""
        self._in_flight = False  # an Execute was sent and its answer not yet read to the end
        self._error_pending = False  # the server is skipping to Sync after an error
        self.fields: list[RawField] = []
        self.columns: list[SourceColumn] = []
        self.command_tag: str | None = None
        self._sql = ""
        self._parsed: str | None = None  # a statement name parsed by this query, not yet remembered
        self._stale: str | None = None  # a remembered statement the server refused to run again

    async def start(self, sql: str, params: Sequence[Any], result_formats: Sequence[int]) -> None:
        """Send the query and read up to its RowDescription (rows stay buffered for :meth:`chunks`).

        Each connection parses a generated statement once, as a named prepared statement, and later
        runs of it only Bind (no Parse, no planning from scratch on the datasource)."""
        self._fetching = True  # the deadline's expiry must not release the connection under us
        try:
            await self._start(sql, params, result_formats)
        finally:
            self._fetching = False

    async def _start(self, sql: str, params: Sequence[Any], result_formats: Sequence[int]) -> None:
        self._sql = sql
        bind = bind_message([text_param(v) for v in params], result_formats) + DESCRIBE_PORTAL
        if self._one_shot:
            tail = bind + execute_message(0) + SYNC
        else:
            tail = (
                bind
                + FLUSH  # the server holds its output until a Flush: let the RowDescription out now
                + execute_message(self._batch_rows)
                + FLUSH
            )
        for attempt in (1, 2):
            conn, fresh = await self._source.raw_acquire(settle=False)
            self._conn = conn
            try:
                try:
                    await self._send_and_read_header(conn, sql, tail)
                except PgError as exc:
                    if not (exc.sqlstate == FEATURE_NOT_SUPPORTED and self._stale is not None):
                        raise
                    # "cached plan must not change result type": the table changed since this
                    # connection prepared the statement. Close it and parse afresh, once.
                    if self._one_shot:  # the server is past our Sync already
                        conn.send(fe.Close("S", self._stale).encode() + SYNC)
                    else:
                        conn.send(SYNC + fe.Close("S", self._stale).encode() + SYNC)
                    conn.pending_ready += 2
                    self._stale = None
                    self._error_pending = False
                    await within(self._deadline, conn.wait_ready())
                    await self._send_and_read_header(conn, sql, tail)
                return
            except ConnectionBroken as exc:
                self._release(reusable=False)
                if attempt == 1 and not fresh:  # died while idle: nothing ran, retry on a new one
                    self._source.raw_expire_idle()
                    continue
                raise connection_lost(self._source.name, *_reason(exc)) from None

    async def _send_and_read_header(self, conn: RawConnection, sql: str, tail: bytes) -> None:
        conn.send(self._request(conn, sql, tail))
        self._in_flight = True
        await within(self._deadline, self._read_header())
        if self._parsed is not None:
            conn.statements[sql] = self._parsed
            self._parsed = None

    def _request(self, conn: RawConnection, sql: str, tail: bytes) -> bytes:
        """Parse (unless ``conn`` has the statement) and the Bind of the unnamed portal in ``tail``
        (written for the unnamed statement: its statement name is patched in here)."""
        name = conn.statements.get(sql)
        if name is not None:
            return _bind_to(tail, name)
        if len(conn.statements) >= MAX_STATEMENTS_PER_CONNECTION:
            return parse_message(sql) + tail  # the unnamed statement: nothing kept on the server
        conn.statement_seq += 1
        name = f"sg{conn.statement_seq}"
        self._parsed = name
        return fe.Parse(name, sql).encode() + _bind_to(tail, name)

    async def _read_header(self) -> None:
        conn = self._conn
        assert conn is not None
        while True:
            kind, body = await conn.read_message()
            if kind in (b"1", b"2", b"N", b"S"):
                continue
            if kind == b"Z" and conn.pending_ready:  # the previous user's Sync, answered now
                conn.pending_ready -= 1
                continue
            if kind == b"T":
                self._set_fields(body)
                return
            if kind == b"n":  # NoData: a statement without a result
                return
            if kind == b"E":
                fields = error_fields(body)
                if is_connection_state(fields.get("C", "")):
                    # e.g. terminated while idle in the pool: the FATAL error waited in the buffer
                    conn.broken = True
                    raise ConnectionBroken(_lost_reason(fields))
                self._in_flight = False
                self._error_pending = True
                if fields.get("C") == FEATURE_NOT_SUPPORTED and self._parsed is None:
                    self._stale = conn.statements.pop(self._sql, None)  # see start()
                raise pg_error(fields)
            raise ConnectionBroken(f"unexpected message {kind!r}")

    def _set_fields(self, body: bytes) -> None:
        count = I16.unpack_from(body)[0]
        pos = 2
        for _ in range(count):
            end = body.index(b"\x00", pos)
            name = body[pos:end].decode()
            table_oid, column, type_oid, size, modifier, fmt = _FIELD.unpack_from(body, end + 1)
            pos = end + 1 + _FIELD.size
            self.fields.append(RawField(name, table_oid, column, type_oid, size, modifier, fmt))
        self.columns = [SourceColumn(f.name, f.type_oid) for f in self.fields]

    async def chunks(self, max_bytes: int = 1 << 20) -> AsyncIterator[tuple[bytes, int]]:
        """Yield ``(DataRow messages, row count)`` until the result ends; each piece is at most one
        batch of rows and is cut early once it holds ``max_bytes``. NoticeResponses are dropped."""
        # Between pieces the consumer may sit idle (a cursor read in portions): the deadline's
        # expiry (SlotCursor) may then end the query, and the next read reports 57014.
        try:
            while not self._exhausted:
                if self._expired:
                    raise statement_timeout()
                self._fetching = True
                if not self._in_flight:
                    self._send_execute()
                async for piece in self._read_batch(max_bytes):
                    self._fetching = False
                    yield piece
                    if self._expired:
                        raise statement_timeout()
                    self._fetching = True
        finally:
            self._fetching = False

    def _send_execute(self) -> None:
        assert self._conn is not None
        try:
            self._conn.send(execute_message(self._batch_rows) + FLUSH)
        except ConnectionBroken:
            raise connection_lost(self._source.name) from None
        self._in_flight = True

    async def _read_batch(self, max_bytes: int) -> AsyncIterator[tuple[bytes, int]]:
        """Frame the answer to one Execute: DataRows until PortalSuspended or CommandComplete."""
        conn = self._conn
        assert conn is not None
        parts: list[bytes] = []
        size = rows = 0
        buf, pos = self._buf, 0
        while True:
            # Hot loop: step over DataRow messages by their length prefix, nothing else.
            end = len(buf)
            start = pos
            count = 0
            limit = start + max_bytes - size  # cut the piece once it holds max_bytes
            while pos + 5 <= end and buf[pos] == DATA_ROW and pos < limit:
                nxt = pos + 1 + U32_FROM(buf, pos + 1)[0]
                if nxt > end:
                    break
                pos = nxt
                count += 1
            if count:
                parts.append(buf[start:pos])
                size += pos - start
                rows += count
            if pos + 5 <= end and buf[pos] != DATA_ROW:
                length = U32_FROM(buf, pos + 1)[0]
                if pos + 1 + length <= end:
                    kind, body = buf[pos : pos + 1], buf[pos + 5 : pos + 1 + length]
                    pos += 1 + length
                    if kind in (b"N", b"S", b"A"):
                        continue
                    self._buf = buf[pos:]
                    self._in_flight = False
                    if kind == b"s":  # PortalSuspended: more rows on the next Execute
                        pass
                    elif kind in (b"C", b"I"):
                        self._exhausted = True
                        self.command_tag = _total_tag(body, self.row_count + rows) if kind == b"C" else ""
                    elif kind == b"E":
                        self._error_pending = True
                        raise self._server_error(error_fields(body))
                    else:
                        raise connection_lost(
                            self._source.name, f"unexpected message {kind!r} from the datasource"
                        )
                    if parts:
                        self._count(rows)
                        yield b"".join(parts), rows
                    return
            if size >= max_bytes:
                self._count(rows)
                yield b"".join(parts), rows
                parts, size, rows = [], 0, 0
                if pos + 5 <= end:
                    continue  # more complete messages in the buffer
            carry = buf[pos:]
            try:
                chunk = await within(self._deadline, conn.read_chunk())
            except ConnectionBroken:
                raise connection_lost(self._source.name) from None
            buf, pos = (carry + chunk if carry else chunk), 0

    def _count(self, rows: int) -> None:
        self.batch_count += 1
        self.row_count += rows

    def _server_error(self, fields: dict[str, str]) -> PgError:
        """The error for an ErrorResponse; for connection-level ones the connection is dropped."""
        if is_connection_state(fields.get("C", "")):
            if self._conn is not None:
                self._conn.broken = True
            self._error_pending = False
            return connection_lost(self._source.name, _lost_reason(fields))
        return pg_error(fields)

    async def _cleanup(self, *, finished: bool) -> None:
        conn = self._conn
        if conn is None:
            return
        if self._in_flight:
            # The server is still producing rows for us: stop it, and never reuse this stream.
            await conn.cancel()
            self._release(reusable=False)
            return
        # Finished, failed, or suspended between batches: Sync ends the implicit transaction (and the
        # portal). Its ReadyForQuery is read by the connection's next user, so closing costs no
        # round trip (the server handles the Sync at once: no transaction stays open). A statement
        # parsed by a query that then failed is closed after the Sync (before it, the server would
        # skip the Close), so that names never collide and nothing is left behind. In one-shot mode
        # the Sync went with the query, and what was read past its end goes back to the connection.
        if self._buf:
            conn.unread(self._buf)
            self._buf = b""
        message, syncs = (b"", 1) if self._one_shot else (SYNC, 1)
        for name in (self._parsed, self._stale):
            if name is not None:
                message += fe.Close("S", name).encode() + SYNC
                syncs += 1
        self._parsed = self._stale = None
        try:
            if message:
                conn.send(message)
        except ConnectionBroken:
            self._release(reusable=False)
            return
        conn.pending_ready += syncs
        self._release(reusable=True)

    def _release(self, *, reusable: bool) -> None:
        if self._conn is not None:
            self._source.raw_release(self._conn, reusable=reusable and not self._conn.broken)
            self._conn = None


_FIELD = struct.Struct("!ihihih")
# Named statements kept per datasource connection; past this, statements are parsed each time.
MAX_STATEMENTS_PER_CONNECTION = 256


def _bind_to(tail: bytes, name: str) -> bytes:
    """``tail`` (Bind of the unnamed portal to the unnamed statement, then more messages) with the
    Bind naming statement ``name``: the Bind body starts with portal "" and statement "" (two NULs)."""
    assert tail[0:1] == b"B" and tail[5:7] == b"\x00\x00"
    body_rest = tail[7 : 1 + I32_FROM(tail, 1)[0]]
    body = b"\x00" + name.encode() + b"\x00" + body_rest
    return b"B" + I32.pack(len(body) + 4) + body + tail[1 + I32_FROM(tail, 1)[0] :]


def _lost_reason(fields: dict[str, str]) -> str:
    if fields.get("C") == "57P01":
        return "the datasource terminated the connection"
    if fields.get("C") in ("57P02", "57P03"):
        return "the datasource server is shutting down or restarting"
    return "the connection was closed during the query"


def _reason(exc: ConnectionBroken) -> tuple[str, ...]:
    """The reason of a ConnectionBroken raised with one of our own messages, for connection_lost."""
    text = str(exc)
    return (text,) if text.startswith("the ") else ()


def _total_tag(body: bytes, total_rows: int) -> str:
    """The CommandComplete tag for the whole result (the server's counts only the last Execute)."""
    tag = body.rstrip(b"\x00").decode()
    return f"SELECT {total_rows}" if tag.startswith("SELECT ") else tag


def text_param(value: Any) -> bytes | None:
    """A parameter in PostgreSQL text form (sent with type 0: the server infers the type, as for a
    literal in the SQL text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int | decimal.Decimal | uuid.UUID):
        return str(value).encode()
    if isinstance(value, float):
        return repr(value).encode() if math.isfinite(value) else _special_float(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat().encode()
    if isinstance(value, datetime.timedelta):
        return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds".encode()
    if isinstance(value, bytes | bytearray | memoryview):
        return b"\\x" + bytes(value).hex().encode()
    raise PgError("22023", f"cannot send a parameter of type {type(value).__name__} to the datasource")


def _special_float(value: float) -> bytes:
    if math.isnan(value):
        return b"NaN"
    return b"Infinity" if value > 0 else b"-Infinity"
