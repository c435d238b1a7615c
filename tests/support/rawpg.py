"""A raw-socket PostgreSQL client for protocol tests: send any bytes, read decoded backend messages.

Real drivers hide what tests need to see (message order, PortalSuspended, exact errors) and refuse to
send what tests need to send (bad start-up packets, garbage, oversized messages, pipelines).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from scramp import ScramClient

from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto.parser import BackendParser

Message = be.BackendMessage
# The ``connect`` fixture of tests/wire: ``await connect(user="alice")`` gives a started session.
Connect = Callable[..., Awaitable["RawPg"]]


class RawPg:
    """One connection to a server under test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.parser = BackendParser()
        self.params: dict[str, str] = {}
        self.key: be.BackendKeyData | None = None

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> RawPg:
        """TCP to host:port, or the unix socket of that port when ``host`` is a directory."""
        if host.startswith("/"):
            reader, writer = await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        else:
            reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, *messages: bytes | Any) -> None:
        """Send encoded messages (objects with ``encode()`` or raw bytes) in one write."""
        data = b"".join(m if isinstance(m, bytes | bytearray) else m.encode() for m in messages)
        self.writer.write(data)
        await self.writer.drain()

    async def read_byte(self, timeout: float = 5) -> bytes:
        """One raw byte (the answer to SSLRequest/GSSENCRequest)."""
        return await asyncio.wait_for(self.reader.readexactly(1), timeout)

    async def start_tls(self, context: ssl.SSLContext | None = None) -> None:
        ctx = context or ssl._create_unverified_context()
        await self.writer.start_tls(ctx, server_hostname="localhost")

    async def recv(self, timeout: float = 5) -> Message:
        """The next backend message; raises EOFError when the server closed the connection."""
        while True:
            msg = self.parser.next_message()
            if msg is not None:
                return msg
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                raise EOFError("server closed the connection")
            self.parser.feed(data)

    async def recv_until(self, kind: type[Message] = be.ReadyForQuery, timeout: float = 5) -> list[Message]:
        """Messages up to and including the first of type ``kind``."""
        out: list[Message] = []
        while True:
            msg = await self.recv(timeout)
            out.append(msg)
            if isinstance(msg, kind):
                return out

    async def closed(self, timeout: float = 5) -> bool:
        """True once the server closes the connection (messages before that are discarded)."""
        try:
            while True:
                await self.recv(timeout)
        except EOFError:
            return True
        except (ConnectionError, TimeoutError):
            return isinstance(self.reader.exception(), ConnectionError) if self.reader.exception() else False

    async def startup(
        self,
        user: str,
        password: str | None = None,
        *,
        database: str = "db",
        params: dict[str, str] | None = None,
        version: int = fe.PROTOCOL_3_0,
        channel_binding: bytes | None = None,
    ) -> list[Message]:
        """Start-up and authentication (cleartext or SCRAM); returns the messages up to ReadyForQuery
        or the FATAL ErrorResponse."""
        parameters = {"user": user, "database": database, **(params or {})}
        await self.send(fe.StartupMessage(parameters, version))
        seen: list[Message] = []
        scram: ScramClient | None = None
        while True:
            msg = await self.recv()
            seen.append(msg)
            if isinstance(msg, be.ErrorResponse) and not isinstance(msg, be.NoticeResponse):
                return seen
            if isinstance(msg, be.ParameterStatus):
                self.params[msg.name] = msg.value
            elif isinstance(msg, be.BackendKeyData):
                self.key = msg
            elif isinstance(msg, be.ReadyForQuery):
                return seen
            elif isinstance(msg, be.AuthenticationCleartextPassword):
                await self.send(fe.PasswordMessage(password or ""))
            elif isinstance(msg, be.AuthenticationSASL):
                plus = "SCRAM-SHA-256-PLUS" in msg.mechanisms and channel_binding is not None
                mechanism = "SCRAM-SHA-256-PLUS" if plus else "SCRAM-SHA-256"
                binding = ("tls-server-end-point", channel_binding) if plus else None
                scram = ScramClient([mechanism], user, password or "", channel_binding=binding)
                await self.send(fe.SASLInitialResponse(mechanism, scram.get_client_first().encode()))
            elif isinstance(msg, be.AuthenticationSASLContinue):
                assert scram is not None
                scram.set_server_first(msg.data.decode())
                await self.send(fe.SASLResponse(scram.get_client_final().encode()))
            elif isinstance(msg, be.AuthenticationSASLFinal):
                assert scram is not None
                scram.set_server_final(msg.data.decode())

    async def query(self, sql: str) -> list[Message]:
        await self.send(fe.Query(sql))
        return await self.recv_until()

    async def extended(self, messages: Iterable[Any], *, sync: bool = True) -> list[Message]:
        """Send messages (+ Sync) and read up to ReadyForQuery."""
        await self.send(*messages, *([fe.Sync()] if sync else []))
        return await self.recv_until()

    async def close(self) -> None:
        if not self.writer.is_closing():
            try:
                self.writer.write(fe.Terminate().encode())
                await self.writer.drain()
            except (ConnectionError, RuntimeError):
                pass
            self.writer.close()
        with contextlib.suppress(ConnectionError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(self.writer.wait_closed(), 2)


async def cancel(port: int, key: be.BackendKeyData, host: str = "127.0.0.1") -> None:
    """Send a CancelRequest for ``key`` on a new connection and wait for the server to close it."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(fe.CancelRequest(key.process_id, key.secret_key).encode())
    await writer.drain()
    await asyncio.wait_for(reader.read(), 5)
    writer.close()


def kinds(messages: Iterable[Message]) -> list[str]:
    """Message class names, for compact assertions."""
    return [type(m).__name__ for m in messages]


def rows(messages: Iterable[Message]) -> list[list[str | None]]:
    """Text values of DataRows."""
    return [
        [None if v is None else v.decode() for v in m.values] for m in messages if isinstance(m, be.DataRow)
    ]


def errors(messages: Iterable[Message]) -> list[str]:
    """SQLSTATEs of ErrorResponses."""
    return [m.code for m in messages if type(m) is be.ErrorResponse]
