"""A minimal PostgreSQL client for the pass-through path: connect, authenticate, stream DataRow bytes.

asyncpg decodes every value into a Python object; when the client wants the same types in the same
formats, the gateway can instead forward PostgreSQL's DataRow messages unchanged. This module holds
just what that needs: start-up (TLS via SSLRequest; trust, cleartext, MD5 and SCRAM-SHA-256
authentication), the extended-query messages, ErrorResponse parsing, CancelRequest, and a small pool.
Connections start with ``default_transaction_read_only=on`` and fixed output settings (UTC, ISO
dates, postgres intervals, hex bytea, UTF8), so every query is read-only without a BEGIN round trip
and the text the client receives does not depend on the server's configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import struct
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from sqlgate.errors import SYSTEM_ERROR, PgError
from sqlgate.sources.failures import cannot_connect, connection_lost, connection_reason
from sqlgate.sources.params import ConnectionSettings

I16 = struct.Struct("!h")
I32 = struct.Struct("!i")
U32_FROM = struct.Struct("!I").unpack_from

PROTOCOL_3_0 = 196608
SSL_REQUEST = 80877103
CANCEL_REQUEST = 80877102

# Session settings every pass-through connection starts with (the text the client receives).
SESSION_SETTINGS = {
    "application_name": "sqlgate",
    "client_encoding": "UTF8",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "TimeZone": "UTC",
    "bytea_output": "hex",
    "default_transaction_read_only": "on",
}

_SHUTDOWN_STATES = frozenset({"57P01", "57P02", "57P03"})


class ConnectionBroken(Exception):
    """The connection to the datasource is gone or out of step (never reused)."""


def cstr(text: str) -> bytes:
    return text.encode() + b"\x00"


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + I32.pack(len(body) + 4) + body


def parse_message(sql: str) -> bytes:
    """Parse of the unnamed statement, parameter types left to the server."""
    return message(b"P", b"\x00" + cstr(sql) + I16.pack(0))


def bind_message(params: Sequence[bytes | None], result_formats: Sequence[int]) -> bytes:
    """Bind of the unnamed portal: parameters in text format, results in ``result_formats``."""
    parts = [b"\x00\x00", I16.pack(0), I16.pack(len(params))]
    for value in params:
        parts.append(b"\xff\xff\xff\xff" if value is None else I32.pack(len(value)) + value)
    parts.append(I16.pack(len(result_formats)))
    parts.extend(I16.pack(f) for f in result_formats)
    return message(b"B", b"".join(parts))


DESCRIBE_PORTAL = message(b"D", b"P\x00")
FLUSH = message(b"H")
SYNC = message(b"S")
TERMINATE = message(b"X")


def execute_message(max_rows: int) -> bytes:
    return message(b"E", b"\x00" + I32.pack(max_rows))


def error_fields(body: bytes) -> dict[str, str]:
    """The fields of an ErrorResponse/NoticeResponse body."""
    fields: dict[str, str] = {}
    for part in body.split(b"\x00"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return fields


def pg_error(fields: dict[str, str]) -> PgError:
    """A PgError carrying the server's SQLSTATE, message, detail and hint (not its position: that
    points into generated SQL, not into what the client sent)."""
    return PgError(
        fields.get("C") or SYSTEM_ERROR,
        fields.get("M", "error"),
        detail=fields.get("D"),
        hint=fields.get("H"),
    )


def is_connection_state(sqlstate: str) -> bool:
    return sqlstate.startswith("08") or sqlstate in _SHUTDOWN_STATES


class RawConnection:
    """One started-up connection. Not safe for concurrent use (the pool hands it to one cursor)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: Any) -> None:
        self.reader = reader
        self.writer = writer
        self.address = address  # (host, port) or a unix-socket path, for cancel requests
        self.backend_pid = 0
        self.backend_secret = 0
        self.server_version = ""
        self.broken = False
        self.last_used = time.monotonic()
        # Syncs sent whose ReadyForQuery has not been read yet: a cursor's close sends Sync and
        # returns at once; the next user of the connection reads the answer first.
        self.pending_ready = 0

    # --- start-up ---

    @classmethod
    async def connect(cls, settings: ConnectionSettings, name: str) -> RawConnection:
        """Open, negotiate TLS, authenticate; 08006 (secret-free) on any failure."""
        host = settings.host or "localhost"
        port = settings.port or 5432
        try:
            if host.startswith("/"):
                address: Any = f"{host.rstrip('/')}/.s.PGSQL.{port}"
                reader, writer = await asyncio.open_unix_connection(address, limit=1 << 20)
            else:
                address = (host, port)
                reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        except OSError as exc:
            raise cannot_connect(name, connection_reason(exc)) from None
        conn = cls(reader, writer, address)
        try:
            if settings.tls is not None:
                await conn._start_tls(settings, host)
            await conn._startup(settings)
        except PgError:
            conn.close()
            raise
        except (OSError, asyncio.IncompleteReadError, ConnectionBroken) as exc:
            conn.close()
            raise cannot_connect(name, connection_reason(exc)) from None
        except BaseException:
            conn.close()
            raise
        return conn

    async def _start_tls(self, settings: ConnectionSettings, host: str) -> None:
        assert settings.tls is not None
        self.writer.write(I32.pack(8) + I32.pack(SSL_REQUEST))
        answer = await self.reader.readexactly(1)
        if answer != b"S":
            raise PgError("08006", "the datasource does not accept TLS connections")
        await self.writer.start_tls(settings.tls.context(), server_hostname=settings.tls.server_name or host)

    async def _startup(self, settings: ConnectionSettings) -> None:
        user = settings.user or "postgres"
        params = {"user": user, "database": settings.database or user, **SESSION_SETTINGS}
        body = I32.pack(PROTOCOL_3_0) + b"".join(cstr(k) + cstr(v) for k, v in params.items()) + b"\x00"
        self.writer.write(I32.pack(len(body) + 4) + body)
        password = settings.password or ""
        scram: Any = None
        while True:
            kind, body = await self.read_message()
            if kind == b"R":
                code = I32.unpack_from(body)[0]
                if code == 0:
                    continue
                if code == 3:
                    self.writer.write(message(b"p", cstr(password)))
                elif code == 5:
                    inner = hashlib.md5((password + user).encode()).hexdigest()
                    digest = hashlib.md5(inner.encode() + body[4:8]).hexdigest()
                    self.writer.write(message(b"p", cstr("md5" + digest)))
                elif code == 10:
                    import scramp

                    mechanisms = [m.decode() for m in body[4:].split(b"\x00") if m]
                    if "SCRAM-SHA-256" not in mechanisms:
                        raise PgError("08006", "the datasource asks for an unsupported SASL mechanism")
                    scram = scramp.ScramClient(["SCRAM-SHA-256"], user, password)
                    first = scram.get_client_first().encode()
                    self.writer.write(message(b"p", cstr("SCRAM-SHA-256") + I32.pack(len(first)) + first))
                elif code == 11 and scram is not None:
                    scram.set_server_first(body[4:].decode())
                    self.writer.write(message(b"p", scram.get_client_final().encode()))
                elif code == 12 and scram is not None:
                    scram.set_server_final(body[4:].decode())
                else:
                    raise PgError("08006", "the datasource asks for an unsupported authentication method")
            elif kind == b"K":
                self.backend_pid, self.backend_secret = struct.unpack_from("!ii", body)
            elif kind == b"S":
                key, _, value = body.rstrip(b"\x00").partition(b"\x00")
                if key == b"server_version":
                    self.server_version = value.decode()
            elif kind == b"Z":
                return
            elif kind == b"E":
                fields = error_fields(body)
                raise PgError("08006", _startup_reason(fields))
            # NoticeResponse and NegotiateProtocolVersion: nothing to do

    # --- messages ---

    async def read_message(self) -> tuple[bytes, bytes]:
        """One whole message (start-up and control traffic; rows are framed by the cursor)."""
        try:
            head = await self.reader.readexactly(5)
            body = await self.reader.readexactly(I32.unpack_from(head, 1)[0] - 4)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.broken = True
            raise ConnectionBroken(str(exc)) from None
        return head[:1], body

    async def wait_ready(self) -> None:
        """Read up to the ReadyForQuery of every Sync sent so far (ConnectionBroken on failure)."""
        while self.pending_ready:
            kind, _ = await self.read_message()
            if kind == b"Z":
                self.pending_ready -= 1

    async def read_chunk(self) -> bytes:
        """Whatever bytes have arrived (at least one); ConnectionBroken at end of stream."""
        try:
            data = await self.reader.read(1 << 18)
        except OSError as exc:
            self.broken = True
            raise ConnectionBroken(str(exc)) from None
        if not data:
            self.broken = True
            raise ConnectionBroken("end of stream")
        return data

    def send(self, data: bytes) -> None:
        if self.broken or self.writer.is_closing():
            self.broken = True
            raise ConnectionBroken("connection closed")
        self.writer.write(data)

    async def cancel(self) -> None:
        """Send a CancelRequest for whatever this connection's backend is running (best effort)."""
        try:
            if isinstance(self.address, str):
                _, writer = await asyncio.open_unix_connection(self.address)
            else:
                _, writer = await asyncio.open_connection(*self.address)
            writer.write(
                I32.pack(16)
                + I32.pack(CANCEL_REQUEST)
                + I32.pack(self.backend_pid)
                + I32.pack(self.backend_secret)
            )
            await writer.drain()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        except OSError:
            pass

    def close(self) -> None:
        """Drop the connection (Terminate when the stream is still healthy)."""
        if not self.broken:
            with contextlib.suppress(Exception):
                self.writer.write(TERMINATE)
        self.broken = True
        with contextlib.suppress(Exception):
            self.writer.close()


