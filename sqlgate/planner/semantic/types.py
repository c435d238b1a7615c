"""Result column types: member types → PostgreSQL OIDs, sqlglot types ↔ OIDs, value coercion.

Every column a semantic query returns has a type fixed at planning time (Describe must not touch the
datasource). Rows from the datasource are coerced to that type, so a client sees the same types from
PostgreSQL, MySQL and DuckDB datasources. A value that cannot be represented in the declared type is
an error, never a silently changed value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlglot import exp

from sqlgate.errors import DATATYPE_MISMATCH, PgError
from sqlgate.pgproto import oids
from sqlgate.semantic.definitions import Member

_COUNT_MEASURES = frozenset({"count", "count_distinct", "count_distinct_approx"})


def member_type_oid(member: Member) -> int:
    """The PostgreSQL type a member is exposed as (catalog and results agree on it)."""
    if member.kind == "segment":
        return oids.BOOL
    if member.kind == "measure":
        if member.type in _COUNT_MEASURES:
            return oids.INT8
        return {"string": oids.TEXT, "time": oids.TIMESTAMP, "boolean": oids.BOOL}.get(
            member.type, oids.NUMERIC
        )
    return {
        "string": oids.TEXT,
        "number": oids.NUMERIC,
        "time": oids.TIMESTAMP,
        "boolean": oids.BOOL,
    }.get(member.type, oids.TEXT)


_OID_TO_SQLGLOT: dict[int, str] = {
    oids.INT2: "SMALLINT",
    oids.INT4: "INT",
    oids.INT8: "BIGINT",
    oids.NUMERIC: "DECIMAL",
    oids.FLOAT4: "FLOAT",
    oids.FLOAT8: "DOUBLE",
    oids.TEXT: "TEXT",
    oids.VARCHAR: "TEXT",
    oids.BOOL: "BOOLEAN",
    oids.TIMESTAMP: "TIMESTAMP",
    oids.TIMESTAMPTZ: "TIMESTAMPTZ",
    oids.DATE: "DATE",
    oids.INTERVAL: "INTERVAL",
}

_T = exp.DataType.Type
_SQLGLOT_TO_OID: dict[Any, int] = {
    _T.BIGINT: oids.INT8,
    _T.UBIGINT: oids.NUMERIC,
    _T.INT: oids.INT4,
    _T.UINT: oids.INT8,
    _T.MEDIUMINT: oids.INT4,
    _T.SMALLINT: oids.INT2,
    _T.TINYINT: oids.INT2,
    _T.USMALLINT: oids.INT4,
    _T.UTINYINT: oids.INT2,
    _T.DECIMAL: oids.NUMERIC,
    _T.BIGDECIMAL: oids.NUMERIC,
    _T.DOUBLE: oids.FLOAT8,
    _T.FLOAT: oids.FLOAT8,
    _T.BOOLEAN: oids.BOOL,
    _T.TEXT: oids.TEXT,
    _T.VARCHAR: oids.TEXT,
    _T.NVARCHAR: oids.TEXT,
    _T.CHAR: oids.TEXT,
    _T.NCHAR: oids.TEXT,
    _T.TIMESTAMP: oids.TIMESTAMP,
    _T.DATETIME: oids.TIMESTAMP,
    _T.TIMESTAMPNTZ: oids.TIMESTAMP,
    _T.TIMESTAMPTZ: oids.TIMESTAMPTZ,
    _T.TIMESTAMPLTZ: oids.TIMESTAMPTZ,
    _T.DATE: oids.DATE,
    _T.INTERVAL: oids.INTERVAL,
}


def sqlglot_type_name(oid: int) -> str:
    """The sqlglot type name used to describe a column of type ``oid`` to annotate_types."""
    return _OID_TO_SQLGLOT.get(oid, "TEXT")


def oid_of_sqlglot_type(data_type: exp.DataType | None, default: int = oids.TEXT) -> int:
    """The PostgreSQL OID for a type sqlglot inferred (``default`` when unknown or NULL)."""
    if data_type is None:
        return default
    return _SQLGLOT_TO_OID.get(data_type.this, default)


def data_type(oid: int) -> exp.DataType:
    """A sqlglot DataType for ``oid`` (casts in generated SQL)."""
    return exp.DataType(this=exp.DataType.Type[sqlglot_type_name(oid)])


# ------------------------------------------------------------------------------------- coercion

Coercer = Callable[[Any], Any]


def _mismatch(value: Any, target: str) -> PgError:
    hint = None
    if isinstance(value, dt.date | dt.time) and target in ("numeric", "bigint"):
        # The usual cause: a min/max measure over a time column, which the model types as a number.
        hint = "a measure over a time column should be declared `type: time` with `sql: MIN(...)`/`MAX(...)`"
    return PgError(
        DATATYPE_MISMATCH,
        f"the datasource returned {type(value).__name__} value {str(value)[:40]!r}"
        f" for a column of type {target}",
        hint=hint,
    )


def _to_int(value: Any) -> Any:
    if value is None or type(value) is int:
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _mismatch(value, "bigint")
        if value == int(value):
            return int(value)
        raise _mismatch(value, "bigint")
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise _mismatch(value, "bigint") from None
    raise _mismatch(value, "bigint")


def _to_numeric(value: Any) -> Any:
    if value is None or type(value) is Decimal:
        return value
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isnan(value):
            return Decimal("NaN")
        if math.isinf(value):
            return Decimal("Infinity") if value > 0 else Decimal("-Infinity")
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise _mismatch(value, "numeric") from None
    raise _mismatch(value, "numeric")


def _to_float(value: Any) -> Any:
    if value is None or type(value) is float:
        return value
    if isinstance(value, int | Decimal | str):
        try:
            return float(value)
        except ValueError:
            raise _mismatch(value, "double precision") from None
    raise _mismatch(value, "double precision")


def to_text(value: Any) -> Any:
    """``value`` as text, the way PostgreSQL prints it (None stays None)."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _to_bool(value: Any) -> Any:
    if value is None or type(value) is bool:
        return value
    if isinstance(value, int | Decimal) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("t", "true", "1", "f", "false", "0"):
        return value.lower() in ("t", "true", "1")
    raise _mismatch(value, "boolean")


