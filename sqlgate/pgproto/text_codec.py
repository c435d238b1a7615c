"""Text format: what PostgreSQL's output functions write and its input functions read.

Output follows DateStyle ``ISO, MDY``, IntervalStyle ``postgres`` and ``extra_float_digits`` (shortest
round-trip floats when positive, like PostgreSQL 12+), ``t``/``f`` booleans and hex bytea.
"""

from __future__ import annotations

import json
import math
import struct
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from sqlgate.errors import (
    INTERVAL_FIELD_OVERFLOW,
    INVALID_DATETIME_FORMAT,
    INVALID_TEXT_REPRESENTATION,
    NUMERIC_VALUE_OUT_OF_RANGE,
    PgError,
)
from sqlgate.pgproto import oids
from sqlgate.pgproto.coerce import (
    DEFAULT_CONTEXT,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
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
    check_numeric,
    interval_fields,
    interval_value,
    parse_bool,
    parse_json,
    time_fields,
)

_NATIVE_F32 = struct.Struct("f")
# Enough digits to add and halve any two doubles exactly (their decimal expansions are finite).
_EXACT = Context(prec=1200)


def _enc_bool_text(v: Any) -> bytes:
    if isinstance(v, str):
        v = parse_bool(v)
    return b"t" if v else b"f"


def _enc_int_text(v: Any) -> bytes:
    if type(v) is int:
        return str(v).encode()
    return str(as_int(v)).encode()


def _float_special(v: float) -> bytes | None:
    if math.isnan(v):
        return b"NaN"
    if v == math.inf:
        return b"Infinity"
    if v == -math.inf:
        return b"-Infinity"
    return None


def format_float8(v: float, extra_float_digits: int = 1) -> str:
    """float8 output exactly as PostgreSQL 12+ writes it."""
    special = _float_special(v)
    if special is not None:
        return special.decode()
    if extra_float_digits <= 0:
        return _fix_g_exponent("%.*g" % (15 + extra_float_digits, v))  # noqa: UP031
    a = abs(v)
    if 1e-4 <= a < 1e15:
        r = repr(v)
        return r[:-2] if r.endswith(".0") else r
    if a == 0.0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    if a < 1e15:  # below 1e-4: Python's repr already uses PostgreSQL's exponent style
        return repr(v)
    text = repr(v)
    if a >= 2.0**52:
        text = _avoid_midpoint(v, text)
    return _shortest_to_pg(text, 15)


def _avoid_midpoint(v: float, text: str) -> str:
    """Python's repr may pick a decimal lying exactly halfway to a neighbouring double (it rounds
    ties to even); PostgreSQL's Ryu never does. Only doubles of 2**52 and above have midpoints short
    enough to be chosen, so only they are checked."""
    exact = Decimal(v)
    shown = Decimal(text)
    if shown == exact:
        return text
    neighbour = math.nextafter(v, math.inf if shown > exact else -math.inf)
    if shown != _EXACT.divide(_EXACT.add(exact, Decimal(neighbour)), 2):
        return text
    for precision in range(len(Decimal(text).normalize().as_tuple().digits) + 1, 18):
        candidate = "%.*e" % (precision - 1, v)  # noqa: UP031
        if float(candidate) == v and Decimal(candidate) != shown:
            return candidate
    return "%.16e" % v  # noqa: UP031


def format_float4(v: float, extra_float_digits: int = 1) -> str:
    """float4 output exactly as PostgreSQL 12+ writes it (shortest digits that round-trip a float32)."""
    special = _float_special(v)
    if special is not None:
        return special.decode()
    f32 = _NATIVE_F32.unpack(_NATIVE_F32.pack(v))[0]
    if extra_float_digits <= 0:
        return _fix_g_exponent("%.*g" % (6 + extra_float_digits, f32))  # noqa: UP031
    if f32 == 0.0:
        return "-0" if math.copysign(1.0, f32) < 0 else "0"
    # The shortest decimal strictly inside the float32's rounding interval (bounds excluded, as Ryu).
    low, high = _f32_interval(f32)
    for precision in range(1, 10):
        text = "%.*e" % (precision - 1, f32)  # noqa: UP031
        if low < Decimal(text) < high:
            break
    return _shortest_to_pg(text, 6)


