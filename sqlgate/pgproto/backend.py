"""Backend (server → client) messages of protocol v3: encode and decode.

The server writes these (``msg.encode()``, or the fast module functions for the hot path such as
:func:`command_complete`); a client of a real PostgreSQL reads them with :func:`decode_backend`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from sqlgate.errors import PgError
from sqlgate.pgproto.base import BackendMessage, CopyData, CopyDone, EmptyBody
from sqlgate.pgproto.buffer import I16, I32, U32, MessageFormatError, Reader, cstr, frame

# ---------------------------------------------------------------- authentication ('R' + code)

AUTH_OK = 0
AUTH_CLEARTEXT = 3
AUTH_MD5 = 5
AUTH_SASL = 10
AUTH_SASL_CONTINUE = 11
AUTH_SASL_FINAL = 12


@dataclass(frozen=True, slots=True)
class AuthenticationOk(BackendMessage):
    type_byte: ClassVar[bytes] = b"R"

    def encode(self) -> bytes:
        return frame(b"R", I32.pack(AUTH_OK))


@dataclass(frozen=True, slots=True)
class AuthenticationCleartextPassword(BackendMessage):
    type_byte: ClassVar[bytes] = b"R"

    def encode(self) -> bytes:
        return frame(b"R", I32.pack(AUTH_CLEARTEXT))


@dataclass(frozen=True, slots=True)
class AuthenticationMD5Password(BackendMessage):
    type_byte: ClassVar[bytes] = b"R"
    salt: bytes

    def encode(self) -> bytes:
        return frame(b"R", I32.pack(AUTH_MD5) + self.salt)


@dataclass(frozen=True, slots=True)
class AuthenticationSASL(BackendMessage):
    """The SASL mechanisms the server offers, most preferred first."""

    type_byte: ClassVar[bytes] = b"R"
    mechanisms: tuple[str, ...]

    def encode(self) -> bytes:
        return frame(b"R", I32.pack(AUTH_SASL) + b"".join(cstr(m) for m in self.mechanisms) + b"\x00")


@dataclass(frozen=True, slots=True)
class AuthenticationSASLContinue(BackendMessage):
    type_byte: ClassVar[bytes] = b"R"
    data: bytes

    def encode(self) -> bytes:
        return frame(b"R", I32.pack(AUTH_SASL_CONTINUE) + self.data)


@dataclass(frozen=True, slots=True)
class AuthenticationSASLFinal(BackendMessage):
    type_byte: ClassVar[bytes] = b"R"
    data: bytes

    def encode(self) -> bytes:
        return frame(b"R", I32.pack(AUTH_SASL_FINAL) + self.data)


def _decode_authentication(body: bytes) -> BackendMessage:
    r = Reader(body)
    code = r.int32()
    if code == AUTH_OK:
        r.end()
        return AuthenticationOk()
    if code == AUTH_CLEARTEXT:
        r.end()
        return AuthenticationCleartextPassword()
    if code == AUTH_MD5:
        return AuthenticationMD5Password(r.bytes(4))
    if code == AUTH_SASL:
        mechanisms = []
        while True:
            name = r.cstring()
            if not name:
                break
            mechanisms.append(name)
        r.end()
        return AuthenticationSASL(tuple(mechanisms))
    if code == AUTH_SASL_CONTINUE:
        return AuthenticationSASLContinue(r.rest())
    if code == AUTH_SASL_FINAL:
        return AuthenticationSASLFinal(r.rest())
    raise MessageFormatError(f"unsupported authentication request {code}")


# ---------------------------------------------------------------- session set-up


@dataclass(frozen=True, slots=True)
class ParameterStatus(BackendMessage):
    type_byte: ClassVar[bytes] = b"S"
    name: str
    value: str

    def encode(self) -> bytes:
        return frame(b"S", cstr(self.name) + cstr(self.value))

    @classmethod
    def decode(cls, body: bytes) -> ParameterStatus:
        r = Reader(body)
        name, value = r.cstring(), r.cstring()
        r.end()
        return cls(name, value)


@dataclass(frozen=True, slots=True)
class BackendKeyData(BackendMessage):
    """The key a client needs to cancel this session's queries."""

    type_byte: ClassVar[bytes] = b"K"
    process_id: int
    secret_key: bytes

    def encode(self) -> bytes:
        return frame(b"K", I32.pack(self.process_id) + self.secret_key)

    @classmethod
    def decode(cls, body: bytes) -> BackendKeyData:
        r = Reader(body)
        pid = r.int32()
        return cls(pid, r.rest())


