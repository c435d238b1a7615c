"""Client values on their way to the datasource: lifted literals, ``$n`` parameters, placeholders.

Literals that compare against something (``status = 'paid'``, ``IN (…)``, ``BETWEEN``, ``LIKE``) are
*lifted* out of the client's tree before planning: the plan is then the same for every value, so it
can be cached, and the values reach the datasource as bound parameters. ``$n`` parameters are bound
the same way. Both are converted to the type their context gives them (a time dimension gives a
timestamp, a LIMIT gives a bigint …) before they are bound.

In generated trees a bound value is an ``exp.Var`` holding a marker that no client text can contain
(a per-plan random nonce). After generation the markers are replaced by the source's placeholder
style — ``$1`` (numeric), ``%s`` (format) or ``?`` (qmark) — in text order.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from sqlglot import exp

from sqlgate.errors import (
    INVALID_DATETIME_FORMAT,
    INVALID_TEXT_REPRESENTATION,
    NUMERIC_VALUE_OUT_OF_RANGE,
    UNDEFINED_PARAMETER,
    PgError,
)
from sqlgate.pgproto import oids
from sqlgate.pgproto.coerce import check_numeric, decimal_to_int
from sqlgate.planner.semantic.types import to_text, to_utc_naive

LIFTED_PREFIX = "sgl"

COMPARISONS: tuple[type[exp.Expression], ...] = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
)
# Parents whose literal operands are values compared against a column: those get lifted.
_LIFT_PARENTS: tuple[type[exp.Expression], ...] = (*COMPARISONS, exp.In, exp.Between, exp.Like, exp.ILike)


class LiftedLiteral(NamedTuple):
    """A literal taken out of the client's SQL: its text and whether it was a string (a tuple: a
    1,000-value IN list makes 1,000 of them per statement)."""

    text: str
    is_string: bool

    @property
    def value(self) -> Any:
        if self.is_string:
            return self.text
        try:
            return int(self.text)
        except ValueError:
            return Decimal(self.text)


def find_liftable(tree: exp.Expression) -> list[tuple[exp.Expression, exp.Literal, LiftedLiteral]]:
    """The literals of ``tree`` that are lifted: (node replaced, the literal, its value), in tree order."""
    found: list[tuple[exp.Expression, exp.Literal, LiftedLiteral]] = []
    operands: dict[int, bool] = {}
    for literal in tree.find_all(exp.Literal):
        node: exp.Expression = literal
        negative = False
        parent = node.parent
        if isinstance(parent, exp.Neg) and not literal.is_string:
            node, parent, negative = parent, parent.parent, True
        if not isinstance(parent, _LIFT_PARENTS):
            continue
        if isinstance(parent, exp.In) and node.arg_key != "expressions":
            continue
        if isinstance(parent, exp.Like | exp.ILike) and node.arg_key == "escape":
            continue
        compared = operands.get(id(parent))
        if compared is None:
            compared = operands[id(parent)] = _has_non_literal_operand(parent)
        if not compared:
            continue
        found.append(
            (node, literal, LiftedLiteral(("-" if negative else "") + literal.this, literal.is_string))
        )
    return found


def lift_literals(
    tree: exp.Expression,
    liftable: list[tuple[exp.Expression, exp.Literal, LiftedLiteral]] | None = None,
    *,
    copy: bool = True,
) -> tuple[exp.Expression, list[LiftedLiteral]]:
    """``tree`` (a copy unless ``copy`` is False) with comparison literals replaced by
    ``Placeholder(sgl<k>)``, and the lifted values. ``liftable`` is ``find_liftable(tree)`` when known
    (only when not copying)."""
    if copy:
        tree = tree.copy()
        liftable = None
    if liftable is None:
        liftable = find_liftable(tree)
    replace_all(
        (node, exp.Placeholder(this=f"{LIFTED_PREFIX}{index}")) for index, (node, _, _) in enumerate(liftable)
    )
    return tree, [lifted for _, _, lifted in liftable]


def shape_key(sql: str, liftable: list[tuple[exp.Expression, exp.Literal, LiftedLiteral]]) -> str | None:
    """``sql`` with every lifted literal's text replaced by ``?`` (None when positions are unknown).

    The parser records where each literal was in the text; two statements with the same key differ
    only in lifted values, so they share a plan.
    """
    spans: list[tuple[int, int]] = []
    for _, literal, _ in liftable:
        start, end = literal.meta.get("start"), literal.meta.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end < len(sql):
            return None
        text = sql[start : end + 1]
        if literal.is_string:
            if text[-1] not in "'$":
                return None
        elif text != literal.this:
            return None
        spans.append((start, end))
    spans.sort()
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        if start < position:
            return None
        pieces.append(sql[position:start])
        pieces.append("?")
        position = end + 1
    pieces.append(sql[position:])
    return "".join(pieces)


def replace_all(pairs: Iterable[tuple[exp.Expression, exp.Expression]]) -> None:
    """Replace many nodes at once (list arguments such as long IN lists are rebuilt once)."""
    lists: dict[tuple[int, str], tuple[exp.Expression, str, dict[int, exp.Expression]]] = {}
    for old, new in pairs:
        parent = old.parent
        key = old.arg_key
        if parent is not None and isinstance(parent.args.get(key), list):
            entry = lists.setdefault((id(parent), key), (parent, key, {}))
            entry[2][old.index] = new  # type: ignore[index]
        else:
            old.replace(new)
    for parent, key, changes in lists.values():
        items = list(parent.args[key])
        for index, new in changes.items():
            items[index] = new
        parent.set(key, items)


def _has_non_literal_operand(parent: exp.Expression) -> bool:
    operands = [parent.this] if isinstance(parent, exp.In | exp.Between) else [parent.this, parent.expression]
    return any(
        o is not None and not isinstance(o, exp.Literal | exp.Placeholder | exp.Neg | exp.Null)
        for o in operands
    )


# ----------------------------------------------------------------------------- parameter sources


@dataclass(frozen=True, slots=True)
class ParamSource:
    """Where a bound value comes from: client parameter ``$n`` (1-based) or lifted literal ``k``."""

    client: bool
    index: int


@functools.lru_cache(maxsize=8192)
def _source(client: bool, index: int) -> ParamSource:
    """Shared ParamSource objects (a 1,000-value IN list asks for each several times)."""
    return ParamSource(client, index)


def param_source(node: exp.Expression) -> ParamSource | None:
    """The source of a ``$n`` or lifted-literal node, None for other nodes."""
    if isinstance(node, exp.Placeholder):
        name = node.this
        if isinstance(name, str) and name.startswith(LIFTED_PREFIX):
            return _source(False, int(name[len(LIFTED_PREFIX) :]))
    if isinstance(node, exp.Parameter):
        inner = node.this
        name = inner.name if isinstance(inner, exp.Expression) else str(inner)
        if name.isdigit():
            if int(name) < 1:
                raise PgError(UNDEFINED_PARAMETER, f"there is no parameter ${name}")
            return _source(True, int(name))
        return None
    if isinstance(node, exp.Placeholder):
        name = node.name
        if name.startswith(LIFTED_PREFIX) and name[len(LIFTED_PREFIX) :].isdigit():
            return _source(False, int(name[len(LIFTED_PREFIX) :]))
        if not name:
            raise PgError(UNDEFINED_PARAMETER, "'?' placeholders are not supported; use $1, $2, …")
    return None


@dataclass(frozen=True, slots=True)
class Slot:
    """One placeholder in generated SQL: the value's source and the type it is bound as."""

    source: ParamSource
    oid: int