_U32_NATIVE = struct.Struct("I")


def _f32_interval(f32: float) -> tuple[Decimal, Decimal]:
    """The open interval of reals that round to the float32 ``f32`` (halfway to each neighbour)."""
    bits = _U32_NATIVE.unpack(_NATIVE_F32.pack(abs(f32)))[0]
    exact = Decimal(abs(f32))
    up = Decimal(_NATIVE_F32.unpack(_U32_NATIVE.pack(bits + 1))[0])
    down = Decimal(_NATIVE_F32.unpack(_U32_NATIVE.pack(bits - 1))[0]) if bits > 0 else up.copy_negate()
    if up.is_infinite():  # the largest float32: mirror the gap below
        up = _EXACT.subtract(_EXACT.add(exact, exact), down)
    low = _EXACT.divide(_EXACT.add(exact, down), 2)
    high = _EXACT.divide(_EXACT.add(exact, up), 2)
    if f32 < 0:
        low, high = -high, -low
    return low, high


def _fix_g_exponent(text: str) -> str:
    return text  # C and Python agree on %g (two-digit minimum exponent)


def _shortest_to_pg(text: str, precision: int) -> str:
    """Rewrite shortest digits (any notation) the way PostgreSQL's float output does: fixed notation
    when -4 <= exponent < precision (15 for float8, 6 for float4), else d.ddde±XX."""
    sign, digits, exponent = Decimal(text).normalize().as_tuple()
    assert isinstance(exponent, int)
    digit_text = "".join(map(str, digits))
    exp10 = exponent + len(digits) - 1
    prefix = "-" if sign else ""
    if -4 <= exp10 < precision:
        return prefix + format(Decimal((0, digits, exponent)), "f")
    mantissa = digit_text[0] + ("." + digit_text[1:] if len(digit_text) > 1 else "")
    return f"{prefix}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"


def _float8_text_encoder(ctx: CodecContext) -> Encoder:
    efd = ctx.extra_float_digits
    if efd > 0:

        def enc(v: Any) -> bytes:
            if type(v) is float and 1e-4 <= v < 1e15:
                r = repr(v)
                return (r[:-2] if r.endswith(".0") else r).encode()
            return format_float8(float(v)).encode()

        return enc
    return lambda v: format_float8(float(v), efd).encode()


def _float4_text_encoder(ctx: CodecContext) -> Encoder:
    efd = ctx.extra_float_digits
    return lambda v: format_float4(float(v), efd).encode()


def format_numeric(v: Any) -> str:
    """numeric output: plain notation, never an exponent; NaN/Infinity spelled as PostgreSQL does."""
    if type(v) is int:
        return str(v)
    d = as_decimal(v)
    if d.is_finite():
        if d.is_zero() and d.is_signed():
            d = d.copy_abs()
        return format(d, "f")
    if d.is_nan():
        return "NaN"
    return "-Infinity" if d.is_signed() else "Infinity"


def _enc_numeric_text(v: Any) -> bytes:
    return format_numeric(v).encode()


def _enc_text_text(v: Any) -> bytes:
    if type(v) is str:
        return v.encode()
    return as_text(v).encode()


def _enc_bytea_text(v: Any) -> bytes:
    if isinstance(v, str):
        v = v.encode()
    return b"\\x" + bytes(v).hex().encode()


def encode_char_text(v: Any) -> bytes:
    if isinstance(v, bytes | bytearray):
        return bytes(v[:1])
    return as_text(v)[:1].encode()


def _enc_date_text(v: Any) -> bytes:
    if type(v) is date:
        return v.isoformat().encode()
    if isinstance(v, str):
        return v.encode()
    if v in (date.max, datetime.max):
        return b"infinity"
    if v in (date.min, datetime.min):
        return b"-infinity"
    return as_date(v).isoformat().encode()


def _hms(h: int, m: int, s: int, us: int) -> str:
    if us:
        return f"{h:02d}:{m:02d}:{s:02d}.{us:06d}".rstrip("0")
    return f"{h:02d}:{m:02d}:{s:02d}"


