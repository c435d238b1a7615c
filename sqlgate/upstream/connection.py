"""One client connection to a PostgreSQL server: start-up, authentication, framed reads, cancel.

Messages are encoded and decoded with :mod:`sqlgate.pgproto`; this module adds only the I/O. Reads
are buffered: :meth:`UpstreamConnection.read_message` frames one message out of whatever bytes have
arrived, and :meth:`UpstreamConnection.read_chunk` hands the raw bytes to callers that frame a
stream themselves (the pass-through hot loop steps over DataRows by their length words).

Failures while connecting are :class:`ConnectFailed` (the server's refusal fields, or the OS error as
``__cause__``): callers phrase them for their clients without secrets. A connection that breaks
later raises :class:`ConnectionBroken` and is never reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlgate.errors import PgError
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto.buffer import I32

_READ_SIZE = 1 << 18
_SHUTDOWN_STATES = frozenset({"57P01", "57P02", "57P03"})


class ConnectionBroken(Exception):
    """The connection is gone or out of step (never reused)."""


class MessageTooLarge(ConnectionBroken):
    """The server sent a message longer than the connection's ``max_message_size`` (not buffered;
    the connection is dropped)."""


class ConnectFailed(Exception):
    """Connecting failed. ``server_error`` holds the server's ErrorResponse fields when it refused
    the start-up (wrong password, unknown database, too many connections); otherwise the OS error is
    the ``__cause__``. ``reason`` is a short secret-free description."""

    def __init__(self, reason: str, server_error: Mapping[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.server_error = dict(server_error) if server_error else None

    @property
    def sqlstate(self) -> str:
        return (self.server_error or {}).get("C", "")


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect. ``host`` is a name, an address or a unix-socket directory
    (starting with ``/``); ``parameters`` go into the StartupMessage (settings, application_name)."""

    host: str
    port: int
    user: str
    database: str
    password: str = field(default="", repr=False)
    tls: ssl.SSLContext | None = field(default=None, repr=False)
    tls_server_name: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_unix_socket(self) -> bool:
        return self.host.startswith("/")

    @property
    def socket_path(self) -> str:
        return f"{self.host.rstrip('/')}/.s.PGSQL.{self.port}"

    def with_database(self, database: str, **changes: Any) -> Endpoint:
        """The same server with another database (and other fields changed)."""
        from dataclasses import replace

        return replace(self, database=database, **changes)


async def _open_stream(endpoint: Endpoint) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if endpoint.is_unix_socket:
        return await asyncio.open_unix_connection(endpoint.socket_path, limit=_READ_SIZE)
    return await asyncio.open_connection(endpoint.host, endpoint.port, limit=_READ_SIZE)