class SlotTable:
    """Collects slots while a plan is built; markers are ``exp.Var`` nodes with a per-plan nonce."""

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(8)
        self.slots: list[Slot] = []
        self.client_types: dict[int, int] = {}  # $n -> first inferred type

    def marker(self, source: ParamSource, oid: int, template: str | None = None) -> exp.Var:
        """A node standing for one placeholder; ``template`` (``CAST({} AS …)``) wraps it."""
        index = len(self.slots)
        self.slots.append(Slot(source, oid))
        if source.client:
            self.client_types.setdefault(source.index, oid)
        text = self.marker_text(index)
        return exp.Var(this=template.format(text) if template else text)

    def marker_text(self, index: int) -> str:
        """The marker of slot ``index`` as it appears in generated SQL before :meth:`finalize`."""
        return f"__sgp{self.nonce}_{index}__"

    def finalize(self, sql: str, paramstyle: str) -> tuple[str, tuple[Slot, ...]]:
        """Replace markers by placeholders of ``paramstyle``; the slots in placeholder order."""
        pattern = re.compile(rf"__sgp{self.nonce}_(\d+)__")
        ordered: list[Slot] = []
        if paramstyle == "format":
            sql = sql.replace("%", "%%")

        def replace(match: re.Match[str]) -> str:
            ordered.append(self.slots[int(match.group(1))])
            if paramstyle == "numeric":
                return f"${len(ordered)}"
            if paramstyle == "format":
                return "%s"
            if paramstyle == "qmark":
                return "?"
            raise ValueError(f"unknown paramstyle {paramstyle!r}")

        return pattern.sub(replace, sql), tuple(ordered)