def _enc_time_text(v: Any) -> bytes:
    if isinstance(v, str):
        return v.encode()
    return _hms(*time_fields(v)).encode()


def _timestamp_text(dt: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS[.frac]`` of a naive datetime (trailing zeros of the fraction dropped)."""
    text = dt.isoformat(" ")
    return text.rstrip("0") if dt.microsecond else text


_MAX_NAIVE = datetime.max
_MIN_NAIVE = datetime.min


def _enc_timestamp_text(v: Any) -> bytes:
    if type(v) is datetime and v.tzinfo is None and _MIN_NAIVE < v < _MAX_NAIVE:
        return _timestamp_text(v).encode()
    if isinstance(v, str):
        return v.encode()
    dt = as_datetime(v)
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    if dt == _MAX_NAIVE:
        return b"infinity"
    if dt == _MIN_NAIVE:
        return b"-infinity"
    return _timestamp_text(dt).encode()


def format_utc_offset(offset: timedelta | None) -> str:
    """``+HH``, ``+HH:MM`` or ``+HH:MM:SS`` as PostgreSQL writes a zone offset."""
    seconds = int(offset.total_seconds()) if offset is not None else 0
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if s:
        return f"{sign}{h:02d}:{m:02d}:{s:02d}"
    if m:
        return f"{sign}{h:02d}:{m:02d}"
    return f"{sign}{h:02d}"


def _timestamptz_text_encoder(ctx: CodecContext) -> Encoder:
    zone = ctx.timezone
    utc_zone = zone is UTC or (zone.utcoffset(None) == timedelta(0) and getattr(zone, "key", "UTC") == "UTC")
    offsets: dict[timedelta | None, str] = {}

    def enc(v: Any) -> bytes:
        if isinstance(v, str):
            return v.encode()
        dt = as_datetime(v)
        naive = dt.replace(tzinfo=None)
        if naive == _MAX_NAIVE:
            return b"infinity"
        if naive == _MIN_NAIVE:
            return b"-infinity"
        if utc_zone:  # the common case: no zone arithmetic beyond normalising to UTC
            if dt.tzinfo is not None:
                naive = dt.astimezone(UTC).replace(tzinfo=None)
            return (_timestamp_text(naive) + "+00").encode()
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        local = dt.astimezone(zone)
        offset = local.utcoffset()
        suffix = offsets.get(offset)
        if suffix is None:
            suffix = offsets[offset] = format_utc_offset(offset)
        return (_timestamp_text(local.replace(tzinfo=None)) + suffix).encode()

    return enc


def format_interval(months: int, days: int, microseconds: int) -> str:
    """interval output in IntervalStyle ``postgres`` (``1 year 2 mons -3 days +04:05:06.5``)."""
    parts: list[str] = []
    is_before = False
    years = int(months / 12) if months >= 0 else -(-months // 12)
    mons = months - years * 12
    for value, unit in ((years, "year"), (mons, "mon"), (days, "day")):
        if value == 0:
            continue
        plus = "+" if is_before and value > 0 else ""
        parts.append(f"{plus}{value} {unit}{'' if value == 1 else 's'}")
        is_before = value < 0
    if not parts or microseconds:
        minus = microseconds < 0
        total = abs(microseconds)
        secs, usec = divmod(total, 1_000_000)
        hours, rem = divmod(secs, 3600)
        sign = "-" if minus else ("+" if is_before else "")
        parts.append(sign + _hms(hours, rem // 60, rem % 60, usec))
    return " ".join(parts)


def _enc_interval_text(v: Any) -> bytes:
    if isinstance(v, str):
        return v.encode()
    return format_interval(*interval_fields(v)).encode()


def _enc_uuid_text(v: Any) -> bytes:
    if isinstance(v, bytes) and len(v) == 16:
        v = uuid.UUID(bytes=v)
    return str(v).encode()


def encode_json_text(v: Any) -> bytes:
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, bytes | bytearray):
        return bytes(v)
    return json.dumps(v, ensure_ascii=False, default=str).encode()


def encode_void(v: Any) -> bytes:
    return b""


# PostgreSQL's array_isspace: only these count as white space in array literals.
_ARRAY_SPACE = " \t\n\r\v\f"
_ARRAY_SPECIAL = frozenset('{},"\\' + _ARRAY_SPACE)


def _quote_array_element(s: str) -> str:
    if s == "" or s.upper() == "NULL" or any(c in _ARRAY_SPECIAL for c in s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def _array_text_encoder(element: Encoder) -> Encoder:
    def enc(v: Any) -> bytes:
        if isinstance(v, str | bytes):
            return v.encode() if isinstance(v, str) else v
        parts = []
        for item in v:
            if item is None:
                parts.append("NULL")
            elif isinstance(item, list | tuple):
                parts.append(enc(item).decode())
            else:
                parts.append(_quote_array_element(element(item).decode("utf-8")))
        return ("{" + ",".join(parts) + "}").encode()

    return enc


_TEXT_ENCODERS: dict[int, Encoder] = {
    oids.BOOL: _enc_bool_text,
    oids.INT2: _enc_int_text,
    oids.INT4: _enc_int_text,
    oids.INT8: _enc_int_text,
    oids.OID: _enc_int_text,
    oids.REGCLASS: _enc_text_text,
    oids.REGTYPE: _enc_text_text,
    oids.REGPROC: _enc_text_text,
    oids.NUMERIC: _enc_numeric_text,
    oids.TEXT: _enc_text_text,
    oids.VARCHAR: _enc_text_text,
    oids.BPCHAR: _enc_text_text,
    oids.NAME: _enc_text_text,
    oids.UNKNOWN: _enc_text_text,
    oids.CHAR: encode_char_text,
    oids.BYTEA: _enc_bytea_text,
    oids.DATE: _enc_date_text,
    oids.TIME: _enc_time_text,
    oids.TIMESTAMP: _enc_timestamp_text,
    oids.INTERVAL: _enc_interval_text,
    oids.UUID: _enc_uuid_text,
    oids.JSON: encode_json_text,
    oids.JSONB: encode_json_text,
    oids.VOID: encode_void,
}

_CONTEXT_TEXT_ENCODERS: dict[int, Callable[[CodecContext], Encoder]] = {
    oids.FLOAT4: _float4_text_encoder,
    oids.FLOAT8: _float8_text_encoder,
    oids.TIMESTAMPTZ: _timestamptz_text_encoder,
}


def text_encoder(type_oid: int, ctx: CodecContext = DEFAULT_CONTEXT) -> Encoder:
    """The text-format encoder for ``type_oid`` (any unknown type is written with ``str``)."""
    enc = _TEXT_ENCODERS.get(type_oid)
    if enc is not None:
        return enc
    factory = _CONTEXT_TEXT_ENCODERS.get(type_oid)
    if factory is not None:
        return factory(ctx)
    info = oids.TYPES_BY_OID.get(type_oid)
    if info is not None and info.element_oid:
        return _array_text_encoder(text_encoder(info.element_oid, ctx))
    return _enc_text_text


def _int_parser(low: int, high: int, type_name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        s = text.strip()
        if not s or "_" in s:
            raise PgError(INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type {type_name}: "{text}"')
        try:
            value = int(s)
        except ValueError:
            raise PgError(
                INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type {type_name}: "{text}"'
            ) from None
        if not low <= value <= high:
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, f'value "{text}" is out of range for type {type_name}')
        return value

    return parse


def _parse_float(text: str) -> float:
    s = text.strip()
    low = s.lower()
    if low in ("infinity", "+infinity", "inf", "+inf"):
        return math.inf
    if low in ("-infinity", "-inf"):
        return -math.inf
    if low == "nan":
        return math.nan
    if "_" in s or "inf" in low or "nan" in low:
        raise PgError(
            INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type double precision: "{text}"'
        )
    try:
        return float(s)
    except ValueError:
        raise PgError(
            INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type double precision: "{text}"'
        ) from None


def _parse_numeric(text: str) -> Decimal:
    s = text.strip()
    low = s.lower()
    if low in ("infinity", "+infinity", "inf", "+inf"):
        return Decimal("Infinity")
    if low in ("-infinity", "-inf"):
        return Decimal("-Infinity")
    if low == "nan":
        return Decimal("NaN")
    if "_" in s or "n" in low or "i" in low:
        raise PgError(INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type numeric: "{text}"')
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise PgError(
            INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type numeric: "{text}"'
        ) from None
    return check_numeric(value)


def _parse_bytea(text: str) -> bytes:
    if text.startswith("\\x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            raise PgError(INVALID_TEXT_REPRESENTATION, "invalid hexadecimal data") from None
    out = bytearray()
    i = 0
    raw = text.encode("utf-8")
    while i < len(raw):
        c = raw[i]
        if c != 0x5C:  # backslash
            out.append(c)
            i += 1
        elif raw[i + 1 : i + 2] == b"\\":
            out.append(0x5C)
            i += 2
        elif len(raw) >= i + 4 and all(0x30 <= b <= 0x37 for b in raw[i + 1 : i + 4]):
            out.append(int(raw[i + 1 : i + 4], 8))
            i += 4
        else:
            raise PgError(INVALID_TEXT_REPRESENTATION, "invalid input syntax for type bytea")
    return bytes(out)


def _datetime_error(type_name: str, text: str) -> PgError:
    return PgError(INVALID_DATETIME_FORMAT, f'invalid input syntax for type {type_name}: "{text}"')


def _parse_date(text: str) -> date:
    s = text.strip()
    low = s.lower()
    if low == "infinity":
        return date.max
    if low == "-infinity":
        return date.min
    try:
        return date.fromisoformat(s)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(s).date()
    except ValueError:
        raise _datetime_error("date", text) from None


def _parse_time(text: str) -> time:
    s = text.strip()
    try:
        parsed = time.fromisoformat(s)
    except ValueError:
        if s.startswith("24:00"):
            return time(0, 0)
        raise _datetime_error("time without time zone", text) from None
    return parsed.replace(tzinfo=None)


def _parse_timestamp(text: str) -> datetime:
    s = text.strip()
    low = s.lower()
    if low == "infinity":
        return datetime.max
    if low == "-infinity":
        return datetime.min
    try:
        return datetime.fromisoformat(s).replace(tzinfo=None)
    except ValueError:
        raise _datetime_error("timestamp", text) from None


def _timestamptz_parser(ctx: CodecContext) -> Callable[[str], datetime]:
    zone = ctx.timezone

    def parse(text: str) -> datetime:
        s = text.strip()
        low = s.lower()
        if low == "infinity":
            return datetime.max.replace(tzinfo=UTC)
        if low == "-infinity":
            return datetime.min.replace(tzinfo=UTC)
        if s.endswith((" UTC", " utc")):
            s = s[:-4] + "+00"
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            raise _datetime_error("timestamp with time zone", text) from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=zone)
        return dt

    return parse


_INTERVAL_UNITS = {
    "microsecond": ("us", 1),
    "millisecond": ("us", 1000),
    "second": ("us", 1_000_000),
    "minute": ("us", 60_000_000),
    "hour": ("us", 3_600_000_000),
    "day": ("days", 1),
    "week": ("days", 7),
    "mon": ("months", 1),
    "month": ("months", 1),
    "year": ("months", 12),
    "decade": ("months", 120),
    "century": ("months", 1200),
    "millennium": ("months", 12000),
}
_INTERVAL_ABBREV = {
    "us": "microsecond", "usec": "microsecond", "usecs": "microsecond", "microseconds": "microsecond",
    "ms": "millisecond", "msec": "millisecond", "msecs": "millisecond", "milliseconds": "millisecond",
    "s": "second", "sec": "second", "secs": "second", "seconds": "second",
    "m": "minute", "min": "minute", "mins": "minute", "minutes": "minute",
    "h": "hour", "hr": "hour", "hrs": "hour", "hours": "hour",
    "d": "day", "days": "day", "w": "week", "weeks": "week",
    "mons": "mon", "months": "month", "y": "year", "yr": "year", "yrs": "year", "years": "year",
    "decades": "decade", "centuries": "century", "millennia": "millennium",
}  # fmt: skip


def parse_interval(text: str) -> Interval:
    """Parse interval input: PostgreSQL style (``1 year 2 mons -3 days 04:05:06``, ``@ 1 day ago``),
    unit words, and ISO 8601 (``P1Y2M3DT4H5M6S``)."""
    s = text.strip()
    if s[:1] in ("P", "p") or s[:2] in ("-P", "-p"):
        return _parse_iso_interval(text)
    months = days = usec = 0
    tokens = s.replace("@", " ").lower().split()
    ago = False
    i = 0
    try:
        while i < len(tokens):
            tok = tokens[i]
            if tok == "ago":
                ago = True
                i += 1
                continue
            if ":" in tok:
                neg = tok.startswith("-")
                parts = tok.lstrip("+-").split(":")
                hours = int(parts[0])
                minutes = int(parts[1]) if len(parts) > 1 else 0
                seconds = Decimal(parts[2]) if len(parts) > 2 else Decimal(0)
                value = int((hours * 3600 + minutes * 60 + seconds) * 1_000_000)
                usec += -value if neg else value
                i += 1
                continue
            number = Decimal(tok)
            unit = tokens[i + 1] if i + 1 < len(tokens) else "second"
            unit = _INTERVAL_ABBREV.get(unit, unit.rstrip("s") if unit not in _INTERVAL_UNITS else unit)
            if unit not in _INTERVAL_UNITS:
                raise ValueError(unit)
            field_name, factor = _INTERVAL_UNITS[unit]
            if field_name == "months":
                whole = int(number * factor)
                months += whole
                days += int((number * factor - whole) * 30)
            elif field_name == "days":
                whole = int(number * factor)
                days += whole
                usec += int((number * factor - whole) * USECS_PER_DAY)
            else:
                usec += int(number * factor)
            i += 2 if i + 1 < len(tokens) else 1
    except (ValueError, ArithmeticError, IndexError):
        raise _datetime_error("interval", text) from None
    if ago:
        months, days, usec = -months, -days, -usec
    return _checked_interval(months, days, usec, text)


def _checked_interval(months: int, days: int, usec: int, text: str) -> Interval:
    """The interval, or 22015 when a field does not fit PostgreSQL's int32/int32/int64 storage."""
    fits = INT32_MIN <= months <= INT32_MAX and INT32_MIN <= days <= INT32_MAX
    if not (fits and INT64_MIN <= usec <= INT64_MAX):
        raise PgError(INTERVAL_FIELD_OVERFLOW, f'interval field value out of range: "{text}"')
    return Interval(months, days, usec)


def _parse_iso_interval(text: str) -> Interval:
    import re

    m = re.fullmatch(
        r"\s*(-)?P(?:(-?\d+(?:\.\d+)?)Y)?(?:(-?\d+(?:\.\d+)?)M)?(?:(-?\d+(?:\.\d+)?)W)?(?:(-?\d+(?:\.\d+)?)D)?"
        r"(?:T(?:(-?\d+(?:\.\d+)?)H)?(?:(-?\d+(?:\.\d+)?)M)?(?:(-?\d+(?:\.\d+)?)S)?)?\s*",
        text,
        re.IGNORECASE,
    )
    if not m:
        raise _datetime_error("interval", text)
    neg, y, mo, w, d, h, mi, sec = m.groups()

    def num(x: str | None) -> Decimal:
        return Decimal(x) if x else Decimal(0)

    months = int(num(y) * 12 + num(mo))
    days = int(num(w) * 7 + num(d))
    usec = int((num(h) * 3600 + num(mi) * 60 + num(sec)) * 1_000_000)
    if neg:
        months, days, usec = -months, -days, -usec
    return _checked_interval(months, days, usec, text)


def _parse_uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise PgError(INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type uuid: "{text}"') from None


def parse_array_text(text: str, element: Callable[[str], Any]) -> list[Any]:
    """Parse a one- or multi-dimensional array literal (``{1,2,NULL}``, ``{"a b",c}``)."""
    s = text.strip(_ARRAY_SPACE)
    if s.startswith("["):  # explicit bounds: [1:3]={...}
        eq = s.find("=")
        if eq < 0:
            raise PgError(INVALID_TEXT_REPRESENTATION, f'malformed array literal: "{text}"')
        s = s[eq + 1 :].strip(_ARRAY_SPACE)
    pos = 0

    def fail() -> PgError:
        return PgError(INVALID_TEXT_REPRESENTATION, f'malformed array literal: "{text}"')

    def parse_level() -> list[Any]:
        nonlocal pos
        if pos >= len(s) or s[pos] != "{":
            raise fail()
        pos += 1
        items: list[Any] = []
        if pos < len(s) and s[pos] == "}":
            pos += 1
            return items
        while True:
            while pos < len(s) and s[pos] in _ARRAY_SPACE:
                pos += 1
            if pos >= len(s):
                raise fail()
            if s[pos] == "{":
                items.append(parse_level())
            elif s[pos] == '"':
                pos += 1
                buf = []
                while True:
                    if pos >= len(s):
                        raise fail()
                    c = s[pos]
                    if c == "\\":
                        pos += 1
                        if pos >= len(s):
                            raise fail()
                        buf.append(s[pos])
                    elif c == '"':
                        pos += 1
                        break
                    else:
                        buf.append(c)
                    pos += 1
                items.append(element("".join(buf)))
            else:
                start = pos
                buf = []
                while pos < len(s) and s[pos] not in ",}":
                    if s[pos] == "\\" and pos + 1 < len(s):
                        pos += 1
                    buf.append(s[pos])
                    pos += 1
                raw = "".join(buf).strip(_ARRAY_SPACE)
                if pos == start:
                    raise fail()
                items.append(None if raw.upper() == "NULL" else element(raw))
            while pos < len(s) and s[pos] in _ARRAY_SPACE:
                pos += 1
            if pos >= len(s):
                raise fail()
            if s[pos] == ",":
                pos += 1
                continue
            if s[pos] == "}":
                pos += 1
                return items
            raise fail()

    result = parse_level()
    if s[pos:].strip(_ARRAY_SPACE):
        raise fail()
    return result


def _text_parser(type_oid: int, ctx: CodecContext) -> Callable[[str], Any]:
    parser = _TEXT_PARSERS.get(type_oid)
    if parser is not None:
        return parser
    if type_oid == oids.TIMESTAMPTZ:
        return _timestamptz_parser(ctx)
    info = oids.TYPES_BY_OID.get(type_oid)
    if info is not None and info.element_oid:
        element = _text_parser(info.element_oid, ctx)
        return lambda text: parse_array_text(text, element)
    return str


_TEXT_PARSERS: dict[int, Callable[[str], Any]] = {
    oids.BOOL: parse_bool,
    oids.INT2: _int_parser(-(2**15), 2**15 - 1, "smallint"),
    oids.INT4: _int_parser(INT32_MIN, INT32_MAX, "integer"),
    oids.INT8: _int_parser(INT64_MIN, INT64_MAX, "bigint"),
    oids.OID: _int_parser(0, 2**32 - 1, "oid"),
    oids.FLOAT4: _parse_float,
    oids.FLOAT8: _parse_float,
    oids.NUMERIC: _parse_numeric,
    oids.BYTEA: _parse_bytea,
    oids.DATE: _parse_date,
    oids.TIME: _parse_time,
    oids.TIMESTAMP: _parse_timestamp,
    oids.INTERVAL: lambda text: interval_value(parse_interval(text)),
    oids.UUID: _parse_uuid,
    oids.JSON: parse_json,
    oids.JSONB: parse_json,
}


def text_decoder(type_oid: int, ctx: CodecContext = DEFAULT_CONTEXT) -> Decoder:
    """Decoder of text-format values of ``type_oid`` (unknown types come back as ``str``)."""
    parse = _text_parser(type_oid, ctx)

    def decode(data: bytes) -> Any:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise PgError("22021", 'invalid byte sequence for encoding "UTF8"') from None
        if "\x00" in text:
            raise PgError("22021", 'invalid byte sequence for encoding "UTF8": 0x00')
        return parse(text)

    return decode