def to_utc_naive(value: dt.datetime) -> dt.datetime:
    """A naive datetime in UTC (aware values are converted, naive ones are taken as UTC)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _to_timestamp(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is None else to_utc_naive(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return to_utc_naive(dt.datetime.fromisoformat(value))
        except ValueError:
            raise _mismatch(value, "timestamp") from None
    raise _mismatch(value, "timestamp")


def _to_timestamptz(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return _to_timestamptz(_to_timestamp(value))


def _to_date(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return to_utc_naive(value).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            raise _mismatch(value, "date") from None
    raise _mismatch(value, "date")


_COERCERS: dict[int, Coercer] = {
    oids.INT2: _to_int,
    oids.INT4: _to_int,
    oids.INT8: _to_int,
    oids.NUMERIC: _to_numeric,
    oids.FLOAT4: _to_float,
    oids.FLOAT8: _to_float,
    oids.TEXT: to_text,
    oids.VARCHAR: to_text,
    oids.BOOL: _to_bool,
    oids.TIMESTAMP: _to_timestamp,
    oids.TIMESTAMPTZ: _to_timestamptz,
    oids.DATE: _to_date,
}

# Source column types whose Python values already have the right form for a target type.
_NO_CONVERSION: dict[int, frozenset[int]] = {
    oids.INT8: frozenset({oids.INT2, oids.INT4, oids.INT8}),
    oids.INT4: frozenset({oids.INT2, oids.INT4}),
    oids.INT2: frozenset({oids.INT2}),
    oids.NUMERIC: frozenset({oids.NUMERIC}),
    oids.FLOAT8: frozenset({oids.FLOAT8, oids.FLOAT4}),
    oids.TEXT: frozenset({oids.TEXT, oids.VARCHAR, oids.BPCHAR, oids.NAME}),
    oids.BOOL: frozenset({oids.BOOL}),
    oids.TIMESTAMP: frozenset({oids.TIMESTAMP}),
    oids.DATE: frozenset({oids.DATE}),
}


def coercer(target_oid: int, source_oid: int | None = None) -> Coercer | None:
    """The function turning datasource values into ``target_oid`` values; None when none is needed."""
    if source_oid is not None and source_oid in _NO_CONVERSION.get(target_oid, frozenset()):
        return None
    return _COERCERS.get(target_oid)
