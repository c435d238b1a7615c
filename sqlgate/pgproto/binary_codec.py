"""Binary format: the ``*send``/``*recv`` layouts of PostgreSQL's built-in types."""

from __future__ import annotations

import math
import struct
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlgate.errors import (
    DATETIME_FIELD_OVERFLOW,
    INVALID_BINARY_REPRESENTATION,
    INVALID_TEXT_REPRESENTATION,
    NUMERIC_VALUE_OUT_OF_RANGE,
    UNDEFINED_FUNCTION,
    PgError,
)
from sqlgate.pgproto import oids
from sqlgate.pgproto.buffer import I16, I32, I64, U32
from sqlgate.pgproto.coerce import (
    DEFAULT_CONTEXT,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    PG_EPOCH,
    PG_EPOCH_ORDINAL,
    USECS_PER_DAY,
    CodecContext,
    Decoder,
    Encoder,
    Interval,
    as_date,
    as_datetime,
    as_decimal,
    as_int,
    as_text,
    interval_fields,
    interval_value,
    parse_bool,
    parse_json,
    time_fields,
)
from sqlgate.pgproto.text_codec import encode_char_text, encode_json_text, encode_void

_F32 = struct.Struct("!f")
_F64 = struct.Struct("!d")
_NUMERIC_HEADER = struct.Struct("!hhHH")
_INTERVAL = struct.Struct("!qii")
_ARRAY_HEADER = struct.Struct("!iiI")
_ARRAY_DIM = struct.Struct("!ii")
_NUMERIC_NAN = 0xC000
_NUMERIC_POS_INF = 0xD000
_NUMERIC_NEG_INF = 0xF000
_NUMERIC_NEG = 0x4000


def _packer(st: struct.Struct, type_name: str) -> Encoder:
    pack = st.pack

    def enc(v: Any) -> bytes:
        try:
            return pack(v if type(v) is int else as_int(v))
        except struct.error:
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, f"{type_name} out of range") from None

    return enc


def _enc_bool_bin(v: Any) -> bytes:
    if isinstance(v, str):
        v = parse_bool(v)
    return b"\x01" if v else b"\x00"


def _enc_float4_bin(v: Any) -> bytes:
    return _F32.pack(float(v))


def _enc_float8_bin(v: Any) -> bytes:
    return _F64.pack(float(v))


def _enc_numeric_bin(v: Any) -> bytes:
    d = as_decimal(v)
    if not d.is_finite():
        if d.is_nan():
            return _NUMERIC_HEADER.pack(0, 0, _NUMERIC_NAN, 0)
        # PostgreSQL's numeric_send writes 32 in the dscale field of infinities; copy it byte for byte.
        return _NUMERIC_HEADER.pack(0, 0, _NUMERIC_NEG_INF if d.is_signed() else _NUMERIC_POS_INF, 32)
    sign, digit_tuple, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    dscale = -exponent if exponent < 0 else 0
    # Scale the coefficient so the decimal point falls on a base-10000 digit boundary.
    frac_groups = (dscale + 3) // 4
    coefficient = int("".join(map(str, digit_tuple)))
    shift = exponent + frac_groups * 4
    scaled = coefficient * 10**shift if shift >= 0 else coefficient // 10**-shift
    if scaled == 0:
        return _NUMERIC_HEADER.pack(0, 0, 0, dscale)
    groups: list[int] = []
    while scaled:
        scaled, group = divmod(scaled, 10000)
        groups.append(group)
    groups.reverse()
    weight = len(groups) - 1 - frac_groups
    while groups and groups[-1] == 0:
        groups.pop()
    header = _NUMERIC_HEADER.pack(len(groups), weight, _NUMERIC_NEG if sign else 0, dscale)
    return header + struct.pack(f"!{len(groups)}h", *groups)


def _enc_text_bin(v: Any) -> bytes:
    if type(v) is str:
        return v.encode()
    return as_text(v).encode()


def _enc_bytea_bin(v: Any) -> bytes:
    if isinstance(v, str):
        return v.encode()
    return bytes(v)


