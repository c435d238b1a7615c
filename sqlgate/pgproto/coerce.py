"""Shared pieces of the value codecs: the codec context, interval values, lenient input coercion."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from sqlgate.errors import (
    INVALID_DATETIME_FORMAT,
    INVALID_TEXT_REPRESENTATION,
    NUMERIC_VALUE_OUT_OF_RANGE,
    PgError,
)

Encoder = Callable[[Any], bytes]
Decoder = Callable[[bytes], Any]

PG_EPOCH_DATE = date(2000, 1, 1)
PG_EPOCH_ORDINAL = PG_EPOCH_DATE.toordinal()
PG_EPOCH = datetime(2000, 1, 1)
USECS_PER_DAY = 86_400_000_000
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)


class Interval(NamedTuple):
    """A PostgreSQL interval with its three independent fields (months are not a fixed length)."""

    months: int = 0
    days: int = 0
    microseconds: int = 0

    def to_timedelta(self) -> timedelta:
        """Months counted as 30 days, as asyncpg does."""
        return timedelta(days=self.days + self.months * 30, microseconds=self.microseconds)


@dataclass(frozen=True, slots=True)
class CodecContext:
    """Session settings that change how values are written or read."""

    timezone: tzinfo = UTC
    extra_float_digits: int = 1


DEFAULT_CONTEXT = CodecContext()


# PostgreSQL's numeric limits: 131072 digits before the decimal point, 16383 after.
NUMERIC_MAX_WEIGHT_DIGITS = 131072
NUMERIC_MAX_SCALE = 16383


def check_numeric(value: Decimal) -> Decimal:
    """``value``, or 22003 when PostgreSQL's numeric could not hold it (as ``SELECT 1e999999`` fails).

    Checked before anything turns the value into an ``int``: ``int(Decimal("1e999999"))`` would
    build a million-digit integer and hold the event loop for minutes.
    """
    if value.is_finite() and value:
        exponent = value.as_tuple().exponent
        if value.adjusted() >= NUMERIC_MAX_WEIGHT_DIGITS or (
            isinstance(exponent, int) and exponent < -NUMERIC_MAX_SCALE
        ):
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, "value overflows numeric format")
    return value


def decimal_to_int(value: Decimal, low: int = INT64_MIN, high: int = INT64_MAX, name: str = "bigint") -> int:
    """An integral Decimal as an int within [low, high] (22003 outside, ValueError when not integral),
    without building huge integers."""
    if not value.is_finite():
        raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, f"{name} out of range")
    if not low <= value <= high:
        raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, f"{name} out of range")
    if value != value.to_integral_value():
        raise ValueError(value)
    return int(value)


def as_int(v: Any) -> int:
    if type(v) is int:
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, f"cannot convert {v} to integer")
        return int(v.to_integral_value(ROUND_HALF_UP))
    if isinstance(v, float):
        if not math.isfinite(v):
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, "integer out of range")
        return int(Decimal(repr(v)).to_integral_value(ROUND_HALF_UP))
    if isinstance(v, str | bytes):
        text = v.decode() if isinstance(v, bytes) else v
        return int(text.strip())
    return int(v)


def as_decimal(v: Any) -> Decimal:
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int):
        return Decimal(int(v))
    if isinstance(v, float):
        return Decimal(repr(v)) if math.isfinite(v) else Decimal(v)
    if isinstance(v, bytes):
        v = v.decode()
    try:
        return Decimal(str(v).strip())
    except InvalidOperation:
        raise PgError(INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type numeric: "{v}"') from None


def as_text(v: Any) -> str:
    if type(v) is str:
        return v
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).decode("utf-8", "replace")
    return str(v)


def as_datetime(v: Any) -> datetime:
    if isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    if isinstance(v, str):
        return datetime.fromisoformat(v.strip())
    raise PgError(INVALID_DATETIME_FORMAT, f"cannot convert {type(v).__name__} to a timestamp")


def as_date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        return date.fromisoformat(v.strip())
    raise PgError(INVALID_DATETIME_FORMAT, f"cannot convert {type(v).__name__} to a date")


def time_fields(v: Any) -> tuple[int, int, int, int]:
    """(hour, minute, second, microsecond) from a time, a timedelta (MySQL TIME) or a string."""
    if isinstance(v, time):
        return v.hour, v.minute, v.second, v.microsecond
    if isinstance(v, timedelta):
        total = v // timedelta(microseconds=1)
        secs, usec = divmod(total, 1_000_000)
        hours, rem = divmod(secs, 3600)
        return hours, rem // 60, rem % 60, usec
    if isinstance(v, datetime):
        return v.hour, v.minute, v.second, v.microsecond
    if isinstance(v, str):
        return time_fields(time.fromisoformat(v.strip()))
    raise PgError(INVALID_DATETIME_FORMAT, f"cannot convert {type(v).__name__} to a time")


def interval_fields(v: Any) -> tuple[int, int, int]:
    """(months, days, microseconds), splitting a timedelta symmetrically around zero like PostgreSQL."""
    if isinstance(v, Interval):
        return v.months, v.days, v.microseconds
    if isinstance(v, timedelta):
        total = v // timedelta(microseconds=1)
        days = int(total / USECS_PER_DAY) if abs(total) < 2**52 else total // USECS_PER_DAY
        if total < 0 and days * USECS_PER_DAY < total:
            days += 1
        return 0, days, total - days * USECS_PER_DAY
    if isinstance(v, tuple) and len(v) == 3:
        return int(v[0]), int(v[1]), int(v[2])
    if isinstance(v, str):
        from sqlgate.pgproto.text_codec import parse_interval

        return interval_fields(parse_interval(v))
    raise PgError(INVALID_DATETIME_FORMAT, f"cannot convert {type(v).__name__} to an interval")


_TRUE_WORDS = ("true", "yes", "on", "1")
_FALSE_WORDS = ("false", "no", "off", "0")


def parse_bool(text: str) -> bool:
    s = text.strip().lower()
    if s and (any(w.startswith(s) for w in ("true", "yes")) or s in ("on", "1")):
        return True
    if s and (any(w.startswith(s) for w in ("false", "no")) or s in ("off", "of", "0")):
        return False
    raise PgError(INVALID_TEXT_REPRESENTATION, f'invalid input syntax for type boolean: "{text}"')


def parse_json(text: str) -> str:
    try:
        json.loads(text)
    except ValueError:
        raise PgError(INVALID_TEXT_REPRESENTATION, "invalid input syntax for type json") from None
    return text


def interval_value(iv: Interval) -> timedelta | Interval:
    """Intervals without months are plain ``timedelta``; with months they stay an :class:`Interval`."""
    if iv.months:
        return iv
    return timedelta(days=iv.days, microseconds=iv.microseconds)
