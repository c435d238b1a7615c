"""Frontend (client → server) messages of protocol v3: encode and decode.

Start-up phase packets (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) have no type byte;
they are told apart by the code in their first Int32. Everything after start-up is typed.

The three ``p`` messages (PasswordMessage, SASLInitialResponse, SASLResponse) share a type byte and
can only be told apart by what the server asked for, so :func:`decode_frontend` yields an
:class:`AuthenticationResponse` holding the raw body; the server state machine decodes it with the
class it expects (``SASLInitialResponse.decode(msg.data)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Self

from sqlgate.pgproto.base import CopyData, CopyDone, EmptyBody, FrontendMessage
from sqlgate.pgproto.buffer import I16, I32, U32, MessageFormatError, Reader, cstr, frame, untyped_frame

PROTOCOL_3_0 = 3 << 16
CANCEL_REQUEST_CODE = (1234 << 16) | 5678
SSL_REQUEST_CODE = (1234 << 16) | 5679
GSSENC_REQUEST_CODE = (1234 << 16) | 5680


def protocol_major(version: int) -> int:
    return version >> 16


def protocol_minor(version: int) -> int:
    return version & 0xFFFF


# ---------------------------------------------------------------- start-up phase (untyped packets)


@dataclass(frozen=True, slots=True)
class StartupMessage:
    """The first real packet: protocol version and ``name=value`` parameters (user, database, …)."""

    parameters: Mapping[str, str] = field(default_factory=dict)
    protocol_version: int = PROTOCOL_3_0

    def encode(self) -> bytes:
        body = I32.pack(self.protocol_version)
        body += b"".join(cstr(k) + cstr(v) for k, v in self.parameters.items()) + b"\x00"
        return untyped_frame(body)

    @classmethod
    def decode(cls, body: bytes) -> StartupMessage:
        r = Reader(body)
        version = r.int32()
        params: dict[str, str] = {}
        while True:
            if r.remaining() == 0:
                # PostgreSQL requires the terminating NUL after the last pair.
                raise MessageFormatError("invalid startup packet layout: expected terminator as last byte")
            name = r.cstring()
            if name == "":
                break
            params[name] = r.cstring()
        r.end()
        return cls(params, version)


@dataclass(frozen=True, slots=True)
class SSLRequest:
    """Asks for TLS; the server answers one byte, ``S`` (then TLS) or ``N``."""

    def encode(self) -> bytes:
        return untyped_frame(I32.pack(SSL_REQUEST_CODE))


@dataclass(frozen=True, slots=True)
class GSSENCRequest:
    """Asks for GSSAPI encryption; sqlgate always answers ``N``."""

    def encode(self) -> bytes:
        return untyped_frame(I32.pack(GSSENC_REQUEST_CODE))


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Sent on a new connection to cancel the running query of the session holding this key."""

    process_id: int
    secret_key: bytes  # 4 bytes in protocol 3.0; up to 256 in 3.2

    def encode(self) -> bytes:
        return untyped_frame(I32.pack(CANCEL_REQUEST_CODE) + I32.pack(self.process_id) + self.secret_key)

    @classmethod
    def decode(cls, body: bytes) -> CancelRequest:
        r = Reader(body)
        r.int32()
        pid = r.int32()
        secret = r.rest()
        if not 4 <= len(secret) <= 256:
            raise MessageFormatError("invalid length of cancel request packet")
        return cls(pid, secret)


StartupPacket = StartupMessage | SSLRequest | GSSENCRequest | CancelRequest


def decode_startup_packet(body: bytes) -> StartupPacket:
    """Decode an untyped start-up packet body (everything after its length word)."""
    if len(body) < 4:
        raise MessageFormatError("invalid length of startup packet")
    code = I32.unpack_from(body)[0]
    if code == SSL_REQUEST_CODE:
        if len(body) != 4:
            raise MessageFormatError("invalid length of startup packet")
        return SSLRequest()
    if code == GSSENC_REQUEST_CODE:
        if len(body) != 4:
            raise MessageFormatError("invalid length of startup packet")
        return GSSENCRequest()
    if code == CANCEL_REQUEST_CODE:
        return CancelRequest.decode(body)
    return StartupMessage.decode(body)


# ---------------------------------------------------------------- typed messages


