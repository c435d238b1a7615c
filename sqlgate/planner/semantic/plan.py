"""From a parsed client statement to a cached, executable plan (pure: no I/O).

The plan of a statement depends on the model version, the datasource dialect and paramstyle, the
parameter types the client declared, and the statement text with its comparison literals lifted out
(see :mod:`.params`). :class:`PlanCache` keys plans by exactly that, so the same query shape with
other values, or the same text again, skips planning. Access checks are not part of the plan: they
run on :attr:`SemanticPlan.touched` for each session (the plan is the same for everyone).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
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
    Slot,
    SlotTable,
    convert,
    lift_literals,
    param_source,
)
from sqlgate.planner.semantic.statement import StatementPlanner
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

    @property
    def column_oids(self) -> tuple[int, ...]:
        return tuple(c.type_oid for c in self.columns)


def model_key(model: CompiledModel) -> str:
    return model.checksum if model.checksum else f"id:{id(model)}"


class PlanCache:
    """LRU of plans keyed by (model, dialect, paramstyle, declared parameter types, statement)."""

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
                self.hits += 1
            else:
                self.misses += 1
            return value

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


DEFAULT_PLAN_CACHE = PlanCache()


def plan_statement(
    tree: exp.Expression,
    sql: str,
    model: CompiledModel,
    *,
    dialect: str,
    paramstyle: str,
    param_oids: Sequence[int] = (),
    cache: PlanCache | None = DEFAULT_PLAN_CACHE,
) -> tuple[SemanticPlan, list[LiftedLiteral]]:
    """Plan ``tree`` (parsed from ``sql`` with read="postgres") against ``model`` for one datasource.

    Returns the plan and the literals lifted out of this statement (bound at execution).
    """
    base = (model_key(model), dialect, paramstyle, tuple(param_oids))
    exact_key = (*base, "text", sql)
    if cache is not None and sql:
        hit = cache.get(exact_key)
        if hit is not None:
            return hit
    normalised, lifted = lift_literals(tree)
    shape_key = (*base, "shape", normalised.sql("postgres"))
    plan = cache.get(shape_key) if cache is not None else None
    if plan is None:
        plan = _plan(normalised, model, dialect, paramstyle, param_oids)
        if cache is not None:
            cache.put(shape_key, plan)
    if cache is not None and sql:
        cache.put(exact_key, (plan, lifted))
    return plan, lifted


def _plan(
    tree: exp.Expression, model: CompiledModel, dialect: str, paramstyle: str, param_oids: Sequence[int]
) -> SemanticPlan:
    ctx = PlanContext(model=model, dialect=dialect, param_oids=param_oids)
    planned = StatementPlanner(ctx).plan(tree)
    slots = SlotTable()
    final = _bind_parameters(planned.tree, slots, dialect)
    final = dialects.finish_tree(final, dialect)
    try:
        text = final.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise PgError(FEATURE_NOT_SUPPORTED, f"not supported by the {dialect} datasource: {exc}") from None
    text, ordered = slots.finalize(text, paramstyle)
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
        touched=TouchedMembers.merge(ctx.touched),
        dialect=dialect,
        paramstyle=paramstyle,
    )


def _bind_parameters(tree: exp.Expression, slots: SlotTable, dialect: str) -> exp.Expression:
    """Replace ``$n`` and lifted literals by placeholder markers (cast where the dialect needs it)."""
    for node in list(tree.find_all(exp.Parameter, exp.Placeholder)):
        source = param_source(node)
        if source is None:
            continue
        oid = node.meta.get("sg_oid", oids.TEXT)
        if oid == oids.UNKNOWN:
            oid = oids.TEXT
        marker: exp.Expression = slots.marker(source, oid)
        if dialects.casts_param(dialect, oid) and not _is_limit(node):
            marker = exp.Cast(this=marker, to=exp.DataType.build(_cast_type(oid, dialect)))
        if node is tree:
            return marker
        node.replace(marker)
    return tree


def _is_limit(node: exp.Expression) -> bool:
    return isinstance(node.parent, exp.Limit | exp.Offset)


def _cast_type(oid: int, dialect: str) -> str:
    return {
        oids.TEXT: "TEXT",
        oids.INT8: "BIGINT",
        oids.INT4: "BIGINT",
        oids.INT2: "BIGINT",
        oids.NUMERIC: "DECIMAL",
        oids.FLOAT8: "DOUBLE",
        oids.BOOL: "BOOLEAN",
        oids.TIMESTAMP: "TIMESTAMP",
        oids.TIMESTAMPTZ: "TIMESTAMP",
        oids.DATE: "DATE",
    }.get(oid, "TEXT")


def convert_lifted(plan: SemanticPlan, lifted: Sequence[LiftedLiteral]) -> dict[int, Any]:
    """Lifted literal values converted to their bound types, by slot position (22P02/22007 early)."""
    converted: dict[int, Any] = {}
    for position, slot in enumerate(plan.slots):
        if not slot.source.client:
            converted[position] = convert(lifted[slot.source.index].value, slot.oid)
    return converted
