"""Value codecs: Python values ⇄ PostgreSQL text and binary formats, per type OID. No I/O.

Encoders are lenient about their input (a datasource driver may hand a ``Decimal`` for a bigint, an
aware ``datetime`` for a timestamp, a ``timedelta`` for a MySQL TIME …) and produce exactly what
PostgreSQL itself would send: text output follows ``DateStyle=ISO, MDY``, ``IntervalStyle=postgres``,
``extra_float_digits`` (shortest round-trip floats when > 0, as PostgreSQL 12+), ``t``/``f`` booleans,
``\\x`` hex bytea. Decoders turn client parameters into Python values and raise
:class:`sqlgate.errors.PgError` (22P02/22P03/22003/22007) on bad input.

Encoding result rows is the hot path: build a :class:`RowEncoder` once per result (it picks one
encoder function per column) and call :meth:`RowEncoder.encode_rows` per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlgate.errors import (
    PgError,
)
from sqlgate.pgproto.binary_codec import binary_decoder, binary_encoder, has_binary_codec
from sqlgate.pgproto.buffer import I16, I32
from sqlgate.pgproto.coerce import (
    DEFAULT_CONTEXT,
    CodecContext,
    Decoder,
    Encoder,
    Interval,
)
from sqlgate.pgproto.text_codec import (
    format_float4,
    format_float8,
    format_interval,
    format_numeric,
    format_utc_offset,
    parse_array_text,
    parse_interval,
    text_decoder,
    text_encoder,
)

TEXT_FORMAT = 0
BINARY_FORMAT = 1

__all__ = [
    "BINARY_FORMAT",
    "DEFAULT_CONTEXT",
    "TEXT_FORMAT",
    "CodecContext",
    "Decoder",
    "Encoder",
    "Interval",
    "RowEncoder",
    "binary_decoder",
    "binary_encoder",
    "decode_value",
    "decoder",
    "encode_value",
    "encoder",
    "expand_formats",
    "format_float4",
    "format_float8",
    "format_interval",
    "format_numeric",
    "format_utc_offset",
    "has_binary_codec",
    "parse_array_text",
    "parse_interval",
    "text_decoder",
    "text_encoder",
]


def encoder(type_oid: int, fmt: int, ctx: CodecContext = DEFAULT_CONTEXT) -> Encoder:
    """The encoder for ``type_oid`` in format ``fmt`` (0 text, 1 binary)."""
    return binary_encoder(type_oid, ctx) if fmt == BINARY_FORMAT else text_encoder(type_oid, ctx)


def encode_value(
    value: Any, type_oid: int, fmt: int = TEXT_FORMAT, ctx: CodecContext = DEFAULT_CONTEXT
) -> bytes:
    """Encode one value (not None) — convenient, not fast; rows go through :class:`RowEncoder`."""
    return encoder(type_oid, fmt, ctx)(value)


def expand_formats(formats: Sequence[int], count: int) -> list[int]:
    """Bind's format-code list expanded to ``count`` entries (empty = all text, one = applies to all)."""
    if not formats:
        return [TEXT_FORMAT] * count
    if len(formats) == 1:
        return [formats[0]] * count
    if len(formats) != count:
        raise PgError(
            "08P01", f"bind message has {len(formats)} result formats but query has {count} columns"
        )
    return list(formats)


class RowEncoder:
    """Encodes result rows into complete DataRow messages, with encoders chosen once per column."""

    __slots__ = ("_count", "_encoders", "_ncols")

    def __init__(
        self, type_oids: Sequence[int], formats: Sequence[int] = (), ctx: CodecContext = DEFAULT_CONTEXT
    ) -> None:
        fmts = expand_formats(formats, len(type_oids))
        self._encoders = [encoder(o, f, ctx) for o, f in zip(type_oids, fmts, strict=True)]
        self._ncols = I16.pack(len(type_oids))
        self._count = len(type_oids)

    def encode_row(self, row: Sequence[Any]) -> bytes:
        """One DataRow message."""
        return self.encode_rows((row,))

    def encode_rows(self, rows: Iterable[Sequence[Any]]) -> bytes:
        """DataRow messages for ``rows``, concatenated."""
        encoders = self._encoders
        pack = I32.pack
        ncols = self._ncols
        null = b"\xff\xff\xff\xff"
        out: list[bytes] = []
        append = out.append
        count = self._count
        for row in rows:
            if len(row) != count:
                raise PgError("XX000", f"result row has {len(row)} values, expected {count}")
            parts = [ncols]
            size = 6
            for enc, value in zip(encoders, row):  # noqa: B905 - lengths checked above
                if value is None:
                    parts.append(null)
                    size += 4
                else:
                    data = enc(value)
                    parts.append(pack(len(data)))
                    parts.append(data)
                    size += 4 + len(data)
            append(b"D" + pack(size))
            append(b"".join(parts))
        return b"".join(out)


def decoder(type_oid: int, fmt: int, ctx: CodecContext = DEFAULT_CONTEXT) -> Decoder:
    return binary_decoder(type_oid, ctx) if fmt == BINARY_FORMAT else text_decoder(type_oid, ctx)


def decode_value(
    data: bytes, type_oid: int, fmt: int = TEXT_FORMAT, ctx: CodecContext = DEFAULT_CONTEXT
) -> Any:
    """Decode one non-NULL value (a Bind parameter, a DataRow field)."""
    return decoder(type_oid, fmt, ctx)(data)
