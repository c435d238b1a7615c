"""Incremental message parsers: feed bytes in, get whole messages out. No I/O.

:class:`FrontendParser` is the server's view of a client: it starts in the start-up phase (untyped
packets) and switches to typed messages after a StartupMessage. :class:`BackendParser` is a client's
view of a server. Both enforce a maximum message size: a larger length word, or one too small to be
valid, raises :class:`ProtocolError` (08P01, FATAL — the stream cannot be resynchronised).

A typed message whose body does not decode is yielded as :class:`InvalidMessage` (its framing is
intact, so the connection can continue, as PostgreSQL does with an ERROR).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlgate.errors import PROTOCOL_VIOLATION, PgError
from sqlgate.pgproto.backend import BackendMessage, decode_backend
from sqlgate.pgproto.buffer import I32
from sqlgate.pgproto.frontend import (
    FrontendMessage,
    StartupMessage,
    StartupPacket,
    decode_frontend,
    decode_startup_packet,
)

DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
# PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
MAX_STARTUP_PACKET_SIZE = 10000


class ProtocolError(PgError):
    """The byte stream is broken (bad length word, oversized message): FATAL 08P01."""

    def __init__(self, message: str) -> None:
        super().__init__(PROTOCOL_VIOLATION, message, severity="FATAL")


@dataclass(frozen=True, slots=True)
class InvalidMessage:
    """A correctly framed message whose body is malformed; ``error`` says what is wrong."""

    type_byte: bytes
    error: PgError


class _Framer:
    """Splits a byte stream into (type byte, body) frames, or untyped start-up packets."""

    def __init__(self, max_message_size: int, *, typed: bool) -> None:
        self.max_message_size = max_message_size
        self.typed = typed
        self._buf = bytearray()
        self._pos = 0

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        if self._pos and self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        self._buf += data

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as messages."""
        return len(self._buf) - self._pos

    def has_complete_frame(self) -> bool:
        """True when a whole message is buffered (or the next length word is already invalid)."""
        buf, pos = self._buf, self._pos
        header = 5 if self.typed else 4
        if len(buf) - pos < header:
            return False
        length = I32.unpack_from(buf, pos + (1 if self.typed else 0))[0]
        if length < 4 or length > self.max_message_size:
            return True
        return len(buf) - pos >= length + (1 if self.typed else 0)

    def take_buffered(self) -> bytes:
        """Remove and return the unparsed bytes (used when the stream switches to TLS)."""
        rest = bytes(self._buf[self._pos :])
        self._buf.clear()
        self._pos = 0
        return rest

    def _compact(self) -> None:
        if self._pos > 65536 and self._pos * 2 > len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0

    def next_frame(self) -> tuple[bytes, bytes] | None:
        """The next complete frame as (type byte, body); type byte is b"" for start-up packets."""
        buf, pos = self._buf, self._pos
        if self.typed:
            if len(buf) - pos < 5:
                return None
            type_byte = bytes(buf[pos : pos + 1])
            length = I32.unpack_from(buf, pos + 1)[0]
            if length < 4:
                raise ProtocolError(f"invalid message length {length}")
            if length > self.max_message_size:
                raise ProtocolError(
                    f"message of {length} bytes exceeds the maximum message size "
                    f"({self.max_message_size} bytes)"
                )
            end = pos + 1 + length
            if len(buf) < end:
                return None
            body = bytes(buf[pos + 5 : end])
        else:
            if len(buf) - pos < 4:
                return None
            length = I32.unpack_from(buf, pos)[0]
            if length < 8 or length > MAX_STARTUP_PACKET_SIZE:
                raise ProtocolError("invalid length of startup packet")
            end = pos + length
            if len(buf) < end:
                return None
            type_byte = b""
            body = bytes(buf[pos + 4 : end])
        self._pos = end
        self._compact()
        return type_byte, body


class FrontendParser(_Framer):
    """Server side: yields start-up packets, then typed frontend messages."""

    def __init__(self, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        super().__init__(max_message_size, typed=False)

    @property
    def in_startup(self) -> bool:
        return not self.typed

    def next_message(self) -> StartupPacket | FrontendMessage | InvalidMessage | None:
        """The next whole message, or None when more bytes are needed."""
        got = self.next_frame()
        if got is None:
            return None
        type_byte, body = got
        if not type_byte:
            try:
                packet = decode_startup_packet(body)
            except PgError as exc:
                raise ProtocolError(exc.message) from None
            if isinstance(packet, StartupMessage):
                self.typed = True
            return packet
        try:
            return decode_frontend(type_byte, body)
        except PgError as exc:
            return InvalidMessage(type_byte, exc)

    def __iter__(self) -> Iterator[StartupPacket | FrontendMessage | InvalidMessage]:
        while (msg := self.next_message()) is not None:
            yield msg


class BackendParser(_Framer):
    """Client side: yields backend messages (always typed)."""

    def __init__(self, max_message_size: int = 1 << 30) -> None:
        super().__init__(max_message_size, typed=True)

    def next_message(self) -> BackendMessage | None:
        got = self.next_frame()
        if got is None:
            return None
        return decode_backend(*got)

    def __iter__(self) -> Iterator[BackendMessage]:
        while (msg := self.next_message()) is not None:
            yield msg
