"""FROM-less SELECTs answered in-process: ``SELECT 1``, literals, ``$n`` parameters, ``version()``,
``current_database()``, ``current_user``, ``current_setting(…)``, ``pg_sleep(n)`` and friends.

The result types and column names are PostgreSQL's (``SELECT 1`` is an int4 column named
``?column?``; ``SELECT version()`` a text column named ``version``; ``current_user`` is of type name).
A statement qualifies only if every expression in it is understood here; anything else is left to the
other handlers (:func:`analyse` returns None).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

from sqlglot import exp

from sqlgate.errors import (
    DIVISION_BY_ZERO,
    INVALID_PARAMETER_VALUE,
    NUMERIC_VALUE_OUT_OF_RANGE,
    UNDEFINED_OBJECT,
    PgError,
)
from sqlgate.pgproto import oids
from sqlgate.pgproto.values import Interval, decode_value, encode_value, parse_interval
from sqlgate.planner import gucs, lexer
from sqlgate.planner.api import BoundParams, ResultColumn
from sqlgate.planner.session import Session
from sqlgate.planner.statements import InProcessStatement

_DTYPE_OIDS: dict[Any, int] = {
    exp.DType.BOOLEAN: oids.BOOL,
    exp.DType.SMALLINT: oids.INT2,
    exp.DType.INT: oids.INT4,
    exp.DType.BIGINT: oids.INT8,
    exp.DType.FLOAT: oids.FLOAT4,
    exp.DType.DOUBLE: oids.FLOAT8,
    exp.DType.DECIMAL: oids.NUMERIC,
    exp.DType.TEXT: oids.TEXT,
    exp.DType.VARCHAR: oids.VARCHAR,
    exp.DType.CHAR: oids.BPCHAR,
    exp.DType.NAME: oids.NAME,
    exp.DType.VARBINARY: oids.BYTEA,
    exp.DType.DATE: oids.DATE,
    exp.DType.TIME: oids.TIME,
    exp.DType.TIMESTAMP: oids.TIMESTAMP,
    exp.DType.TIMESTAMPTZ: oids.TIMESTAMPTZ,
    exp.DType.INTERVAL: oids.INTERVAL,
    exp.DType.UUID: oids.UUID,
    exp.DType.JSON: oids.JSON,
    exp.DType.JSONB: oids.JSONB,
}
# reg* casts (``'orders'::regclass``) need the catalog, so they are not builtins.
_NAMED_TYPE_OIDS = {"oid": oids.OID, '"char"': oids.CHAR}

# Types sqlgate can cast a literal to (through text I/O, like PostgreSQL's I/O conversion casts).
_INT_TYPES = (oids.INT2, oids.INT4, oids.INT8)
_NUMBER_TYPES = (*_INT_TYPES, oids.NUMERIC, oids.FLOAT4, oids.FLOAT8)
_TEXT_TYPES = (oids.TEXT, oids.VARCHAR, oids.BPCHAR, oids.NAME, oids.UNKNOWN)
_INT_RANGES = {oids.INT2: 2**15, oids.INT4: 2**31, oids.INT8: 2**63}
_INT_NAMES = {oids.INT2: "smallint", oids.INT4: "integer", oids.INT8: "bigint"}


def type_oid_of(datatype: exp.DataType | exp.Expression) -> int | None:
    """The OID for a sqlglot data type (``int``, ``varchar(3)``, ``text[]`` …), None when unknown."""
    if not isinstance(datatype, exp.DataType):
        name = datatype.sql("postgres").lower()
        return _NAMED_TYPE_OIDS.get(name)
    if datatype.this == exp.DType.ARRAY:
        inner = datatype.expressions[0] if datatype.expressions else None
        element = type_oid_of(inner) if inner is not None else None
        info = oids.TYPES_BY_OID.get(element or -1)
        return info.array_oid if info is not None and info.array_oid else None
    if datatype.this == exp.DType.USERDEFINED:
        return _NAMED_TYPE_OIDS.get(datatype.sql("postgres").lower())
    found = _DTYPE_OIDS.get(datatype.this)
    if found is not None:
        return found
    return _NAMED_TYPE_OIDS.get(datatype.sql("postgres").lower())


class NotBuiltin(Exception):
    """The expression is not something this module answers."""


# Function name -> (result type, argument types for inference). Names are matched lower-cased,
# with or without the pg_catalog. prefix.
_FUNCTIONS: dict[str, tuple[int, tuple[int, ...]]] = {
    "version": (oids.TEXT, ()),
    "current_database": (oids.NAME, ()),
    "current_schema": (oids.NAME, ()),
    "current_schemas": (oids.NAME_ARRAY, (oids.BOOL,)),
    "current_setting": (oids.TEXT, (oids.TEXT, oids.BOOL)),
    "set_config": (oids.TEXT, (oids.TEXT, oids.TEXT, oids.BOOL)),
    "pg_sleep": (oids.VOID, (oids.FLOAT8,)),
    "pg_backend_pid": (oids.INT4, ()),
    "pg_is_in_recovery": (oids.BOOL, ()),
    "pg_advisory_unlock_all": (oids.VOID, ()),
    "now": (oids.TIMESTAMPTZ, ()),
    "transaction_timestamp": (oids.TIMESTAMPTZ, ()),
    "statement_timestamp": (oids.TIMESTAMPTZ, ()),
    "clock_timestamp": (oids.TIMESTAMPTZ, ()),
    "timeofday": (oids.TEXT, ()),
    "pg_postmaster_start_time": (oids.TIMESTAMPTZ, ()),
    "pg_client_encoding": (oids.NAME, ()),
}
# Keyword-like functions sqlglot turns into nodes: node type -> (name as PostgreSQL shows it, type).
_NODE_FUNCTIONS: dict[type[exp.Expression], tuple[str, int]] = {
    exp.CurrentUser: ("current_user", oids.NAME),
    exp.SessionUser: ("session_user", oids.NAME),
    exp.CurrentCatalog: ("current_catalog", oids.NAME),
    exp.CurrentDatabase: ("current_database", oids.NAME),
    exp.CurrentSchema: ("current_schema", oids.NAME),
    exp.CurrentVersion: ("version", oids.TEXT),
    exp.CurrentTimestamp: ("current_timestamp", oids.TIMESTAMPTZ),
    exp.CurrentDate: ("current_date", oids.DATE),
    exp.Localtimestamp: ("localtimestamp", oids.TIMESTAMP),
}
_WORD_FUNCTIONS = {"user": "current_user", "current_role": "current_user", "current_user": "current_user",
                   "session_user": "session_user", "current_catalog": "current_catalog",
                   "current_schema": "current_schema"}  # fmt: skip

_STARTED_AT = datetime.now(UTC)


def _function_name(node: exp.Expression) -> tuple[str, list[exp.Expression]] | None:
    """(lower-case name, arguments) for a plain or pg_catalog-qualified function call."""
    if isinstance(node, exp.Dot) and isinstance(node.this, exp.Identifier):
        if node.this.name.lower() != "pg_catalog":
            return None
        node = node.expression
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower(), list(node.expressions)
    if isinstance(node, exp.CurrentSchemas):
        return "current_schemas", [node.this] if node.this is not None else []
    return None


@dataclass
class _Analysis:
    columns: list[ResultColumn]
    param_oids: list[int]


class Evaluator:
    """Types and values of builtin expressions for one statement."""

    def __init__(self, sql: str, param_oids: Sequence[int]) -> None:
        self.sql = sql
        self.declared = list(param_oids)
        self.inferred: dict[int, int] = {}
        # now() and current_timestamp are the same node in sqlglot; name them from the text, in order.
        self._timestamp_words = [
            t.lower
            for t in lexer.tokenize(sql, strict=False)
            if t.kind == lexer.WORD and t.lower in ("now", "current_timestamp")
        ]
        self._timestamp_index = 0

    # ------------------------------------------------------------------ static analysis

    def param_type(self, index: int) -> int:
        if index <= len(self.declared) and self.declared[index - 1]:
            return self.declared[index - 1]
        return self.inferred.get(index, oids.TEXT)

    def note_param(self, node: exp.Expression, wanted: int) -> None:
        if isinstance(node, exp.Parameter):
            index = _param_index(node)
            if not (index <= len(self.declared) and self.declared[index - 1]):
                self.inferred.setdefault(index, wanted)

    def type_of(self, node: exp.Expression) -> int:
        if isinstance(node, exp.Alias | exp.Paren):
            return self.type_of(node.this)
        if isinstance(node, exp.Literal):
            if node.is_string:
                return oids.UNKNOWN
            return _number_literal_type(node.this)
        if isinstance(node, exp.ByteString | exp.RawString):
            return oids.UNKNOWN
        if isinstance(node, exp.Boolean):
            return oids.BOOL
        if isinstance(node, exp.Null):
            return oids.UNKNOWN
        if isinstance(node, exp.Parameter):
            _param_index(node)
            return -_param_index(node)  # resolved after the walk (see resolve)
        if isinstance(node, exp.Cast):
            target = type_oid_of(node.to)
            if target is None:
                raise NotBuiltin
            self.note_param(node.this, target)
            self.type_of(node.this)
            return target
        if isinstance(node, exp.Neg):
            inner = node.this
            if isinstance(inner, exp.Literal) and not inner.is_string:
                # PostgreSQL folds the sign into the constant: -2147483648 is an integer.
                return _number_literal_type(inner.this, negative=True)
            return self.type_of(inner)
        if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod | exp.Pow):
            left, right = self.type_of(node.this), self.type_of(node.expression)
            if left < 0 and right > 0:
                self.note_param(node.this, right)
                left = right
            if right < 0 and left > 0:
                self.note_param(node.expression, left)
                right = left
            result = _arith_type(left, right)
            if isinstance(node, exp.Pow) and result in _INT_TYPES:
                return oids.FLOAT8
            return result
        if isinstance(node, exp.DPipe):
            self.type_of(node.this)
            self.type_of(node.expression)
            return oids.TEXT
        if isinstance(node, exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE):
            left, right = self.type_of(node.this), self.type_of(node.expression)
            if left < 0 < right:
                self.note_param(node.this, right)
            if right < 0 < left:
                self.note_param(node.expression, left)
            return oids.BOOL
        if isinstance(node, exp.And | exp.Or):
            self.note_param(node.this, oids.BOOL)
            self.note_param(node.expression, oids.BOOL)
            self.type_of(node.this)
            self.type_of(node.expression)
            return oids.BOOL
        if isinstance(node, exp.Not):
            self.note_param(node.this, oids.BOOL)
            self.type_of(node.this)
            return oids.BOOL
        if isinstance(node, exp.Is):
            self.type_of(node.this)
            return oids.BOOL
        if isinstance(node, exp.Coalesce):
            types = [self.type_of(a) for a in [node.this, *node.expressions]]
            return next((t for t in types if t > 0 and t != oids.UNKNOWN), oids.TEXT)
        if isinstance(node, exp.Interval):
            return oids.INTERVAL
        if type(node) in _NODE_FUNCTIONS:
            return _NODE_FUNCTIONS[type(node)][1]
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in _WORD_FUNCTIONS:
            return oids.NAME
        call = _function_name(node)
        if call is not None and call[0] in _FUNCTIONS:
            name, args = call
            result, arg_types = _FUNCTIONS[name]
            if len(args) > max(len(arg_types), 0) or (
                name in _REQUIRED_ARGS and len(args) < _REQUIRED_ARGS[name]
            ):
                raise NotBuiltin
            for arg, wanted in zip(args, arg_types, strict=False):
                self.note_param(arg, wanted)
                self.type_of(arg)
            return result
        raise NotBuiltin

    def resolve(self, type_oid: int) -> int:
        """Result-column type: parameters get their (declared or inferred) type, unknown becomes text."""
        if type_oid < 0:
            type_oid = self.param_type(-type_oid)
        return oids.TEXT if type_oid == oids.UNKNOWN else type_oid

    def column_name(self, node: exp.Expression) -> str:
        if isinstance(node, exp.Alias):
            return node.alias
        if isinstance(node, exp.Cast):
            inner = self.column_name(node.this)
            if inner != "?column?":
                return inner
            target = type_oid_of(node.to)
            info = oids.TYPES_BY_OID.get(target or -1)
            return info.name if info is not None else "?column?"
        if isinstance(node, exp.CurrentTimestamp):
            if self._timestamp_index < len(self._timestamp_words):
                word = self._timestamp_words[self._timestamp_index]
                self._timestamp_index += 1
                return word
            return "current_timestamp"
        if type(node) in _NODE_FUNCTIONS:
            return _NODE_FUNCTIONS[type(node)][0]
        if isinstance(node, exp.Column):
            return node.name
        if isinstance(node, exp.Coalesce):
            return "coalesce"
        if isinstance(node, exp.Interval):
            return "interval"
        call = _function_name(node)
        if call is not None:
            return call[0]
        return "?column?"

    # ------------------------------------------------------------------ evaluation

    async def value(self, node: exp.Expression, session: Session, params: list[Any]) -> tuple[Any, int]:
        """(Python value, type OID) of ``node``."""
        if isinstance(node, exp.Alias | exp.Paren):
            return await self.value(node.this, session, params)
        if isinstance(node, exp.Literal):
            if node.is_string:
                return node.this, oids.UNKNOWN
            return _number_literal(node.this), _number_literal_type(node.this)
        if isinstance(node, exp.ByteString | exp.RawString):
            return node.this, oids.UNKNOWN
        if isinstance(node, exp.Boolean):
            return bool(node.this), oids.BOOL
        if isinstance(node, exp.Null):
            return None, oids.UNKNOWN
        if isinstance(node, exp.Parameter):
            index = _param_index(node)
            if index > len(params):
                raise PgError("08P01", f"there is no parameter ${index}")
            value, kind = params[index - 1], self.param_type(index)
            if isinstance(value, str) and kind not in _TEXT_TYPES:
                value = decode_value(value.encode(), kind, 0, session.codec_context())
            return value, kind
        if isinstance(node, exp.Cast):
            value, source = await self.value(node.this, session, params)
            target = type_oid_of(node.to)
            assert target is not None
            return cast_value(value, source, target, session), target
        if isinstance(node, exp.Neg):
            value, kind = await self.value(node.this, session, params)
            if value is None:
                return None, kind
            return _check_range(-value, kind), kind
        if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod | exp.Pow):
            return await self._arithmetic(node, session, params)
        if isinstance(node, exp.DPipe):
            left, ltype = await self.value(node.this, session, params)
            right, rtype = await self.value(node.expression, session, params)
            if left is None or right is None:
                return None, oids.TEXT
            return _as_text(left, ltype, session) + _as_text(right, rtype, session), oids.TEXT
        if isinstance(node, exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE):
            return await self._compare(node, session, params), oids.BOOL
        if isinstance(node, exp.And | exp.Or | exp.Not):
            return await self._logic(node, session, params), oids.BOOL
        if isinstance(node, exp.Is):
            value, _ = await self.value(node.this, session, params)
            return value is None, oids.BOOL
        if isinstance(node, exp.Coalesce):
            wanted = self.resolve(self.type_of(node))
            for arg in [node.this, *node.expressions]:
                value, kind = await self.value(arg, session, params)
                if value is not None:
                    return cast_value(value, kind, wanted, session), wanted
            return None, wanted
        if isinstance(node, exp.Interval):
            unit = node.unit.name if node.unit is not None else ""
            return parse_interval(f"{node.this.name} {unit}"), oids.INTERVAL
        return await self._function(node, session, params)

    async def _arithmetic(self, node: exp.Expression, session: Session, params: list[Any]) -> tuple[Any, int]:
        left, ltype = await self.value(node.this, session, params)
        right, rtype = await self.value(node.expression, session, params)
        result_type = self.resolve(self.type_of(node))
        if left is None or right is None:
            return None, result_type
        if result_type == oids.DATE and isinstance(node, exp.Add | exp.Sub):
            day_count, the_date = (left, right) if ltype in _INT_TYPES else (right, left)
            the_date = cast_value(the_date, oids.UNKNOWN, oids.DATE, session)
            delta = timedelta(days=int(day_count))
            return (the_date + delta if isinstance(node, exp.Add) else the_date - delta), oids.DATE
        left = cast_value(left, ltype, result_type, session)
        right = cast_value(right, rtype, result_type, session)
        try:
            if isinstance(node, exp.Add):
                value = left + right
            elif isinstance(node, exp.Sub):
                value = left - right
            elif isinstance(node, exp.Mul):
                value = left * right
            elif isinstance(node, exp.Pow):
                value = float(left) ** float(right) if result_type != oids.NUMERIC else left**right
            elif isinstance(node, exp.Div):
                if right == 0:
                    raise PgError(DIVISION_BY_ZERO, "division by zero")
                if result_type in _INT_TYPES:
                    value = abs(left) // abs(right) * (1 if (left >= 0) == (right > 0) else -1)
                else:
                    value = left / right
            else:
                if right == 0:
                    raise PgError(DIVISION_BY_ZERO, "division by zero")
                value = abs(left) % abs(right) * (1 if left >= 0 else -1)
        except (DivisionByZero, ZeroDivisionError):
            raise PgError(DIVISION_BY_ZERO, "division by zero") from None
        except (InvalidOperation, OverflowError):
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, "value out of range") from None
        return _check_range(value, result_type), result_type

    async def _compare(self, node: exp.Expression, session: Session, params: list[Any]) -> bool | None:
        left, ltype = await self.value(node.this, session, params)
        right, rtype = await self.value(node.expression, session, params)
        if left is None or right is None:
            return None
        if ltype == oids.UNKNOWN and rtype != oids.UNKNOWN:
            left = cast_value(left, ltype, rtype, session)
        elif rtype == oids.UNKNOWN and ltype != oids.UNKNOWN:
            right = cast_value(right, rtype, ltype, session)
        elif ltype in _NUMBER_TYPES and rtype in _NUMBER_TYPES and ltype != rtype:
            left, right = Decimal(str(left)), Decimal(str(right))
        try:
            if isinstance(node, exp.EQ):
                return bool(left == right)
            if isinstance(node, exp.NEQ):
                return bool(left != right)
            if isinstance(node, exp.GT):
                return bool(left > right)
            if isinstance(node, exp.GTE):
                return bool(left >= right)
            if isinstance(node, exp.LT):
                return bool(left < right)
            return bool(left <= right)
        except TypeError:
            raise PgError("42883", "operator does not exist for these types") from None

    async def _logic(self, node: exp.Expression, session: Session, params: list[Any]) -> bool | None:
        if isinstance(node, exp.Not):
            value, kind = await self.value(node.this, session, params)
            value = cast_value(value, kind, oids.BOOL, session)
            return None if value is None else not value
        left, ltype = await self.value(node.this, session, params)
        right, rtype = await self.value(node.expression, session, params)
        left = cast_value(left, ltype, oids.BOOL, session)
        right = cast_value(right, rtype, oids.BOOL, session)
        if isinstance(node, exp.And):
            if left is False or right is False:
                return False
            return None if left is None or right is None else True
        if left is True or right is True:
            return True
        return None if left is None or right is None else False

    async def _function(self, node: exp.Expression, session: Session, params: list[Any]) -> tuple[Any, int]:
        ctx = session.ctx
        if type(node) in _NODE_FUNCTIONS:
            name = _NODE_FUNCTIONS[type(node)][0]
            args: list[exp.Expression] = []
        elif isinstance(node, exp.Column):
            name, args = _WORD_FUNCTIONS[node.name.lower()], []
        else:
            call = _function_name(node)
            if call is None:
                raise NotBuiltin
            name, args = call
        values = [await self.value(a, session, params) for a in args]
        arg_types = _FUNCTIONS.get(name, (0, ()))[1]
        plain = [cast_value(v, t, want, session) for (v, t), want in zip(values, arg_types, strict=False)]
        if name == "version":
            return gucs.version_string(), oids.TEXT
        if name in ("current_database", "current_catalog"):
            return session.database, oids.NAME
        if name in ("current_user", "session_user"):
            return ctx.username if ctx is not None else "", oids.NAME
        if name == "current_schema":
            return "public", oids.NAME
        if name == "current_schemas":
            implicit = bool(plain[0]) if plain else False
            return (["pg_catalog", "public"] if implicit else ["public"]), oids.NAME_ARRAY
        if name == "current_setting":
            if plain[0] is None:
                return None, oids.TEXT
            missing_ok = len(plain) > 1 and bool(plain[1])
            try:
                return session.get_setting(str(plain[0])), oids.TEXT
            except PgError as exc:
                if missing_ok and exc.sqlstate == UNDEFINED_OBJECT:
                    return None, oids.TEXT
                raise
        if name == "set_config":
            if plain[0] is None:
                raise PgError(INVALID_PARAMETER_VALUE, "SET requires parameter name")
            setting = str(plain[0])
            is_local = bool(plain[2]) if len(plain) > 2 else False
            canonical = session.set_setting(
                setting, "" if plain[1] is None else str(plain[1]), local=is_local
            )
            return session.settings.get(canonical, ""), oids.TEXT
        if name == "pg_sleep":
            seconds = float(plain[0] or 0)
            if seconds > 0:
                await asyncio.sleep(seconds)
            return "", oids.VOID
        if name == "pg_backend_pid":
            return session.process_id, oids.INT4
        if name == "pg_is_in_recovery":
            return False, oids.BOOL
        if name == "pg_advisory_unlock_all":
            return "", oids.VOID
        if name in (
            "now",
            "transaction_timestamp",
            "statement_timestamp",
            "clock_timestamp",
            "current_timestamp",
        ):
            return datetime.now(UTC), oids.TIMESTAMPTZ
        if name == "timeofday":
            return datetime.now(session.codec_context().timezone).strftime(
                "%a %b %d %H:%M:%S.%f %Y %Z"
            ), oids.TEXT
        if name == "current_date":
            return datetime.now(session.codec_context().timezone).date(), oids.DATE
        if name == "localtimestamp":
            return datetime.now(session.codec_context().timezone).replace(tzinfo=None), oids.TIMESTAMP
        if name == "pg_postmaster_start_time":
            return _STARTED_AT, oids.TIMESTAMPTZ
        if name == "pg_client_encoding":
            return session.settings.get("client_encoding", "UTF8"), oids.NAME
        raise NotBuiltin


_REQUIRED_ARGS = {"current_setting": 1, "set_config": 3, "pg_sleep": 1, "current_schemas": 1}


def _param_index(node: exp.Parameter) -> int:
    try:
        index = int(node.this.this if isinstance(node.this, exp.Literal) else node.name)
    except (TypeError, ValueError):
        raise NotBuiltin from None
    if index < 1:
        raise NotBuiltin
    return index


def _number_literal_type(text: str, *, negative: bool = False) -> int:
    if re.fullmatch(r"\d+", text):
        value = int(text)
        if value < 2**31 + negative:
            return oids.INT4
        if value < 2**63 + negative:
            return oids.INT8
    return oids.NUMERIC


def _number_literal(text: str) -> int | Decimal:
    if re.fullmatch(r"\d+", text):
        value = int(text)
        if value <= 2**63:  # 2**63 itself only as the operand of a minus sign
            return value
    return Decimal(text.replace("_", ""))


def _arith_type(left: int, right: int) -> int:
    kinds = {left, right} - {oids.UNKNOWN}
    if not kinds:
        raise NotBuiltin
    if any(k < 0 for k in kinds):
        raise NotBuiltin  # an operator between untyped parameters: PostgreSQL cannot choose either
    if oids.DATE in kinds and kinds & set(_INT_TYPES):
        return oids.DATE
    if not kinds <= set(_NUMBER_TYPES):
        raise NotBuiltin
    for candidate in (oids.FLOAT8, oids.FLOAT4, oids.NUMERIC, oids.INT8, oids.INT4, oids.INT2):
        if candidate in kinds:
            return oids.FLOAT8 if candidate == oids.FLOAT4 else candidate
    return oids.NUMERIC


def _check_range(value: Any, type_oid: int) -> Any:
    bound = _INT_RANGES.get(type_oid)
    if bound is not None and not -bound <= value < bound:
        raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, f"{_INT_NAMES[type_oid]} out of range")
    return value


def _as_text(value: Any, type_oid: int, session: Session) -> str:
    if type_oid in _TEXT_TYPES or isinstance(value, str):
        return str(value)
    return encode_value(value, type_oid, 0, session.codec_context()).decode()


def cast_value(value: Any, source: int, target: int, session: Session) -> Any:
    """``value::target`` for a value of type ``source``, by text I/O as PostgreSQL does for literals."""
    if value is None or source == target:
        return value
    if target in _TEXT_TYPES:
        return _as_text(value, source, session)
    if target in _NUMBER_TYPES and source in _NUMBER_TYPES:
        if target in _INT_TYPES:
            number = int(Decimal(str(value)).to_integral_value()) if not isinstance(value, int) else value
            return _check_range(number, target)
        if target == oids.NUMERIC:
            return Decimal(str(value)) if not isinstance(value, Decimal) else value
        return float(value)
    if target == oids.INTERVAL and isinstance(value, Interval | timedelta):
        return value
    if target == oids.DATE and isinstance(value, date):
        return value
    if target == oids.BOOL and source in _INT_TYPES:
        return bool(value)
    if source in _INT_TYPES and target == oids.BOOL:
        return bool(value)
    text = _as_text(value, source, session)
    ctx = session.codec_context()
    return decode_value(text.encode(), target, 0, ctx)


def analyse(tree: exp.Expression, sql: str, param_oids: Sequence[int]) -> tuple[Evaluator, _Analysis] | None:
    """If ``tree`` is a FROM-less SELECT made only of builtins, its evaluator, columns and parameter
    types; else None."""
    if not isinstance(tree, exp.Select):
        return None
    if any(
        tree.args.get(k)
        for k in (
            "from_",
            "from",
            "joins",
            "group",
            "having",
            "order",
            "limit",
            "offset",
            "with_",
            "with",
            "distinct",
            "windows",
            "qualify",
            "into",
            "laterals",
        )
    ):
        return None
    projections = tree.expressions
    if not projections or any(isinstance(p, exp.Star) for p in projections):
        return None
    evaluator = Evaluator(sql, param_oids)
    try:
        types = [evaluator.type_of(p) for p in projections]
        where = tree.args.get("where")
        if where is not None:
            evaluator.note_param(where.this, oids.BOOL)
            evaluator.type_of(where.this)
        count = max([len(param_oids), *(_param_index(p) for p in tree.find_all(exp.Parameter))], default=0)
    except NotBuiltin:
        return None
    names = [evaluator.column_name(p) for p in projections]
    resolved_params = [evaluator.param_type(i) for i in range(1, count + 1)]
    columns = [ResultColumn(name, evaluator.resolve(t)) for name, t in zip(names, types, strict=True)]
    return evaluator, _Analysis(columns, resolved_params)


def prepare_builtin(tree: exp.Expression, sql: str, param_oids: Sequence[int]) -> InProcessStatement | None:
    """A prepared statement for a builtin SELECT, or None when ``tree`` is not one."""
    found = analyse(tree, sql, param_oids)
    if found is None:
        return None
    evaluator, analysis = found
    projections = list(tree.expressions)
    where = tree.args.get("where")

    async def run(session: Session, params: BoundParams) -> tuple[list[tuple[Any, ...]], str]:
        values = params.values if len(params) else []
        if where is not None:
            keep, kind = await evaluator.value(where.this, session, values)
            if not cast_value(keep, kind, oids.BOOL, session):
                return [], "SELECT 0"
        row = []
        for node, column in zip(projections, analysis.columns, strict=True):
            value, kind = await evaluator.value(node, session, values)
            row.append(cast_value(value, kind, column.type_oid, session) if kind != oids.VOID else value)
        return [tuple(row)], "SELECT 1"

    return InProcessStatement("builtin", sql, run, columns=analysis.columns, param_oids=analysis.param_oids)
