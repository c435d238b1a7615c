"""Reading and writing the primitive fields of protocol messages (Int16/Int32, C strings, byte runs)."""

from __future__ import annotations

import struct

from sqlgate.errors import PROTOCOL_VIOLATION, PgError

I16 = struct.Struct("!h")
U16 = struct.Struct("!H")
I32 = struct.Struct("!i")
U32 = struct.Struct("!I")
I64 = struct.Struct("!q")
HEADER = struct.Struct("!cI")  # type byte + length (length includes itself)


class MessageFormatError(PgError):
    """A message body that does not match its type's layout (08P01, not fatal: framing is intact)."""

    def __init__(self, message: str = "invalid message format") -> None:
        super().__init__(PROTOCOL_VIOLATION, message)


class Reader:
    """Sequential reader over one message body; every overrun is a :class:`MessageFormatError`."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes | memoryview) -> None:
        self.data = bytes(data)
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise MessageFormatError("insufficient data left in message")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def byte(self) -> int:
        return self._take(1)[0]

    def int16(self) -> int:
        return I16.unpack(self._take(2))[0]

    def uint16(self) -> int:
        return U16.unpack(self._take(2))[0]

    def int32(self) -> int:
        return I32.unpack(self._take(4))[0]

    def uint32(self) -> int:
        return U32.unpack(self._take(4))[0]

    def bytes(self, n: int) -> bytes:
        return self._take(n)

    def rest(self) -> bytes:
        return self._take(self.remaining())

    def cstring(self) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise MessageFormatError("invalid string in message")
        raw = self.data[self.pos : end]
        self.pos = end + 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise PgError("22021", 'invalid byte sequence for encoding "UTF8"') from None

    def int16_list(self) -> tuple[int, ...]:
        n = self.int16()
        if n < 0:
            raise MessageFormatError()
        return tuple(self.int16() for _ in range(n))

    def end(self) -> None:
        """Require the body to be fully consumed."""
        if self.pos != len(self.data):
            raise MessageFormatError("invalid message format")


def cstr(text: str) -> bytes:
    """A NUL-terminated UTF-8 string."""
    return text.encode("utf-8") + b"\x00"


def frame(type_byte: bytes, body: bytes) -> bytes:
    """A typed message: type byte, Int32 length (including itself), body."""
    return type_byte + I32.pack(len(body) + 4) + body


def untyped_frame(body: bytes) -> bytes:
    """A start-up phase packet: Int32 length (including itself), body."""
    return I32.pack(len(body) + 4) + body
