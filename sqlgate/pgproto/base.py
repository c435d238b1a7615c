"""Base classes of protocol messages, and the messages both directions share (COPY data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from sqlgate.pgproto.buffer import MessageFormatError, frame


class FrontendMessage:
    """Base of typed frontend (client → server) messages; ``type_byte`` identifies them."""

    __slots__ = ()
    type_byte: ClassVar[bytes]

    def encode(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def decode(cls, body: bytes) -> FrontendMessage:
        raise NotImplementedError


class BackendMessage:
    """Base of backend (server → client) messages; ``type_byte`` identifies them."""

    __slots__ = ()
    type_byte: ClassVar[bytes]

    def encode(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def decode(cls, body: bytes) -> BackendMessage:
        raise NotImplementedError


class EmptyBody:
    """Mixin for messages that are only a type byte and a length (Sync, ParseComplete …)."""

    __slots__ = ()
    type_byte: ClassVar[bytes]

    def encode(self) -> bytes:
        return frame(self.type_byte, b"")

    @classmethod
    def decode(cls, body: bytes) -> Self:
        if body:
            raise MessageFormatError()
        return cls()


@dataclass(frozen=True, slots=True)
class CopyData(FrontendMessage, BackendMessage):
    """A chunk of COPY data (sent in both directions)."""

    type_byte: ClassVar[bytes] = b"d"
    data: bytes

    def encode(self) -> bytes:
        return frame(b"d", self.data)

    @classmethod
    def decode(cls, body: bytes) -> CopyData:
        return cls(bytes(body))


@dataclass(frozen=True, slots=True)
class CopyDone(EmptyBody, FrontendMessage, BackendMessage):
    """End of COPY data (sent in both directions)."""

    type_byte: ClassVar[bytes] = b"c"