@dataclass(frozen=True, slots=True)
class ReadyForQuery(BackendMessage):
    """``status``: I idle, T in a transaction block, E in a failed transaction block."""

    type_byte: ClassVar[bytes] = b"Z"
    status: str = "I"

    def encode(self) -> bytes:
        return ready_for_query(self.status)

    @classmethod
    def decode(cls, body: bytes) -> ReadyForQuery:
        if len(body) != 1:
            raise MessageFormatError()
        return cls(chr(body[0]))


@dataclass(frozen=True, slots=True)
class NegotiateProtocolVersion(BackendMessage):
    """Sent when the client asked for a newer 3.x minor or for ``_pq_.`` options we do not know."""

    type_byte: ClassVar[bytes] = b"v"
    newest_version: int
    unrecognized_options: tuple[str, ...] = ()

    def encode(self) -> bytes:
        body = I32.pack(self.newest_version) + I32.pack(len(self.unrecognized_options))
        return frame(b"v", body + b"".join(cstr(o) for o in self.unrecognized_options))

    @classmethod
    def decode(cls, body: bytes) -> NegotiateProtocolVersion:
        r = Reader(body)
        version = r.int32()
        n = r.int32()
        options = tuple(r.cstring() for _ in range(n))
        r.end()
        return cls(version, options)


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class FieldDescription:
    """One column of a RowDescription."""

    name: str
    type_oid: int
    type_size: int = -1
    type_modifier: int = -1
    format: int = 0
    table_oid: int = 0
    column_number: int = 0

    def encode(self) -> bytes:
        return (
            cstr(self.name)
            + U32.pack(self.table_oid)
            + I16.pack(self.column_number)
            + U32.pack(self.type_oid)
            + I16.pack(self.type_size)
            + I32.pack(self.type_modifier)
            + I16.pack(self.format)
        )


@dataclass(frozen=True, slots=True)
class RowDescription(BackendMessage):
    type_byte: ClassVar[bytes] = b"T"
    fields: tuple[FieldDescription, ...]

    def encode(self) -> bytes:
        return frame(b"T", I16.pack(len(self.fields)) + b"".join(f.encode() for f in self.fields))

    @classmethod
    def decode(cls, body: bytes) -> RowDescription:
        r = Reader(body)
        n = r.int16()
        fields = []
        for _ in range(n):
            name = r.cstring()
            table_oid = r.uint32()
            column_number = r.int16()
            type_oid = r.uint32()
            type_size = r.int16()
            type_modifier = r.int32()
            fmt = r.int16()
            fields.append(
                FieldDescription(name, type_oid, type_size, type_modifier, fmt, table_oid, column_number)
            )
        r.end()
        return cls(tuple(fields))


@dataclass(frozen=True, slots=True)
class DataRow(BackendMessage):
    """One row; each value already encoded (text or binary), None for NULL."""

    type_byte: ClassVar[bytes] = b"D"
    values: tuple[bytes | None, ...]

    def encode(self) -> bytes:
        parts = [I16.pack(len(self.values))]
        for v in self.values:
            if v is None:
                parts.append(b"\xff\xff\xff\xff")
            else:
                parts.append(I32.pack(len(v)))
                parts.append(v)
        return frame(b"D", b"".join(parts))

    @classmethod
    def decode(cls, body: bytes) -> DataRow:
        r = Reader(body)
        n = r.int16()
        values: list[bytes | None] = []
        for _ in range(n):
            size = r.int32()
            values.append(None if size == -1 else r.bytes(size))
        r.end()
        return cls(tuple(values))


@dataclass(frozen=True, slots=True)
class CommandComplete(BackendMessage):
    type_byte: ClassVar[bytes] = b"C"
    tag: str

    def encode(self) -> bytes:
        return command_complete(self.tag)

    @classmethod
    def decode(cls, body: bytes) -> CommandComplete:
        r = Reader(body)
        tag = r.cstring()
        r.end()
        return cls(tag)


