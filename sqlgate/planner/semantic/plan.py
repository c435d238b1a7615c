"""From a parsed client statement to a cached, executable plan (pure: no I/O).

The plan of a statement depends on the model version, the datasource dialect and paramstyle, the
parameter types the client declared, and the statement text with its comparison literals lifted out
(see :mod:`.params`). :class:`PlanCache` keys plans by exactly that, so the same query shape with
other values, or the same text again, skips planning. Access checks are not part of the plan: they
run on :attr:`SemanticPlan.touched` for each session (the plan is the same for everyone).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from sqlgate.errors import FEATURE_NOT_SUPPORTED, PgError
from sqlgate.pgproto import oids
from sqlgate.planner.api import ResultColumn
from sqlgate.planner.semantic import dialects
from sqlgate.planner.semantic.context import PlanContext
from sqlgate.planner.semantic.members import TouchedMembers
from sqlgate.planner.semantic.params import (
    LiftedLiteral,
    ParamSource,
    Slot,
    SlotTable,
    convert,
    find_liftable,
    lift_literals,
    param_source,
    replace_all,
    shape_key,
)
from sqlgate.planner.semantic.statement import StatementPlanner
from sqlgate.planner.semantic.strings import plain_strings
from sqlgate.planner.shapes import Shape, shape_of
from sqlgate.planner.statements import parse_statement
from sqlgate.semantic.model import CompiledModel


@dataclass(frozen=True)
class SemanticPlan:
    """Everything needed to run a statement: generated SQL, how to bind it, and what it returns."""

    sql: str  # in the datasource dialect, placeholders in its paramstyle
    slots: tuple[Slot, ...]  # one per placeholder, in order
    columns: tuple[ResultColumn, ...]
    param_oids: tuple[int, ...]  # what Describe reports for $1..$n
    touched: TouchedMembers
    dialect: str
    paramstyle: str
    # The same SQL with every NUMERIC placeholder cast to BIGINT instead, used when all their values
    # are whole numbers: ``int_column = CAST($1 AS NUMERIC)`` casts the column and cannot use an
    # index, ``int_column = CAST($1 AS BIGINT)`` can (and numeric columns compare the same).
    integral_sql: str | None = None
    numeric_slots: tuple[int, ...] = ()  # positions (in ``slots``) bound as NUMERIC

    @property
    def column_oids(self) -> tuple[int, ...]:
        return tuple(c.type_oid for c in self.columns)

    def sql_for(self, values: list[Any]) -> str:
        """The SQL to run with ``values`` (slot order), turning whole NUMERIC values into ints for the
        index-friendly variant when there is one."""
        if self.integral_sql is None:
            return self.sql
        for position in self.numeric_slots:
            value = values[position]
            if value is not None and not _whole_int8(value):
                return self.sql
        for position in self.numeric_slots:
            value = values[position]
            if value is not None:
                values[position] = int(value)
        return self.integral_sql


_INT8_MIN, _INT8_MAX = -(2**63), 2**63 - 1


def _whole_int8(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return _INT8_MIN <= value <= _INT8_MAX
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value() and _INT8_MIN <= value <= _INT8_MAX
    return False


def model_key(model: CompiledModel) -> tuple[str, int]:
    """What identifies a model in plan-cache keys: its version checksum and the compiled object
    (models are compiled once per datasource and checksum, so no two live models share both)."""
    return (model.checksum or "", id(model))


class PlanCache:
    """LRU of plans keyed by (model, dialect, paramstyle, declared parameter types, statement).

    ``hits`` and ``misses`` count statements, not look-ups: a statement whose plan came from the
    cache (by text, by shape without parsing, or by its lifted form after parsing) is a hit, one that
    had to be planned a miss.
    """

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def count(self, *, hit: bool) -> None:
        """Count one statement as answered from the cache (``hit``) or planned."""
        if hit:
            self.hits += 1
        else:
            self.misses += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


DEFAULT_PLAN_CACHE = PlanCache()


def plan_statement(
    tree: exp.Expression | None,
    sql: str,
    model: CompiledModel,
    *,
    dialect: str,
    paramstyle: str,
    param_oids: Sequence[int] = (),
    cache: PlanCache | None = DEFAULT_PLAN_CACHE,
    consume: bool = False,
    visible: frozenset[str] | None = None,
) -> tuple[SemanticPlan, list[LiftedLiteral]]:
    """Plan ``tree`` (parsed from ``sql`` with read="postgres") against ``model`` for one datasource.

    Returns the plan and the literals lifted out of this statement (bound at execution). With
    ``consume`` the planner may change ``tree`` instead of copying it (cheaper for big statements).
    ``tree`` may be None: a statement whose text or shape (:mod:`sqlgate.planner.shapes`) is cached
    then costs no parse at all; otherwise ``sql`` is parsed here (42601 when it does not parse).
    ``visible`` is the session's access list (None: unrestricted): ``SELECT *`` expands to those
    members only, so it is part of the cache key. Access is checked on the plan's ``touched``.
    """
    base = (model_key(model), dialect, paramstyle, tuple(param_oids), visible)
    exact_key = (*base, "text", sql)
    shape: Shape | None = None
    if cache is not None and sql:
        hit = cache.get(exact_key)
        if hit is not None:
            cache.count(hit=True)
            return hit
        shape = shape_of(sql)
        if shape is not None:
            found = _cached_shape(cache, base, shape)
            if found is not None:
                cache.count(hit=True)
                return found
    if tree is None:
        tree = parse_statement(sql)
        consume = True
    tree = plain_strings(tree, copy=not consume)
    liftable = find_liftable(tree)
    lifted = [value for _, _, value in liftable]
    normalised: exp.Expression | None = None
    key_text = shape_key(sql, liftable) if sql else None
    if key_text is None:
        normalised, lifted = lift_literals(tree, liftable, copy=not consume)
        key_text = "generated:" + normalised.sql("postgres")
    key = (*base, "shape", key_text)
    plan = cache.get(key) if cache is not None else None
    if cache is not None:
        cache.count(hit=plan is not None)
    if plan is None:
        if normalised is None:
            normalised, lifted = lift_literals(tree, liftable, copy=not consume)
        plan = _plan(normalised, model, dialect, paramstyle, param_oids, visible=visible)
        if cache is not None:
            cache.put(key, plan)
    if cache is not None and sql:
        lifted = LiftedValues(lifted)
        cache.put(exact_key, (plan, lifted))
        if shape is not None:
            _remember_shape(cache, base, shape, liftable, plan)
    return plan, lifted


def _cached_shape(
    cache: PlanCache, base: tuple[Any, ...], shape: Shape
) -> tuple[SemanticPlan, list[LiftedLiteral]] | None:
    """The plan of a statement of a known shape, and its lifted values, without parsing it."""
    positions = cache.get((*base, "positions", shape.key))
    if positions is None:
        return None
    split = shape.split(positions)
    if split is None:
        return None
    fixed, literals = split
    plan = cache.get((*base, "fast", shape.key, fixed))
    if plan is None:
        return None
    return plan, [LiftedLiteral._make(literal) for literal in literals]


def _remember_shape(
    cache: PlanCache,
    base: tuple[Any, ...],
    shape: Shape,
    liftable: list[tuple[exp.Expression, exp.Literal, LiftedLiteral]],
    plan: SemanticPlan,
) -> None:
    """Learn which literals of ``shape`` the plan lifted, so the next statement of this shape skips
    the parse (nothing is learnt when the parser's literals and the shape's disagree)."""
    seen = [
        (literal.meta.get("end"), value.text, value.is_string)
        for node, literal, value in liftable
        if node is literal  # a negative number's text is not a literal of the shape
    ]
    if len(seen) != len(liftable):
        return
    positions = shape.positions_for(seen)
    if positions is None:
        return
    split = shape.split(positions)
    if split is None:
        return
    cache.put((*base, "positions", shape.key), positions)
    cache.put((*base, "fast", shape.key, split[0]), plan)


def _plan(
    tree: exp.Expression,
    model: CompiledModel,
    dialect: str,
    paramstyle: str,
    param_oids: Sequence[int],
    *,
    visible: frozenset[str] | None = None,
) -> SemanticPlan:
    ctx = PlanContext(model=model, dialect=dialect, param_oids=param_oids, visible=visible)
    planned = StatementPlanner(ctx).plan(tree)
    _internal_output_names(planned.tree)
    slots = SlotTable()
    final = _bind_parameters(planned.tree, slots, dialect, ctx.param_types)
    final = dialects.finish_tree(final, dialect)
    try:
        # comments=False: sqlglot keeps the client's comments on the nodes they follow, and no client
        # text may reach a datasource (DESIGN invariant 1), not even inside a comment.
        text = final.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE, comments=False)
    except UnsupportedError as exc:
        raise PgError(FEATURE_NOT_SUPPORTED, f"not supported by the {dialect} datasource: {exc}") from None
    integral_text = _integral_variant(text, slots, dialect)
    text, ordered = slots.finalize(text, paramstyle)
    if integral_text is not None:
        integral_text, _ = slots.finalize(integral_text, paramstyle)
    count = max([len(param_oids), *slots.client_types.keys()], default=0)
    reported = []
    for number in range(1, count + 1):
        declared = param_oids[number - 1] if number <= len(param_oids) else 0
        reported.append(declared or slots.client_types.get(number, oids.TEXT))
    columns = tuple(
        ResultColumn(name=c.name, type_oid=c.oid if c.oid != oids.UNKNOWN else oids.TEXT)
        for c in planned.columns
    )
    return SemanticPlan(
        sql=text,
        slots=ordered,
        columns=columns,
        param_oids=tuple(reported),
        touched=TouchedMembers.merge(ctx.touched).with_internal(model),
        dialect=dialect,
        paramstyle=paramstyle,
        integral_sql=integral_text,
        numeric_slots=tuple(i for i, slot in enumerate(ordered) if slot.oid == oids.NUMERIC)
        if integral_text is not None
        else (),
    )


def _integral_variant(text: str, slots: SlotTable, dialect: str) -> str | None:
    """``text`` with the NUMERIC casts of placeholders turned into BIGINT casts (None if none)."""
    if not dialects.casts_param(dialect, oids.NUMERIC):
        return None
    numeric = _cast_template(dialect, oids.NUMERIC)
    integral = _cast_template(dialect, oids.INT8)
    wanted = {
        numeric.format(slots.marker_text(index)): integral.format(slots.marker_text(index))
        for index, slot in enumerate(slots.slots)
        if slot.oid == oids.NUMERIC
    }
    if not wanted:
        return None
    # One pass over the text (a 1,000-value IN list has 1,000 of them: one replace each was quadratic).
    pattern = re.escape(numeric).replace(r"\{\}", rf"__sgp{slots.nonce}_\d+__")
    changed = re.sub(pattern, lambda m: wanted.get(m.group(0), m.group(0)), text)
    return changed if changed != text else None


def _internal_output_names(tree: exp.Expression) -> None:
    """Name the outermost select's columns ``c0, c1 …`` in the generated SQL.

    Clients get the names from RowDescription, so the datasource never sees a client alias at the
    top: no clash with keywords (``AS "current_date"`` confuses DuckDB), no MySQL 64-character limit,
    no duplicate-name ambiguity in ORDER BY.
    """
    select: exp.Expression = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Subquery):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    renamed: dict[str, str] = {}
    duplicated = set()
    for position, expression in enumerate(select.expressions):
        if isinstance(expression, exp.Alias):
            old = expression.alias
            if old in renamed:
                duplicated.add(old)
            renamed.setdefault(old, f"c{position}")
            expression.set("alias", exp.Identifier(this=f"c{position}", quoted=True))
    for order_owner in {id(tree): tree, id(select): select}.values():
        order = order_owner.args.get("order")
        if order is None:
            continue
        for ordered in order.expressions:
            target = ordered.this
            if isinstance(target, exp.Column) and not target.table and target.name in renamed:
                if target.name in duplicated:
                    raise PgError("42702", f'ORDER BY "{target.name}" is ambiguous')
                target.set("this", exp.Identifier(this=renamed[target.name], quoted=True))


def _bind_parameters(
    tree: exp.Expression, slots: SlotTable, dialect: str, types: dict[ParamSource, int]
) -> exp.Expression:
    """Replace ``$n`` and lifted literals by placeholder markers (cast where the dialect needs it)."""
    replacements: list[tuple[exp.Expression, exp.Expression]] = []
    for node in tree.find_all(exp.Parameter, exp.Placeholder):
        source = param_source(node)
        if source is None:
            continue
        oid = types.get(source, oids.TEXT)
        if oid == oids.UNKNOWN:
            oid = oids.TEXT
        cast = dialects.casts_param(dialect, oid) and not _is_limit(node)
        marker = slots.marker(source, oid, _cast_template(dialect, oid) if cast else None)
        if node is tree:
            return marker
        replacements.append((node, marker))
    replace_all(replacements)
    return tree


def _is_limit(node: exp.Expression) -> bool:
    return isinstance(node.parent, _LIMITS)


_LIMITS = (exp.Limit, exp.Offset)


_CAST_TYPES = {
    oids.TEXT: exp.DataType.Type.TEXT,
    oids.INT8: exp.DataType.Type.BIGINT,
    oids.INT4: exp.DataType.Type.BIGINT,
    oids.INT2: exp.DataType.Type.BIGINT,
    oids.NUMERIC: exp.DataType.Type.DECIMAL,
    oids.FLOAT8: exp.DataType.Type.DOUBLE,
    oids.BOOL: exp.DataType.Type.BOOLEAN,
    oids.TIMESTAMP: exp.DataType.Type.TIMESTAMP,
    oids.TIMESTAMPTZ: exp.DataType.Type.TIMESTAMP,
    oids.DATE: exp.DataType.Type.DATE,
}


def cast_type(oid: int) -> exp.DataType:
    """The type a placeholder bound as ``oid`` is cast to."""
    return exp.DataType(this=_CAST_TYPES.get(oid, exp.DataType.Type.TEXT))


@lru_cache(maxsize=256)
def _cast_template(dialect: str, oid: int) -> str:
    """``CAST({} AS <type>)`` as ``dialect`` writes it (placeholders are rendered as one text node)."""
    text = exp.Cast(this=exp.Var(this="__sgcast__"), to=cast_type(oid)).sql(dialect=dialect)
    return text.replace("__sgcast__", "{}")


class LiftedValues(list[LiftedLiteral]):
    """The lifted literals of one statement text as the plan cache keeps them; they remember their
    converted values, so a repeated text (a dashboard's query with a 1,000-value IN list) converts
    them once. The converted mapping is shared and never changed by its users."""

    __slots__ = ("converted",)

    converted: tuple[SemanticPlan, dict[int, Any]] | None


def convert_lifted(plan: SemanticPlan, lifted: Sequence[LiftedLiteral]) -> dict[int, Any]:
    """Lifted literal values converted to their bound types, by slot position (22P02/22007 early)."""
    memo = getattr(lifted, "converted", None)
    if memo is not None and memo[0] is plan:
        return memo[1]
    converted: dict[int, Any] = {}
    for position, slot in enumerate(plan.slots):
        if not slot.source.client:
            converted[position] = convert(lifted[slot.source.index].value, slot.oid)
    if isinstance(lifted, LiftedValues):
        lifted.converted = (plan, converted)
    return converted