@dataclass(frozen=True, slots=True)
class Query(FrontendMessage):
    """Simple query: one string that may hold several statements."""

    type_byte: ClassVar[bytes] = b"Q"
    sql: str

    def encode(self) -> bytes:
        return frame(b"Q", cstr(self.sql))

    @classmethod
    def decode(cls, body: bytes) -> Query:
        r = Reader(body)
        sql = r.cstring()
        r.end()
        return cls(sql)


@dataclass(frozen=True, slots=True)
class Parse(FrontendMessage):
    """Create a prepared statement (``name`` "" is the unnamed one); 0 in ``param_oids`` = infer."""

    type_byte: ClassVar[bytes] = b"P"
    name: str
    sql: str
    param_oids: tuple[int, ...] = ()

    def encode(self) -> bytes:
        body = cstr(self.name) + cstr(self.sql) + I16.pack(len(self.param_oids))
        body += b"".join(U32.pack(o) for o in self.param_oids)
        return frame(b"P", body)

    @classmethod
    def decode(cls, body: bytes) -> Parse:
        r = Reader(body)
        name = r.cstring()
        sql = r.cstring()
        n = r.int16()
        if n < 0:
            raise MessageFormatError()
        oid_list = tuple(r.uint32() for _ in range(n))
        r.end()
        return cls(name, sql, oid_list)


@dataclass(frozen=True, slots=True)
class Bind(FrontendMessage):
    """Bind parameter values to a prepared statement, creating a portal."""

    type_byte: ClassVar[bytes] = b"B"
    portal: str
    statement: str
    param_formats: tuple[int, ...] = ()
    params: tuple[bytes | None, ...] = ()
    result_formats: tuple[int, ...] = ()

    def encode(self) -> bytes:
        parts = [cstr(self.portal), cstr(self.statement), I16.pack(len(self.param_formats))]
        parts.extend(I16.pack(f) for f in self.param_formats)
        parts.append(I16.pack(len(self.params)))
        for value in self.params:
            if value is None:
                parts.append(I32.pack(-1))
            else:
                parts.append(I32.pack(len(value)))
                parts.append(value)
        parts.append(I16.pack(len(self.result_formats)))
        parts.extend(I16.pack(f) for f in self.result_formats)
        return frame(b"B", b"".join(parts))

    @classmethod
    def decode(cls, body: bytes) -> Bind:
        r = Reader(body)
        portal = r.cstring()
        statement = r.cstring()
        param_formats = r.int16_list()
        n = r.int16()
        if n < 0:
            raise MessageFormatError()
        values: list[bytes | None] = []
        for _ in range(n):
            size = r.int32()
            if size == -1:
                values.append(None)
            elif size < 0:
                raise MessageFormatError("invalid parameter length in Bind message")
            else:
                values.append(r.bytes(size))
        result_formats = r.int16_list()
        r.end()
        return cls(portal, statement, param_formats, tuple(values), result_formats)


@dataclass(frozen=True, slots=True)
class _TargetMessage(FrontendMessage):
    """A message naming a prepared statement (``kind`` "S") or a portal ("P")."""

    type_byte: ClassVar[bytes] = b"?"
    kind: str
    name: str = ""

    def encode(self) -> bytes:
        return frame(self.type_byte, self.kind.encode("ascii") + cstr(self.name))

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = Reader(body)
        kind = chr(r.byte())
        name = r.cstring()
        r.end()
        return cls(kind, name)


@dataclass(frozen=True, slots=True)
class Describe(_TargetMessage):
    """Describe a prepared statement (``kind`` "S") or a portal ("P")."""

    type_byte: ClassVar[bytes] = b"D"


@dataclass(frozen=True, slots=True)
class Execute(FrontendMessage):
    """Run a portal, returning at most ``max_rows`` rows (0 = no limit)."""

    type_byte: ClassVar[bytes] = b"E"
    portal: str = ""
    max_rows: int = 0

    def encode(self) -> bytes:
        return frame(b"E", cstr(self.portal) + I32.pack(self.max_rows))

    @classmethod
    def decode(cls, body: bytes) -> Execute:
        r = Reader(body)
        portal = r.cstring()
        max_rows = r.int32()
        r.end()
        return cls(portal, max_rows)


@dataclass(frozen=True, slots=True)
class Close(_TargetMessage):
    """Close a prepared statement ("S") or a portal ("P")."""

    type_byte: ClassVar[bytes] = b"C"


@dataclass(frozen=True, slots=True)
class Sync(EmptyBody, FrontendMessage):
    """End of an extended-query batch: the server answers ReadyForQuery."""

    type_byte: ClassVar[bytes] = b"S"