@dataclass(frozen=True, slots=True)
class ParameterDescription(BackendMessage):
    type_byte: ClassVar[bytes] = b"t"
    type_oids: tuple[int, ...]

    def encode(self) -> bytes:
        return frame(b"t", I16.pack(len(self.type_oids)) + b"".join(U32.pack(o) for o in self.type_oids))

    @classmethod
    def decode(cls, body: bytes) -> ParameterDescription:
        r = Reader(body)
        n = r.uint16()
        oid_list = tuple(r.uint32() for _ in range(n))
        r.end()
        return cls(oid_list)


@dataclass(frozen=True, slots=True)
class EmptyQueryResponse(EmptyBody, BackendMessage):
    type_byte: ClassVar[bytes] = b"I"


@dataclass(frozen=True, slots=True)
class ParseComplete(EmptyBody, BackendMessage):
    type_byte: ClassVar[bytes] = b"1"


@dataclass(frozen=True, slots=True)
class BindComplete(EmptyBody, BackendMessage):
    type_byte: ClassVar[bytes] = b"2"


@dataclass(frozen=True, slots=True)
class CloseComplete(EmptyBody, BackendMessage):
    type_byte: ClassVar[bytes] = b"3"


@dataclass(frozen=True, slots=True)
class NoData(EmptyBody, BackendMessage):
    type_byte: ClassVar[bytes] = b"n"


@dataclass(frozen=True, slots=True)
class PortalSuspended(EmptyBody, BackendMessage):
    type_byte: ClassVar[bytes] = b"s"


@dataclass(frozen=True, slots=True)
class _CopyResponse(BackendMessage):
    type_byte: ClassVar[bytes] = b"?"
    format: int = 0
    column_formats: tuple[int, ...] = ()

    def encode(self) -> bytes:
        body = bytes([self.format]) + I16.pack(len(self.column_formats))
        return frame(self.type_byte, body + b"".join(I16.pack(f) for f in self.column_formats))

    @classmethod
    def decode(cls, body: bytes) -> _CopyResponse:
        r = Reader(body)
        fmt = r.byte()
        formats = r.int16_list()
        r.end()
        return cls(fmt, formats)


@dataclass(frozen=True, slots=True)
class CopyInResponse(_CopyResponse):
    type_byte: ClassVar[bytes] = b"G"


@dataclass(frozen=True, slots=True)
class CopyOutResponse(_CopyResponse):
    type_byte: ClassVar[bytes] = b"H"


@dataclass(frozen=True, slots=True)
class NotificationResponse(BackendMessage):
    type_byte: ClassVar[bytes] = b"A"
    process_id: int
    channel: str
    payload: str

    def encode(self) -> bytes:
        return frame(b"A", I32.pack(self.process_id) + cstr(self.channel) + cstr(self.payload))

    @classmethod
    def decode(cls, body: bytes) -> NotificationResponse:
        r = Reader(body)
        pid = r.int32()
        channel, payload = r.cstring(), r.cstring()
        r.end()
        return cls(pid, channel, payload)


# ---------------------------------------------------------------- errors and notices

# Field codes of ErrorResponse / NoticeResponse.
FIELD_SEVERITY = "S"
FIELD_SEVERITY_NONLOCALIZED = "V"
FIELD_CODE = "C"
FIELD_MESSAGE = "M"
FIELD_DETAIL = "D"
FIELD_HINT = "H"
FIELD_POSITION = "P"

_EXTRA_FIELD_CODES = {
    "internal_position": "p",
    "internal_query": "q",
    "where": "W",
    "schema": "s",
    "table": "t",
    "column": "c",
    "datatype": "d",
    "constraint": "n",
}


def error_fields(err: PgError) -> dict[str, str]:
    """The ErrorResponse/NoticeResponse fields for ``err``, in the order PostgreSQL sends them."""
    fields = {
        FIELD_SEVERITY: err.severity,
        FIELD_SEVERITY_NONLOCALIZED: err.severity,
        FIELD_CODE: err.sqlstate,
        FIELD_MESSAGE: err.message,
    }
    if err.detail:
        fields[FIELD_DETAIL] = err.detail
    if err.hint:
        fields[FIELD_HINT] = err.hint
    if err.position:
        fields[FIELD_POSITION] = str(err.position)
    for key, value in err.extra.items():
        code = _EXTRA_FIELD_CODES.get(key, key if len(key) == 1 else None)
        if code:
            fields[code] = value
    return fields