def _enc_date_bin(v: Any) -> bytes:
    if v in (date.max, datetime.max):
        return I32.pack(INT32_MAX)
    if v in (date.min, datetime.min):
        return I32.pack(INT32_MIN)
    return I32.pack(as_date(v).toordinal() - PG_EPOCH_ORDINAL)


def _enc_time_bin(v: Any) -> bytes:
    h, m, s, us = time_fields(v)
    return I64.pack(((h * 60 + m) * 60 + s) * 1_000_000 + us)


def _usecs_since_epoch(dt: datetime) -> int:
    days = dt.toordinal() - PG_EPOCH_ORDINAL
    return ((days * 86400 + dt.hour * 3600 + dt.minute * 60 + dt.second) * 1_000_000) + dt.microsecond


def _enc_timestamp_bin(v: Any) -> bytes:
    dt = as_datetime(v)
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    if dt == datetime.max:
        return I64.pack(INT64_MAX)
    if dt == datetime.min:
        return I64.pack(INT64_MIN)
    return I64.pack(_usecs_since_epoch(dt))


def _enc_interval_bin(v: Any) -> bytes:
    months, days, usec = interval_fields(v)
    return _INTERVAL.pack(usec, days, months)


def _enc_uuid_bin(v: Any) -> bytes:
    if isinstance(v, uuid.UUID):
        return v.bytes
    if isinstance(v, bytes) and len(v) == 16:
        return v
    try:
        return uuid.UUID(str(v)).bytes
    except ValueError:
        raise PgError(INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type uuid: "{v}"') from None


def _enc_json_bin(v: Any) -> bytes:
    return encode_json_text(v)


def _enc_jsonb_bin(v: Any) -> bytes:
    return b"\x01" + encode_json_text(v)


def _enc_char_bin(v: Any) -> bytes:
    return encode_char_text(v)


def _array_binary_encoder(element_oid: int, element: Encoder) -> Encoder:
    def enc(v: Any) -> bytes:
        items = list(v)
        if not items:
            return _ARRAY_HEADER.pack(0, 0, element_oid)
        has_null = any(item is None for item in items)
        parts = [_ARRAY_HEADER.pack(1, int(has_null), element_oid), _ARRAY_DIM.pack(len(items), 1)]
        for item in items:
            if item is None:
                parts.append(b"\xff\xff\xff\xff")
            else:
                data = element(item)
                parts.append(I32.pack(len(data)))
                parts.append(data)
        return b"".join(parts)

    return enc


_BINARY_ENCODERS: dict[int, Encoder] = {
    oids.BOOL: _enc_bool_bin,
    oids.INT2: _packer(I16, "smallint"),
    oids.INT4: _packer(I32, "integer"),
    oids.INT8: _packer(I64, "bigint"),
    oids.OID: _packer(U32, "OID"),
    oids.REGCLASS: _packer(U32, "OID"),
    oids.REGTYPE: _packer(U32, "OID"),
    oids.REGPROC: _packer(U32, "OID"),
    oids.FLOAT4: _enc_float4_bin,
    oids.FLOAT8: _enc_float8_bin,
    oids.NUMERIC: _enc_numeric_bin,
    oids.TEXT: _enc_text_bin,
    oids.VARCHAR: _enc_text_bin,
    oids.BPCHAR: _enc_text_bin,
    oids.NAME: _enc_text_bin,
    oids.UNKNOWN: _enc_text_bin,
    oids.CHAR: _enc_char_bin,
    oids.BYTEA: _enc_bytea_bin,
    oids.DATE: _enc_date_bin,
    oids.TIME: _enc_time_bin,
    oids.TIMESTAMP: _enc_timestamp_bin,
    oids.TIMESTAMPTZ: _enc_timestamp_bin,  # both are microseconds since 2000-01-01 UTC
    oids.INTERVAL: _enc_interval_bin,
    oids.UUID: _enc_uuid_bin,
    oids.JSON: _enc_json_bin,
    oids.JSONB: _enc_jsonb_bin,
    oids.VOID: encode_void,
}


def has_binary_codec(type_oid: int) -> bool:
    info = oids.TYPES_BY_OID.get(type_oid)
    if info is not None and info.element_oid:
        return info.element_oid in _BINARY_ENCODERS
    return type_oid in _BINARY_ENCODERS


def binary_encoder(type_oid: int, ctx: CodecContext = DEFAULT_CONTEXT) -> Encoder:
    """The binary-format encoder for ``type_oid``; 42883 when the type has none (as PostgreSQL)."""
    enc = _BINARY_ENCODERS.get(type_oid)
    if enc is not None:
        return enc
    info = oids.TYPES_BY_OID.get(type_oid)
    if info is not None and info.element_oid and info.element_oid in _BINARY_ENCODERS:
        return _array_binary_encoder(info.element_oid, _BINARY_ENCODERS[info.element_oid])
    name = info.name if info is not None else str(type_oid)
    raise PgError(UNDEFINED_FUNCTION, f"no binary output function available for type {name}")


def _fixed(st: struct.Struct) -> Decoder:
    unpack = st.unpack
    size = st.size

    def decode(data: bytes) -> Any:
        if len(data) != size:
            raise _bad_binary()
        return unpack(data)[0]

    return decode


def _bad_binary() -> PgError:
    return PgError(INVALID_BINARY_REPRESENTATION, "incorrect binary data format")


def _dec_bool_bin(data: bytes) -> bool:
    if len(data) != 1:
        raise _bad_binary()
    return data != b"\x00"


def _dec_numeric_bin(data: bytes) -> Decimal:
    if len(data) < 8:
        raise _bad_binary()
    ndigits, weight, sign, dscale = _NUMERIC_HEADER.unpack_from(data)
    if len(data) != 8 + 2 * ndigits or ndigits < 0:
        raise _bad_binary()
    if sign == _NUMERIC_NAN:
        return Decimal("NaN")
    if sign == _NUMERIC_POS_INF:
        return Decimal("Infinity")
    if sign == _NUMERIC_NEG_INF:
        return Decimal("-Infinity")
    if sign not in (0, _NUMERIC_NEG):
        raise _bad_binary()
    groups = struct.unpack_from(f"!{ndigits}h", data, 8)
    if any(not 0 <= g < 10000 for g in groups):
        raise _bad_binary()
    digits = "".join(f"{g:04d}" for g in groups) or "0"
    exponent = (weight - ndigits + 1) * 4
    # Bring the exponent to -dscale: drop trailing zeros or append them.
    target = -dscale
    if exponent < target:
        cut = target - exponent
        digits = digits[:-cut] if cut < len(digits) else "0"
        exponent = target
    elif exponent > target:
        digits += "0" * (exponent - target)
        exponent = target
    digit_tuple = tuple(int(c) for c in digits.lstrip("0") or "0")
    return Decimal((1 if sign == _NUMERIC_NEG else 0, digit_tuple, exponent))


def _dec_text_bin(data: bytes) -> str:
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise PgError("22021", 'invalid byte sequence for encoding "UTF8"') from None


def _dec_date_bin(data: bytes) -> date:
    days = _fixed(I32)(data)
    if days == INT32_MAX:
        return date.max
    if days == INT32_MIN:
        return date.min
    try:
        return date.fromordinal(days + PG_EPOCH_ORDINAL)
    except (ValueError, OverflowError):
        raise PgError(DATETIME_FIELD_OVERFLOW, "date out of range") from None


def _dec_time_bin(data: bytes) -> time:
    usec = _fixed(I64)(data)
    if not 0 <= usec <= USECS_PER_DAY:
        raise _bad_binary()
    secs, us = divmod(usec % USECS_PER_DAY, 1_000_000)
    return time(secs // 3600, secs // 60 % 60, secs % 60, us)


def _dec_timestamp_bin(data: bytes) -> datetime:
    usec = _fixed(I64)(data)
    if usec == INT64_MAX:
        return datetime.max
    if usec == INT64_MIN:
        return datetime.min
    try:
        return PG_EPOCH + timedelta(microseconds=usec)
    except OverflowError:
        raise PgError(DATETIME_FIELD_OVERFLOW, "timestamp out of range") from None


def _dec_timestamptz_bin(data: bytes) -> datetime:
    return _dec_timestamp_bin(data).replace(tzinfo=UTC)


def _dec_interval_bin(data: bytes) -> timedelta | Interval:
    if len(data) != 16:
        raise _bad_binary()
    usec, days, months = _INTERVAL.unpack(data)
    return interval_value(Interval(months, days, usec))


def _dec_uuid_bin(data: bytes) -> uuid.UUID:
    if len(data) != 16:
        raise _bad_binary()
    return uuid.UUID(bytes=bytes(data))


def _dec_jsonb_bin(data: bytes) -> str:
    if not data or data[0] != 1:
        raise PgError(INVALID_BINARY_REPRESENTATION, "unsupported jsonb version number")
    return parse_json(_dec_text_bin(data[1:]))


def _array_binary_decoder(element_oid: int, element: Decoder) -> Decoder:
    def decode(data: bytes) -> list[Any]:
        if len(data) < 12:
            raise _bad_binary()
        ndim, _flags, elem = _ARRAY_HEADER.unpack_from(data)
        if ndim == 0:
            return []
        if ndim < 0 or ndim > 6 or elem != element_oid:
            raise PgError(
                INVALID_BINARY_REPRESENTATION,
                "wrong element type" if elem != element_oid else "invalid number of dimensions",
            )
        pos = 12
        dims = []
        for _ in range(ndim):
            if pos + 8 > len(data):
                raise _bad_binary()
            size, _lbound = _ARRAY_DIM.unpack_from(data, pos)
            if size < 0:
                raise _bad_binary()
            dims.append(size)
            pos += 8
        total = math.prod(dims)
        flat: list[Any] = []
        for _ in range(total):
            if pos + 4 > len(data):
                raise _bad_binary()
            size = I32.unpack_from(data, pos)[0]
            pos += 4
            if size == -1:
                flat.append(None)
                continue
            if size < 0 or pos + size > len(data):
                raise _bad_binary()
            flat.append(element(data[pos : pos + size]))
            pos += size
        if pos != len(data):
            raise _bad_binary()
        for size in reversed(dims[1:]):
            flat = [flat[i : i + size] for i in range(0, len(flat), size)]
        return flat

    return decode


_BINARY_DECODERS: dict[int, Decoder] = {
    oids.BOOL: _dec_bool_bin,
    oids.INT2: _fixed(I16),
    oids.INT4: _fixed(I32),
    oids.INT8: _fixed(I64),
    oids.OID: _fixed(U32),
    oids.REGCLASS: _fixed(U32),
    oids.REGTYPE: _fixed(U32),
    oids.REGPROC: _fixed(U32),
    oids.FLOAT4: _fixed(_F32),
    oids.FLOAT8: _fixed(_F64),
    oids.NUMERIC: _dec_numeric_bin,
    oids.TEXT: _dec_text_bin,
    oids.VARCHAR: _dec_text_bin,
    oids.BPCHAR: _dec_text_bin,
    oids.NAME: _dec_text_bin,
    oids.UNKNOWN: _dec_text_bin,
    oids.CHAR: bytes,
    oids.BYTEA: bytes,
    oids.DATE: _dec_date_bin,
    oids.TIME: _dec_time_bin,
    oids.TIMESTAMP: _dec_timestamp_bin,
    oids.TIMESTAMPTZ: _dec_timestamptz_bin,
    oids.INTERVAL: _dec_interval_bin,
    oids.UUID: _dec_uuid_bin,
    oids.JSON: lambda data: parse_json(_dec_text_bin(data)),
    oids.JSONB: _dec_jsonb_bin,
}


def binary_decoder(type_oid: int, ctx: CodecContext = DEFAULT_CONTEXT) -> Decoder:
    """Decoder of binary-format values of ``type_oid``; 42883 when the type has no binary input."""
    dec = _BINARY_DECODERS.get(type_oid)
    if dec is not None:
        return dec
    info = oids.TYPES_BY_OID.get(type_oid)
    if info is not None and info.element_oid in _BINARY_DECODERS:
        return _array_binary_decoder(info.element_oid, _BINARY_DECODERS[info.element_oid])
    name = info.name if info is not None else str(type_oid)
    raise PgError(UNDEFINED_FUNCTION, f"no binary input function available for type {name}")