@dataclass(frozen=True, slots=True)
class Flush(EmptyBody, FrontendMessage):
    """Send whatever output is pending, without ending the batch."""

    type_byte: ClassVar[bytes] = b"H"


@dataclass(frozen=True, slots=True)
class Terminate(EmptyBody, FrontendMessage):
    """The client is leaving; the server closes the socket."""

    type_byte: ClassVar[bytes] = b"X"


@dataclass(frozen=True, slots=True)
class AuthenticationResponse(FrontendMessage):
    """A ``p`` message whose meaning depends on what the server asked for (see module docstring)."""

    type_byte: ClassVar[bytes] = b"p"
    data: bytes

    def encode(self) -> bytes:
        return frame(b"p", self.data)

    @classmethod
    def decode(cls, body: bytes) -> AuthenticationResponse:
        return cls(bytes(body))


@dataclass(frozen=True, slots=True)
class PasswordMessage(FrontendMessage):
    """A cleartext (or md5) password."""

    type_byte: ClassVar[bytes] = b"p"
    password: str

    def encode(self) -> bytes:
        return frame(b"p", cstr(self.password))

    @classmethod
    def decode(cls, body: bytes) -> PasswordMessage:
        r = Reader(body)
        password = r.cstring()
        r.end()
        return cls(password)


@dataclass(frozen=True, slots=True)
class SASLInitialResponse(FrontendMessage):
    """The chosen SASL mechanism and the client-first-message (``data`` None: none sent)."""

    type_byte: ClassVar[bytes] = b"p"
    mechanism: str
    data: bytes | None = None

    def encode(self) -> bytes:
        if self.data is None:
            return frame(b"p", cstr(self.mechanism) + I32.pack(-1))
        return frame(b"p", cstr(self.mechanism) + I32.pack(len(self.data)) + self.data)

    @classmethod
    def decode(cls, body: bytes) -> SASLInitialResponse:
        r = Reader(body)
        mechanism = r.cstring()
        size = r.int32()
        data = None if size == -1 else r.bytes(size)
        r.end()
        return cls(mechanism, data)


@dataclass(frozen=True, slots=True)
class SASLResponse(FrontendMessage):
    """A later SASL message (the client-final-message for SCRAM)."""

    type_byte: ClassVar[bytes] = b"p"
    data: bytes

    def encode(self) -> bytes:
        return frame(b"p", self.data)

    @classmethod
    def decode(cls, body: bytes) -> SASLResponse:
        return cls(bytes(body))


@dataclass(frozen=True, slots=True)
class CopyFail(FrontendMessage):
    """The client aborts a COPY FROM STDIN."""

    type_byte: ClassVar[bytes] = b"f"
    message: str

    def encode(self) -> bytes:
        return frame(b"f", cstr(self.message))

    @classmethod
    def decode(cls, body: bytes) -> CopyFail:
        r = Reader(body)
        message = r.cstring()
        r.end()
        return cls(message)


@dataclass(frozen=True, slots=True)
class FunctionCall(FrontendMessage):
    """The legacy fast-path function call; kept raw (sqlgate refuses it)."""

    type_byte: ClassVar[bytes] = b"F"
    body: bytes

    def encode(self) -> bytes:
        return frame(b"F", self.body)

    @classmethod
    def decode(cls, body: bytes) -> FunctionCall:
        return cls(bytes(body))


@dataclass(frozen=True, slots=True)
class UnknownMessage(FrontendMessage):
    """A typed message whose type byte means nothing in protocol v3 (PostgreSQL: FATAL 08P01)."""

    type_byte: ClassVar[bytes] = b"\x00"
    type_code: bytes
    body: bytes

    def encode(self) -> bytes:
        return frame(self.type_code, self.body)


FRONTEND_TYPES: dict[bytes, type[FrontendMessage]] = {
    cls.type_byte: cls
    for cls in (
        Query,
        Parse,
        Bind,
        Describe,
        Execute,
        Close,
        Sync,
        Flush,
        Terminate,
        AuthenticationResponse,
        CopyData,
        CopyDone,
        CopyFail,
        FunctionCall,
    )
}


def decode_frontend(type_byte: bytes, body: bytes) -> FrontendMessage:
    """Decode one typed frontend message; unknown type bytes give an :class:`UnknownMessage`."""
    cls = FRONTEND_TYPES.get(type_byte)
    if cls is None:
        return UnknownMessage(type_byte, bytes(body))
    return cls.decode(body)