# ----------------------------------------------------------------------------- value conversion


def bind_values(
    slots: Sequence[Slot], client_values: Sequence[Any], lifted: Sequence[LiftedLiteral]
) -> list[Any]:
    """Python values for ``slots``, converted to their bound types."""
    values: list[Any] = []
    for slot in slots:
        if slot.source.client:
            position = slot.source.index - 1
            if position >= len(client_values):
                raise PgError(UNDEFINED_PARAMETER, f"there is no parameter ${slot.source.index}")
            raw = client_values[position]
        else:
            raw = lifted[slot.source.index].value
        values.append(convert(raw, slot.oid))
    return values


_TRUE = {"t", "true", "1", "yes", "y", "on"}
_FALSE = {"f", "false", "0", "no", "n", "off"}


def convert(value: Any, oid: int) -> Any:
    """``value`` as the Python type a driver binds for ``oid`` (22P02/22007 when it cannot be)."""
    if value is None:
        return None
    try:
        if oid in (oids.TEXT, oids.VARCHAR, oids.UNKNOWN):
            return to_text(value)
        if oid in (oids.INT8, oids.INT4, oids.INT2):
            return _integer(value)
        if oid == oids.NUMERIC:
            return _numeric(value)
        if oid in (oids.FLOAT8, oids.FLOAT4):
            return float(value)
        if oid == oids.BOOL:
            return _boolean(value)
        if oid in (oids.TIMESTAMP, oids.TIMESTAMPTZ):
            return parse_timestamp(value)
        if oid == oids.DATE:
            return parse_timestamp(value).date()
    except (ValueError, ArithmeticError, TypeError):
        kind = {oids.TIMESTAMP: "timestamp", oids.TIMESTAMPTZ: "timestamp", oids.DATE: "date"}.get(oid)
        if kind:
            raise PgError(
                INVALID_DATETIME_FORMAT, f"invalid input syntax for type {kind}: {str(value)!r}"
            ) from None
        name = {oids.INT8: "bigint", oids.NUMERIC: "numeric", oids.BOOL: "boolean"}.get(oid, "the type")
        raise PgError(
            INVALID_TEXT_REPRESENTATION, f"invalid input syntax for {name}: {str(value)!r}"
        ) from None
    return value


def _integer(value: Any) -> int:
    # Range-checked as a Decimal first: int() of a literal such as 1e999999 would build a
    # million-digit integer on the event loop.
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return decimal_to_int(Decimal(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, "bigint out of range")
        return decimal_to_int(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return decimal_to_int(value)
    return decimal_to_int(Decimal(int(str(value).strip())))


def _numeric(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return check_numeric(value)
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int):
        return check_numeric(Decimal(value))
    if isinstance(value, float):
        return Decimal(repr(value))
    return check_numeric(Decimal(str(value).strip()))


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


_TZ_SUFFIX = re.compile(r"([+-]\d{2})(\d{2})?$")


def parse_timestamp(value: Any) -> dt.datetime:
    """A naive UTC datetime from a datetime, date or ISO-like text (``2024-01-31``, ``… 10:00+02``)."""
    if isinstance(value, dt.datetime):
        return to_utc_naive(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = text.replace(" UTC", "+00:00")
    match = _TZ_SUFFIX.search(text)
    if match and len(text) > 10 and ":" in text[: match.start()]:
        text = text[: match.start()] + f"{match.group(1)}:{match.group(2) or '00'}"
    return to_utc_naive(dt.datetime.fromisoformat(text))