def _startup_reason(fields: dict[str, str]) -> str:
    code = fields.get("C", "")
    if code in ("28P01", "28000"):
        return "authentication failed"
    if code == "3D000":
        return "the database does not exist"
    if code == "53300":
        return "too many connections on the datasource"
    if code in _SHUTDOWN_STATES:
        return "the datasource server is starting up or shutting down"
    return f"the datasource refused the connection (SQLSTATE {code or 'unknown'})"


class RawPool:
    """Idle connections kept for reuse. Concurrency is bounded by the source's query slots, so the
    pool never makes anyone wait: it hands out an idle connection or opens a new one."""

    def __init__(
        self, settings: ConnectionSettings, *, name: str, connect_timeout: float, idle_timeout: float
    ) -> None:
        self._settings = settings
        self._name = name
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._idle: deque[RawConnection] = deque()
        self._in_use: set[RawConnection] = set()
        self.closed = False

    async def acquire(self) -> tuple[RawConnection, bool]:
        """A connection, and whether it is fresh (a reused one may have died while idle)."""
        if self.closed:
            raise connection_lost(self._name, "the datasource was closed")
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if conn.broken or conn.writer.is_closing() or conn.reader.at_eof():
                conn.close()
                continue
            if self._idle_timeout and now - conn.last_used > self._idle_timeout:
                conn.close()
                continue
            if conn.pending_ready:
                try:
                    async with asyncio.timeout(self._connect_timeout or None):
                        await conn.wait_ready()
                except (ConnectionBroken, TimeoutError):
                    conn.close()
                    continue
            self._in_use.add(conn)
            return conn, False
        try:
            async with asyncio.timeout(self._connect_timeout or None):
                conn = await RawConnection.connect(self._settings, self._name)
        except TimeoutError:
            raise cannot_connect(self._name, "connection timed out") from None
        self._in_use.add(conn)
        return conn, True

    def release(self, conn: RawConnection, *, reusable: bool) -> None:
        self._in_use.discard(conn)
        if reusable and not conn.broken and not self.closed:
            conn.last_used = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()

    def expire_idle(self) -> None:
        """Close every idle connection (after a failure they are likely dead too)."""
        while self._idle:
            self._idle.pop().close()

    def close(self) -> None:
        """Close idle connections now; ones in use close when they are released."""
        self.closed = True
        self.expire_idle()