@dataclass(frozen=True, slots=True)
class ErrorResponse(BackendMessage):
    type_byte: ClassVar[bytes] = b"E"
    fields: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_error(cls, err: PgError) -> ErrorResponse:
        return cls(error_fields(err))

    @property
    def severity(self) -> str:
        return self.fields.get(FIELD_SEVERITY_NONLOCALIZED) or self.fields.get(FIELD_SEVERITY, "")

    @property
    def code(self) -> str:
        return self.fields.get(FIELD_CODE, "")

    @property
    def message(self) -> str:
        return self.fields.get(FIELD_MESSAGE, "")

    def to_error(self) -> PgError:
        """The equivalent :class:`PgError` (used by clients of an upstream PostgreSQL)."""
        position = self.fields.get(FIELD_POSITION)
        return PgError(
            self.code or "XX000",
            self.message,
            severity=self.severity or "ERROR",
            detail=self.fields.get(FIELD_DETAIL),
            hint=self.fields.get(FIELD_HINT),
            position=int(position) if position and position.isdigit() else None,
        )

    def encode(self) -> bytes:
        return _encode_fields(self.type_byte, self.fields)

    @classmethod
    def decode(cls, body: bytes) -> ErrorResponse:
        return cls(_decode_fields(body))


@dataclass(frozen=True, slots=True)
class NoticeResponse(ErrorResponse):
    type_byte: ClassVar[bytes] = b"N"


def _encode_fields(type_byte: bytes, fields: Mapping[str, str]) -> bytes:
    body = b"".join(code.encode("ascii") + cstr(value) for code, value in fields.items()) + b"\x00"
    return frame(type_byte, body)


def _decode_fields(body: bytes) -> dict[str, str]:
    r = Reader(body)
    fields: dict[str, str] = {}
    while True:
        code = r.byte()
        if code == 0:
            break
        fields[chr(code)] = r.cstring()
    r.end()
    return fields


# ---------------------------------------------------------------- fast encoders for the hot path

_READY = {s: frame(b"Z", s.encode("ascii")) for s in "ITE"}
PARSE_COMPLETE = frame(b"1", b"")
BIND_COMPLETE = frame(b"2", b"")
CLOSE_COMPLETE = frame(b"3", b"")
NO_DATA = frame(b"n", b"")
PORTAL_SUSPENDED = frame(b"s", b"")
EMPTY_QUERY_RESPONSE = frame(b"I", b"")


def ready_for_query(status: str) -> bytes:
    """ReadyForQuery with transaction status I, T or E."""
    return _READY[status]


def command_complete(tag: str) -> bytes:
    return frame(b"C", tag.encode("utf-8") + b"\x00")


def error_response(err: PgError) -> bytes:
    return _encode_fields(b"E", error_fields(err))


def notice_response(err: PgError) -> bytes:
    return _encode_fields(b"N", error_fields(err))


def row_description(fields: Sequence[FieldDescription]) -> bytes:
    return RowDescription(tuple(fields)).encode()


# ---------------------------------------------------------------- decoding

BACKEND_TYPES: dict[bytes, type[BackendMessage]] = {
    cls.type_byte: cls
    for cls in (
        ParameterStatus,
        BackendKeyData,
        ReadyForQuery,
        NegotiateProtocolVersion,
        RowDescription,
        DataRow,
        CommandComplete,
        ParameterDescription,
        EmptyQueryResponse,
        ParseComplete,
        BindComplete,
        CloseComplete,
        NoData,
        PortalSuspended,
        CopyData,
        CopyDone,
        CopyInResponse,
        CopyOutResponse,
        NotificationResponse,
        ErrorResponse,
        NoticeResponse,
    )
}


def decode_backend(type_byte: bytes, body: bytes) -> BackendMessage:
    """Decode one backend message (client side of a connection to PostgreSQL)."""
    if type_byte == b"R":
        return _decode_authentication(body)
    cls = BACKEND_TYPES.get(type_byte)
    if cls is None:
        raise MessageFormatError(f"unexpected message type 0x{type_byte.hex()} from server")
    return cls.decode(body)