class UpstreamConnection:
    """A started-up connection. Not safe for concurrent use: one user at a time (a pool hands it out)."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, endpoint: Endpoint
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.endpoint = endpoint
        self.backend_pid = 0
        self.backend_secret = b""
        self.parameters: dict[str, str] = {}  # ParameterStatus values (server_version, …)
        self.broken = False
        self.last_used = time.monotonic()
        # Syncs sent whose ReadyForQuery has not been read yet: a user may send a final Sync and
        # return at once; the connection's next user reads the answer first (see wait_ready).
        self.pending_ready = 0
        # Named statements prepared on this connection by its users, by SQL text (the datasource
        # pass-through path parses each generated statement once per connection).
        self.statements: dict[str, str] = {}
        self.statement_seq = 0  # names statements uniquely for the connection's life
        self._buf = bytearray()
        self._pos = 0
        # Longest message accepted from the server; a longer one is refused before it is buffered.
        self.max_message_size = 1 << 30

    @property
    def server_version(self) -> str:
        return self.parameters.get("server_version", "")

    # ------------------------------------------------------------------ start-up

    @classmethod
    async def connect(cls, endpoint: Endpoint) -> UpstreamConnection:
        """Open, negotiate TLS, authenticate. Raises :class:`ConnectFailed`."""
        try:
            reader, writer = await _open_stream(endpoint)
        except OSError as exc:
            raise ConnectFailed("cannot open a connection") from exc
        conn = cls(reader, writer, endpoint)
        try:
            if endpoint.tls is not None:
                await conn._start_tls(endpoint)
            await conn._startup(endpoint)
        except ConnectFailed:
            conn.close()
            raise
        except (OSError, asyncio.IncompleteReadError, ConnectionBroken, PgError) as exc:
            conn.close()
            raise ConnectFailed("the connection failed during start-up") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    async def _start_tls(self, endpoint: Endpoint) -> None:
        assert endpoint.tls is not None
        self.writer.write(fe.SSLRequest().encode())
        answer = await self.reader.readexactly(1)
        if answer != b"S":
            raise ConnectFailed("the server does not accept TLS connections")
        await self.writer.start_tls(endpoint.tls, server_hostname=endpoint.tls_server_name or endpoint.host)

    async def _startup(self, endpoint: Endpoint) -> None:
        params = {"user": endpoint.user, "database": endpoint.database, **endpoint.parameters}
        self.writer.write(fe.StartupMessage(params).encode())
        password = endpoint.password
        scram: Any = None
        while True:
            kind, body = await self.read_message()
            if kind == b"R":
                message = be.decode_backend(kind, body)
                if isinstance(message, be.AuthenticationOk):
                    continue
                if isinstance(message, be.AuthenticationCleartextPassword):
                    self.writer.write(fe.PasswordMessage(password).encode())
                elif isinstance(message, be.AuthenticationMD5Password):
                    inner = hashlib.md5((password + endpoint.user).encode()).hexdigest()
                    digest = hashlib.md5(inner.encode() + message.salt).hexdigest()
                    self.writer.write(fe.PasswordMessage("md5" + digest).encode())
                elif isinstance(message, be.AuthenticationSASL):
                    if "SCRAM-SHA-256" not in message.mechanisms:
                        raise ConnectFailed("the server asks for an unsupported SASL mechanism")
                    import scramp

                    scram = scramp.ScramClient(["SCRAM-SHA-256"], endpoint.user, password)
                    first = scram.get_client_first().encode()
                    self.writer.write(fe.SASLInitialResponse("SCRAM-SHA-256", first).encode())
                elif isinstance(message, be.AuthenticationSASLContinue) and scram is not None:
                    scram.set_server_first(message.data.decode())
                    self.writer.write(fe.SASLResponse(scram.get_client_final().encode()).encode())
                elif isinstance(message, be.AuthenticationSASLFinal) and scram is not None:
                    scram.set_server_final(message.data.decode())
                else:
                    raise ConnectFailed("the server asks for an unsupported authentication method")
            elif kind == b"K":
                self.backend_pid = I32.unpack_from(body)[0]
                self.backend_secret = body[4:]
            elif kind == b"S":
                status = be.ParameterStatus.decode(body)
                self.parameters[status.name] = status.value
            elif kind == b"Z":
                return
            elif kind == b"E":
                fields = be.ErrorResponse.decode(body).fields
                raise ConnectFailed(startup_refusal_reason(fields), fields)
            # NoticeResponse and NegotiateProtocolVersion: nothing to do

    # ------------------------------------------------------------------ reading

    async def _receive(self) -> bytes:
        """The next bytes from the socket (ConnectionBroken at end of stream)."""
        try:
            data = await self.reader.read(_READ_SIZE)
        except OSError as exc:
            self.broken = True
            raise ConnectionBroken(str(exc)) from None
        if not data:
            self.broken = True
            raise ConnectionBroken("end of stream")
        return data

    async def _fill(self) -> None:
        data = await self._receive()
        if self._pos and self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        self._buf += data

    async def read_frame(self) -> tuple[bytes, int, int]:
        """The next whole message as (type byte, start, end) offsets into :attr:`buffer`; valid until
        the next read."""
        while True:
            buf, pos = self._buf, self._pos
            if len(buf) - pos >= 5:
                end = pos + 1 + int.from_bytes(buf[pos + 1 : pos + 5], "big")
                if end <= pos + 4:
                    self.broken = True
                    raise ConnectionBroken("invalid message length from the server")
                if end - pos > self.max_message_size:
                    self.broken = True
                    raise MessageTooLarge(f"a message of {end - pos} bytes")
                if len(buf) >= end:
                    self._pos = end
                    return bytes(buf[pos : pos + 1]), pos, end
            if pos > 1 << 16 and pos * 2 > len(buf):
                del buf[:pos]
                self._pos = 0
            await self._fill()

    @property
    def buffer(self) -> bytearray:
        return self._buf

    async def read_message(self) -> tuple[bytes, bytes]:
        """The next message as (type byte, body)."""
        kind, start, end = await self.read_frame()
        return kind, bytes(self._buf[start + 5 : end])

    async def read_chunk(self) -> bytes:
        """Bytes not yet read as messages (at least one; waits for them). ConnectionBroken at end."""
        if self._pos < len(self._buf):
            data = bytes(self._buf[self._pos :])
            self._buf.clear()
            self._pos = 0
            return data
        self._buf.clear()
        self._pos = 0
        return await self._receive()

    def unread(self, data: bytes) -> None:
        """Put back bytes taken with :meth:`read_chunk` but not consumed (they are read again first)."""
        self._buf = bytearray(data) + self._buf[self._pos :]
        self._pos = 0

    async def wait_ready(self) -> None:
        """Read up to the ReadyForQuery of every Sync sent so far (ConnectionBroken on failure)."""
        while self.pending_ready:
            kind, _, _ = await self.read_frame()
            if kind == b"Z":
                self.pending_ready -= 1

    async def simple_query(self, sql: str) -> list[tuple[str | None, ...]]:
        """Run ``sql`` (simple protocol) and return the text rows of its last result. A server error
        is raised as its :class:`PgError` after the connection is back in step."""
        rows: list[tuple[str | None, ...]] = []
        error: PgError | None = None
        self.send(fe.Query(sql).encode())
        while True:
            kind, body = await self.read_message()
            if kind == b"T":
                rows = []
            elif kind == b"D":
                values = be.DataRow.decode(body).values
                rows.append(tuple(None if v is None else v.decode() for v in values))
            elif kind == b"E":
                error = be.ErrorResponse.decode(body).to_error()
            elif kind == b"Z":
                if error is not None:
                    raise error
                return rows

    # ------------------------------------------------------------------ writing, cancel, close

    def send(self, data: bytes) -> None:
        if self.broken or self.writer.is_closing():
            self.broken = True
            raise ConnectionBroken("connection closed")
        self.writer.write(data)

    @property
    def is_usable(self) -> bool:
        return not (self.broken or self.writer.is_closing() or self.reader.at_eof())

    async def cancel(self) -> None:
        """Send a CancelRequest for whatever this connection's backend runs (best effort, no TLS)."""
        request = fe.CancelRequest(self.backend_pid, self.backend_secret)
        try:
            _, writer = await _open_stream(self.endpoint)
            writer.write(request.encode())
            await writer.drain()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        except OSError:
            pass

    def close(self) -> None:
        """Drop the connection (Terminate first when the stream is still healthy)."""
        if not self.broken:
            with contextlib.suppress(Exception):
                self.writer.write(fe.Terminate().encode())
        self.broken = True
        with contextlib.suppress(Exception):
            self.writer.close()


def startup_refusal_reason(fields: Mapping[str, str]) -> str:
    """A secret-free reason for a server's ErrorResponse during start-up."""
    code = fields.get("C", "")
    if code in ("28P01", "28000"):
        return "authentication failed"
    if code == "3D000":
        return "the database does not exist"
    if code == "53300":
        return "too many connections"
    if code in _SHUTDOWN_STATES:
        return "the server is starting up or shutting down"
    return f"the server refused the connection (SQLSTATE {code or 'unknown'})"


def is_connection_state(sqlstate: str) -> bool:
    """SQLSTATEs after which the connection is gone (08xxx, administrator shutdown)."""
    return sqlstate.startswith("08") or sqlstate in _SHUTDOWN_STATES
