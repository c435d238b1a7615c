"""One client connection: the asyncio protocol, the start-up phase, authentication, then the session.

Reading: ``data_received`` feeds the incremental parser; the connection's task takes whole messages
from it. Reading pauses while more than a megabyte of complete messages waits (a client pipelining
without reading its results cannot make the server buffer without bound).

Writing goes through :class:`~sqlgate.wire.output.Output`; ``pause_writing``/``resume_writing`` from
the transport give the back-pressure.

A client that disappears while a statement runs has that statement cancelled (its task is cancelled,
which closes the datasource cursor) and its session freed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import time
from typing import TYPE_CHECKING, Any

from sqlgate.auth.authenticator import AuthenticationFailed, ClientInfo
from sqlgate.errors import (
    ADMIN_SHUTDOWN,
    CANNOT_CONNECT_NOW,
    INTERNAL_ERROR,
    INVALID_AUTHORIZATION_SPECIFICATION,
    PROTOCOL_VIOLATION,
    QUERY_CANCELED,
    TOO_MANY_CONNECTIONS,
    PgError,
)
from sqlgate.observability.logs import connection_log, log_event
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto.parser import FrontendParser
from sqlgate.planner import gucs
from sqlgate.planner.session import Session
from sqlgate.wire.output import ClientGone, Output
from sqlgate.wire.session_machine import FatalError, SessionMachine, Terminate
from sqlgate.wire.startup import read_startup

if TYPE_CHECKING:
    from sqlgate.wire.server import WireServer

log = logging.getLogger("sqlgate.wire")

_READ_HIGH_WATER = 1024 * 1024
_READ_LOW_WATER = 256 * 1024


class _Shutdown(Exception):
    """The server is draining: end this idle session with 57P01."""


class ClientConnection(asyncio.Protocol):
    """The server side of one client connection."""

    def __init__(self, server: WireServer) -> None:
        self.server = server
        self.options = server.options
        self.parser = FrontendParser(self.options.max_message_size)
        self.transport: Any = None
        self.out = Output(self, self.options.write_buffer_size, self._sent)
        self.task: asyncio.Task[None] | None = None
        self.machine: SessionMachine | None = None
        self.session: Session | None = None
        self.pid = 0
        self.secret = b""
        self.address = ""
        self.is_loopback = False
        self.tls = False
        self.admitted = False
        self.counted_credential: str | None = None  # set while counted in server.per_credential
        self.shutdown_requested = False
        self.idle = False
        self.close_reason = "client closed"
        self.username = ""
        self.application_name = ""
        self.database = ""
        self.started = time.monotonic()
        self.bytes_received = 0
        self._waiter: asyncio.Future[None] | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self._eof = False
        self._lost = False
        self._reading_paused = False
        self._in_session = False

    # ------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is not None:  # start_tls re-attaches the protocol: nothing to set up again
            return
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            self.address = str(peer[0])
            try:
                self.is_loopback = ipaddress.ip_address(self.address.split("%")[0]).is_loopback
            except ValueError:
                self.is_loopback = False
        else:  # a unix socket is local
            self.address = "local"
            self.is_loopback = True
        if self.server.starting_full():
            # As many sockets are still in start-up as sessions are allowed: refuse at once, so that
            # clients that connect and send nothing cannot use up the process's file descriptors.
            self._lost = True
            self._refused("starting")
            transport.write(
                be.error_response(
                    PgError(TOO_MANY_CONNECTIONS, "sorry, too many clients already", severity="FATAL")
                )
            )
            transport.close()
            return
        self.task = asyncio.get_running_loop().create_task(self.run())
        self.server.connection_made(self)

    def data_received(self, data: bytes) -> None:
        if self.task is None:  # refused in connection_made: nothing will read it
            return
        self.bytes_received += len(data)
        self.parser.feed(data)
        if self.server.metrics is not None:
            self.server.metrics.bytes_received.inc(len(data))
        self._wake()
        if (
            self.parser.buffered > _READ_HIGH_WATER
            and self.parser.has_complete_frame()
            and not self._reading_paused
        ):
            self._reading_paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._writable.set()
        self._wake()
        if self.machine is not None and self.machine.busy and self.task is not None and not self.task.done():
            # The client vanished mid-query: stop the work it asked for.
            self.close_reason = "client vanished during a query"
            self.task.cancel()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # ------------------------------------------------------------------ Sink (for Output)

    def write(self, data: bytes) -> None:
        if not self._lost and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    async def wait_writable(self) -> None:
        if self._lost:
            raise ClientGone
        await self._writable.wait()
        if self._lost:
            raise ClientGone

    def _sent(self, count: int) -> None:
        if self.server.metrics is not None:
            self.server.metrics.bytes_sent.inc(count)

    # ------------------------------------------------------------------ reading messages

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_message(self) -> Any:
        """The next whole message; raises ClientGone at end of input, ProtocolError on a broken stream."""
        while True:
            msg = self.parser.next_message()
            if msg is not None:
                if self._reading_paused and (
                    self.parser.buffered < _READ_LOW_WATER or not self.parser.has_complete_frame()
                ):
                    self._reading_paused = False
                    if not self._lost:
                        self.transport.resume_reading()
                return msg
            if self._eof or self._lost:
                raise ClientGone
            if self.shutdown_requested and self._in_session and not self._in_batch():
                raise _Shutdown
            self._waiter = asyncio.get_running_loop().create_future()
            self.idle = True
            try:
                await self._waiter
            finally:
                self.idle = False
                self._waiter = None

    def _refused(self, limit: str) -> None:
        if self.server.metrics is not None:
            self.server.metrics.connection_refused(limit)

    def _in_batch(self) -> bool:
        """An extended-protocol batch is under way (its Sync not yet handled)."""
        return self.machine is not None and self.machine.in_batch

    def request_shutdown(self) -> None:
        """Drain: an idle session ends now, a busy one after its current message."""
        self.shutdown_requested = True
        if not self._in_session and self.task is not None:
            self.task.cancel()
        self._wake()

    def cancel_running(self) -> None:
        """CancelRequest for this session."""
        if self.machine is not None:
            self.machine.cancel_running()

    # ------------------------------------------------------------------ authentication conversation

    async def send(self, message: bytes) -> None:
        self.out.write(message)
        self.out.flush()

    async def receive(self) -> bytes:
        msg = await self.next_message()
        if isinstance(msg, fe.AuthenticationResponse):
            return msg.data
        if isinstance(msg, fe.Terminate):
            raise ClientGone
        code = getattr(msg, "type_byte", b"?")
        raise FatalError(
            PgError(
                PROTOCOL_VIOLATION,
                f"expected password response, got message type {code[0] if code else 0}",
                severity="FATAL",
            )
        )

    # ------------------------------------------------------------------ the connection's task

    async def run(self) -> None:
        metrics = self.server.metrics
        if metrics is not None:
            metrics.connection_opened()
        try:
            try:
                async with asyncio.timeout(self.options.startup_timeout):
                    started = await self._startup()
            except TimeoutError:
                self.close_reason = "start-up timeout"
                if not self.parser.in_startup:
                    self._send_fatal(
                        PgError(QUERY_CANCELED, "canceling authentication due to timeout", severity="FATAL")
                    )
                return
            if started:
                await self._serve()
        except ClientGone:
            pass
        except Terminate:
            self.close_reason = "terminate"
        except FatalError as exc:
            self._send_fatal(exc.error)
        except PgError as exc:  # protocol errors and FATAL start-up errors
            self._send_fatal(exc)
        except _Shutdown:
            self._send_fatal(
                PgError(
                    ADMIN_SHUTDOWN, "terminating connection due to administrator command", severity="FATAL"
                )
            )
        except asyncio.CancelledError:
            if self.shutdown_requested and self._in_session:
                self._send_fatal(
                    PgError(
                        ADMIN_SHUTDOWN,
                        "terminating connection due to administrator command",
                        severity="FATAL",
                    )
                )
            elif self.shutdown_requested:
                self.close_reason = "server shutting down"
        except Exception:
            log.exception("connection task failed")
            self._send_fatal(PgError(INTERNAL_ERROR, "internal error", severity="FATAL"))
        finally:
            await self._finish()

    async def _finish(self) -> None:
        try:
            if self.machine is not None:
                await self.machine.close()
        except BaseException:
            log.warning("releasing a session failed", exc_info=True)
        if self.pid:
            self.server.registry.unregister(self.pid)
        if self.transport is not None:
            self.transport.close()
        metrics = self.server.metrics
        if metrics is not None:
            metrics.connection_closed()
            if self._in_session:
                metrics.sessions_open.dec()
        self.server.connection_done(self)
        if self._in_session:
            log_event(
                connection_log,
                "connection_closed",
                **self._log_fields(),
                duration_ms=(time.monotonic() - self.started) * 1000,
                queries=self.machine.queries if self.machine else 0,
                bytes_sent=self.out.bytes_sent,
                bytes_received=self.bytes_received,
                reason=self.close_reason,
            )

    def _log_fields(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "user": self.username,
            "database": self.database,
            "application_name": self.application_name,
            "client": self.address,
            "tls": self.tls,
        }

    def _send_fatal(self, error: PgError) -> None:
        if error.severity != "FATAL":
            error = PgError(
                error.sqlstate, error.message, severity="FATAL", detail=error.detail, hint=error.hint
            )
        self.close_reason = f"fatal {error.sqlstate}"
        self.out.write(be.error_response(error))
        self.out.flush()

    async def _startup(self) -> bool:
        """Negotiate TLS, read the start-up packet, authenticate. False when the connection just ends
        (a CancelRequest, a refused TLS)."""
        ssl_done = gss_done = False
        while True:
            msg = await self.next_message()
            if isinstance(msg, fe.SSLRequest) and not ssl_done:
                ssl_done = True
                if self.parser.buffered:
                    raise FatalError(
                        PgError(
                            PROTOCOL_VIOLATION,
                            "received unencrypted data after SSL request",
                            severity="FATAL",
                        )
                    )
                if self.options.tls is None:
                    self.write(b"N")
                    continue
                await self._start_tls()
                continue
            if isinstance(msg, fe.GSSENCRequest) and not gss_done:
                gss_done = True
                self.write(b"N")
                continue
            if isinstance(msg, fe.CancelRequest):
                self.close_reason = "cancel request"
                self.server.cancel(msg.process_id, msg.secret_key)
                return False
            if not isinstance(msg, fe.StartupMessage):
                # A second SSLRequest/GSSENCRequest reads as an unknown protocol version, as in PostgreSQL.
                raise FatalError(
                    PgError(
                        "0A000",
                        "unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0",
                        severity="FATAL",
                    )
                )
            await self._authenticate(msg)
            return True

    async def _start_tls(self) -> None:
        self.write(b"S")
        loop = asyncio.get_running_loop()
        transport = await loop.start_tls(
            self.transport,
            self,
            self.options.tls,
            server_side=True,
            ssl_handshake_timeout=self.options.startup_timeout,
        )
        if transport is None:  # pragma: no cover - only when the loop cannot do TLS
            raise ClientGone
        self.transport = transport
        self.tls = True

    async def _authenticate(self, startup: fe.StartupMessage) -> None:
        request = read_startup(startup)
        self.username = request.user
        self.database = request.database
        self.application_name = request.settings.get("application_name", "")
        if request.negotiate is not None:
            self.out.write(request.negotiate.encode())
        if self.options.require_tls and not self.tls:
            # PostgreSQL's answer when only hostssl lines match; refused before any password exchange.
            self._refused("require_tls")
            raise FatalError(
                PgError(
                    INVALID_AUTHORIZATION_SPECIFICATION,
                    f'connection requires TLS: host "{self.address}", user "{request.user}", '
                    f'database "{request.database}", no encryption',
                    severity="FATAL",
                    hint="This server accepts only encrypted connections: connect with sslmode=require.",
                )
            )
        if self.server.shutting_down:
            self._refused("shutting_down")
            raise FatalError(
                PgError(CANNOT_CONNECT_NOW, "the database system is shutting down", severity="FATAL")
            )
        if not self.server.admit(self):
            self._refused("max_connections")
            raise FatalError(
                PgError(TOO_MANY_CONNECTIONS, "sorry, too many clients already", severity="FATAL")
            )
        client = ClientInfo(
            address=self.address,
            is_loopback=self.is_loopback,
            tls=self.tls,
            channel_binding=self.options.channel_binding if self.tls else None,
        )
        try:
            ctx = await self.server.authenticator.authenticate(request.user, self, client)
        except AuthenticationFailed as exc:
            if self.server.metrics is not None:
                self.server.metrics.auth_failed(exc.reason)
            log_event(
                connection_log,
                "authentication_failed",
                logging.WARNING,
                user=request.user,
                client=self.address,
                reason=exc.reason,
            )
            raise FatalError(exc) from None
        except PgError as exc:  # malformed SASL messages and the like
            if self.server.metrics is not None:
                self.server.metrics.auth_failed("protocol")
            raise FatalError(exc) from None
        if not self.server.admit_credential(self, ctx.username):
            # Checked after authentication (as PostgreSQL's per-role limit): guessing a name must not
            # let anyone use up a credential's sessions.
            self._refused("per_credential")
            raise FatalError(
                PgError(
                    TOO_MANY_CONNECTIONS,
                    f'too many connections for credential "{ctx.username}"',
                    severity="FATAL",
                    detail=f"This credential may hold {self.options.max_connections_per_credential}"
                    " sessions at once (max_connections_per_credential).",
                )
            )
        self.pid, self.secret = self.server.registry.register(self)
        settings = dict(request.settings)
        settings.setdefault("session_authorization", ctx.username)
        self.session = Session(
            ctx,
            database=request.database,
            process_id=self.pid,
            client_address=self.address,
            settings=settings,
            tls=self.tls,
            max_statement_timeout=self.options.statement_timeout or None,
            max_result_rows=self.options.max_result_rows,
        )

    async def _serve(self) -> None:
        assert self.session is not None
        machine = SessionMachine(
            self.server.planner,
            self.session,
            self.out,
            metrics=self.server.metrics,
            log_queries=self.options.log_queries,
            audit=self.server.audit,
            unsupported=self.server.unsupported,
            refresh_context=_context_refresher(self.server.authenticator),
        )
        self.machine = machine
        self._in_session = True
        if self.server.metrics is not None:
            self.server.metrics.sessions_open.inc()
        log_event(
            connection_log,
            "connection_authorized",
            **self._log_fields(),
            role=self.session.ctx.role,
            datasource=self.session.ctx.datasource.name,
        )
        self.out.write(be.AuthenticationOk().encode())
        machine.send_initial_status()
        self.out.write(be.BackendKeyData(self.pid, self.secret).encode())
        machine.ready_for_query()
        while True:
            if self.shutdown_requested and not machine.in_batch:
                raise _Shutdown
            timeout, error = self._idle_timeout()
            if timeout:
                try:
                    async with asyncio.timeout(timeout):
                        msg = await self.next_message()
                except TimeoutError:
                    self.close_reason = "idle timeout"
                    raise FatalError(error) from None
            else:
                msg = await self.next_message()
            await machine.handle(msg)

    def _idle_timeout(self) -> tuple[float, PgError]:
        """Seconds this session may stay idle, and the error it then gets (0: no limit)."""
        session = self.session
        assert session is not None
        if session.transaction_status == "I":
            name, code, text = "idle_session_timeout", "57P05", "idle-session"
        else:
            name, code, text = "idle_in_transaction_session_timeout", "25P03", "idle-in-transaction"
        try:
            seconds = gucs.parse_milliseconds(session.settings.get(name, "0")) / 1000
        except ValueError:
            seconds = 0.0
        if not seconds and session.transaction_status == "I":
            seconds = self.options.idle_session_timeout
        error = PgError(code, f"terminating connection due to {text} timeout", severity="FATAL")
        return seconds, error


def _context_refresher(authenticator: Any) -> Any:
    """The authenticator's context refresher (None for stand-in authenticators in tests)."""
    contexts = getattr(authenticator, "contexts", None)
    return contexts.current if contexts is not None else None
