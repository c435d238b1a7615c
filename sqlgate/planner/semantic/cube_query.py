"""One SELECT over cubes (or a view): client SQL → semantic form → datasource SQL.

Analysis turns the client's SELECT into a semantic form: every column reference becomes a *member
marker* (``__sgm.m<i>``), every ``MEASURE(m)``/matching aggregate an *aggregate marker*
(``__sga.a<j>``); the clauses keep their SQL shape around the markers. Grouping rules are checked
there (42803). Building then expands the markers into the model's SQL over a join tree of cubes:

* ungrouped queries and queries without one-to-many fan-out become one SELECT;
* grouped queries whose measures would be multiplied by a one-to-many join compute those measures
  per cube over rows de-duplicated on the cube's primary key, and combine the per-cube results with
  the others on the group keys (``UNION ALL`` + ``GROUP BY``, which treats NULL keys as equal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.schema import MappingSchema

from sqlgate.errors import (
    AMBIGUOUS_COLUMN,
    FEATURE_NOT_SUPPORTED,
    GROUPING_ERROR,
    INSUFFICIENT_PRIVILEGE,
    UNDEFINED_COLUMN,
    UNDEFINED_TABLE,
    PgError,
)
from sqlgate.pgproto import oids
from sqlgate.planner.semantic import dialects, functions
from sqlgate.planner.semantic.context import Column, PlanContext, PlannedQuery
from sqlgate.planner.semantic.members import MemberRecorder
from sqlgate.planner.semantic.params import COMPARISONS, ParamSource, param_source
from sqlgate.planner.semantic.positions import select_position
from sqlgate.planner.semantic.render import (
    JoinTree,
    NeedsGrouping,
    Node,
    Renderer,
    contains_aggregate,
    ident,
)
from sqlgate.planner.semantic.types import data_type, member_type_oid, oid_of_sqlglot_type, sqlglot_type_name
from sqlgate.semantic.definitions import (
    CALCULATED_MEASURES,
    DUPLICATE_INSENSITIVE_MEASURES,
    JOIN_FIELD_COLUMN,
    USER_COLUMN,
    Cube,
    Member,
    Relation,
    View,
)
from sqlgate.semantic.template import MemberRef

USE_TABLE = "__sgm"
AGG_TABLE = "__sga"
UNION_ALIAS = "__sgu"
DEDUP_ALIAS = "__sgd"
MEASURE_FUNCTION = "measure"

_EXPECTED_AGGREGATES: dict[str, tuple[str, ...]] = {
    "count": ("COUNT",),
    "count_distinct": ("COUNT(DISTINCT)",),
    "count_distinct_approx": ("COUNT(DISTINCT)",),
    "sum": ("SUM",),
    "avg": ("AVG",),
    "min": ("MIN",),
    "max": ("MAX",),
    "string": ("STRING_AGG",),
    "time": ("MIN", "MAX"),
    "boolean": (),
}
SUPPORTED_SELECT_CLAUSES = frozenset(
    {
        "expressions",
        "from_",
        "joins",
        "where",
        "group",
        "having",
        "order",
        "limit",
        "offset",
        "distinct",
        "with_",
    }
)


@dataclass(frozen=True)
class TableInstance:
    """A cube or view named in FROM, with the name the query qualifies its columns with."""

    relation: Relation
    alias: str
    quoted: bool


@dataclass
class Use:
    """A column reference: a member of a table instance, or one of the virtual columns."""

    table: int
    member: Member | None
    virtual: str | None = None


@dataclass
class Agg:
    """An aggregate: a measure (``MEASURE(m)``, ``SUM(m)``…) or an ad-hoc aggregate over dimensions."""

    use: Use | None
    func: exp.Expression | None
    oid: int


@dataclass
class Item:
    name: str
    expr: exp.Expression
    oid: int


@dataclass
class OrderItem:
    index: int | None
    expr: exp.Expression | None
    desc: bool
    nulls_first: bool


@dataclass
class _Analysis:
    items: list[Item] = field(default_factory=list)
    where: exp.Expression | None = None
    having: exp.Expression | None = None
    group_keys: list[exp.Expression] | None = None  # None: ungrouped
    order: list[OrderItem] = field(default_factory=list)
    limit: exp.Expression | None = None
    offset: exp.Expression | None = None
    distinct: bool = False


def use_marker(index: int) -> exp.Column:
    return exp.Column(this=exp.Identifier(this=f"m{index}"), table=exp.Identifier(this=USE_TABLE))


def agg_marker(index: int) -> exp.Column:
    return exp.Column(this=exp.Identifier(this=f"a{index}"), table=exp.Identifier(this=AGG_TABLE))


def marker_index(node: exp.Expression, table: str) -> int | None:
    if isinstance(node, exp.Column) and node.table == table:
        return int(node.name[1:])
    return None


def identifier_name(identifier: exp.Identifier | str | None) -> tuple[str, bool]:
    """A client identifier as PostgreSQL reads it: unquoted names fold to lower case."""
    if identifier is None:
        return "", False
    if isinstance(identifier, str):
        return identifier.lower(), False
    quoted = bool(identifier.args.get("quoted"))
    return (identifier.name if quoted else identifier.name.lower()), quoted


def default_column_name(node: exp.Expression) -> str:
    """The column name PostgreSQL would give an unaliased select item."""
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Cast | exp.TryCast):
        inner = node.this
        if isinstance(inner, exp.Column):
            return inner.name
        to = node.args.get("to")
        return to.sql("postgres").lower() if isinstance(to, exp.DataType) else "?column?"
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Case):
        return "case"
    if isinstance(node, exp.Window | exp.WithinGroup | exp.Filter):
        return default_column_name(node.this)
    if isinstance(node, exp.Func):
        return functions.function_name(node)
    return "?column?"


class CubeQuery:
    """Plans one SELECT whose FROM lists only cubes (joined with CROSS JOIN / ``__cubeJoinField``)
    or a single view."""

    def __init__(self, ctx: PlanContext, select: exp.Select, tables: list[TableInstance]) -> None:
        self.ctx = ctx
        self.select = select
        self.tables = tables
        self.uses: list[Use] = []
        self.aggs: list[Agg] = []
        self.recorder = MemberRecorder()
        self.recorder.tables.update(t.relation.name for t in tables)
        self._in_aggregate = False
        self._clause = "select"
        self._use_index: dict[tuple[int, str], int] = {}

    # =============================================================================== analysis

    def plan(self) -> PlannedQuery:
        analysis = self._analyse()
        query = _Builder(self, analysis).build()
        self.ctx.touched.append(self.recorder.freeze())
        return query

    def record_members(self) -> None:
        """Record the members this SELECT names without building it (access checks of a query that
        is merged into the query around it, whose unused columns would otherwise go unseen)."""
        self._analyse()
        self.ctx.touched.append(self.recorder.freeze())

    def _analyse(self) -> _Analysis:
        select = self.select
        unsupported = [k for k, v in select.args.items() if v and k not in SUPPORTED_SELECT_CLAUSES]
        if unsupported:
            raise PgError(FEATURE_NOT_SUPPORTED, f"{unsupported[0].upper()} is not supported in a cube query")
        result = _Analysis()
        distinct = select.args.get("distinct")
        if distinct is not None:
            if distinct.args.get("on") is not None:
                raise PgError(FEATURE_NOT_SUPPORTED, "DISTINCT ON is not supported in a cube query")
            result.distinct = True

        self._clause = "select"
        for item in select.expressions:
            result.items.extend(self._select_items(item))
        if not result.items:
            raise PgError(FEATURE_NOT_SUPPORTED, "a cube query must select at least one column")
        where = select.args.get("where")
        if where is not None:
            self._clause = "where"
            result.where = self._convert(where.this)
            if self._has_aggregate(result.where):
                raise PgError(GROUPING_ERROR, "aggregate functions are not allowed in WHERE")
            self._no_bare_measures(result.where, "WHERE", hint="filter on measures with HAVING")
        having = select.args.get("having")
        if having is not None:
            self._clause = "having"
            result.having = self._convert(having.this)

        order = select.args.get("order")
        if order is not None:
            self._clause = "order"
            for ordered in order.expressions:
                result.order.append(self._order_item(ordered, result.items))

        group = select.args.get("group")
        grouped = (
            group is not None
            or result.having is not None
            or any(self._has_aggregate(i.expr) for i in result.items)
            or any(o.expr is not None and self._has_aggregate(o.expr) for o in result.order)
        )
        if grouped:
            self._clause = "group"
            keys: list[exp.Expression] = []
            if group is not None:
                for entry in group.expressions:
                    key = self._group_key(entry, result.items)
                    if not any(key == k for k in keys):
                        keys.append(key)
            result.group_keys = keys
            for item in result.items:
                self._check_grouped(item.expr, keys, "SELECT")
            if result.having is not None:
                self._check_grouped(result.having, keys, "HAVING")
            for entry in result.order:
                if entry.expr is not None:
                    self._check_grouped(entry.expr, keys, "ORDER BY")
        else:
            for item in result.items:
                self._record_bare_measures(item.expr)

        result.limit, result.offset = self._limits()
        self._type_items(result)
        return result

    def _select_items(self, item: exp.Expression) -> Iterator[Item]:
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star)):
            table_name = item.table if isinstance(item, exp.Column) else ""
            targets = range(len(self.tables))
            if table_name:
                targets = [self._table_index(item.args["table"])]
            visible = self.ctx.visible
            for index in targets:
                relation = self.tables[index].relation
                for member in relation.public_members():
                    if visible is not None and member.full_name not in visible:
                        continue  # SELECT * shows what the catalog shows: the allowed members
                    use = self._use(index, member, None)
                    self._record(member, "select")
                    yield Item(member.name, use_marker(use), member_type_oid(member))
                self.recorder.user_column = True
                for virtual in (USER_COLUMN, JOIN_FIELD_COLUMN):
                    use = self._use(index, None, virtual)
                    yield Item(virtual, use_marker(use), oids.TEXT)
            return
        if isinstance(item, exp.Alias):
            name = identifier_name(item.args["alias"])[0]
            expression = item.this
        else:
            expression = item
            name = ""
        converted = self._convert(expression.copy())
        if not name:
            index = marker_index(converted, USE_TABLE)
            if index is not None:
                use = self.uses[index]
                name = use.member.name if use.member is not None else (use.virtual or "?column?")
            else:
                name = default_column_name(expression)
        yield Item(name, converted, oids.UNKNOWN)

    # ------------------------------------------------------------------------------ conversion

    def _convert(self, node: exp.Expression) -> exp.Expression:
        """Replace column references and aggregates in ``node`` (a private copy) by markers."""
        if isinstance(node, exp.Column):
            if _is_marker(node):
                return node
            if isinstance(node.this, exp.Star):
                raise PgError(FEATURE_NOT_SUPPORTED, "* can only be used as SELECT * or COUNT(*)")
            return self._column(node)
        if isinstance(node, exp.Anonymous) and str(node.name).lower() == MEASURE_FUNCTION:
            return self._measure_call(node)
        if isinstance(node, exp.Window):
            raise PgError(
                FEATURE_NOT_SUPPORTED,
                "window functions over a cube are not supported; use them in an outer query",
                hint="SELECT …, RANK() OVER (…) FROM (SELECT … FROM cube GROUP BY …) AS q",
            )
        if isinstance(node, exp.Filter | exp.WithinGroup):
            raise PgError(FEATURE_NOT_SUPPORTED, f"{node.key.upper()} is not supported in a cube query")
        if isinstance(node, exp.AggFunc):
            return self._aggregate(node)
        if isinstance(node, exp.Query):
            return self._nested(node)
        if isinstance(node, exp.Star):
            raise PgError(FEATURE_NOT_SUPPORTED, "* can only be used as SELECT * or COUNT(*)")
        self._check_node(node)
        if isinstance(node, exp.TimestampTrunc | exp.DateTrunc | exp.DatetimeTrunc):
            dialects.check_time_unit(dialects.time_unit(node))
        for child in list(node.iter_expressions()):
            converted = self._convert(child)
            if converted is not child:
                child.replace(converted)
        if isinstance(node, exp.TimestampTrunc | exp.DateTrunc | exp.DatetimeTrunc):
            index = marker_index(node.this, USE_TABLE)
            if index is not None and self.uses[index].member is not None:
                member = self.uses[index].member
                assert member is not None
                if member.type == "time":
                    self._record(member, "time_dimension")
        return node

    def _check_node(self, node: exp.Expression) -> None:
        functions.check_node(node)

    def _nested(self, node: exp.Query) -> exp.Expression:
        if self.ctx.plan_nested is None:
            raise PgError(FEATURE_NOT_SUPPORTED, "subqueries are not supported here")
        return nested_query(node, self.ctx.plan_nested)

    def _table_index(self, identifier: exp.Identifier | str, *, by_name: bool = False) -> int:
        name, quoted = (
            identifier_name(identifier) if not isinstance(identifier, str) else (identifier.lower(), False)
        )
        raw = identifier.name if isinstance(identifier, exp.Identifier) else identifier
        for index, table in enumerate(self.tables):
            label = table.relation.name if by_name else table.alias
            if (quoted and label == name) or (not quoted and label.lower() == raw.lower()):
                return index
        raise PgError(UNDEFINED_TABLE, f'missing FROM-clause entry for table "{raw}"')

    def _column(self, node: exp.Column) -> exp.Expression:
        identifier = node.this
        quoted = bool(identifier.args.get("quoted")) if isinstance(identifier, exp.Identifier) else False
        name = node.name
        schema = node.args.get("db")
        if schema is not None:
            # public.orders.status (Metabase writes columns this way): the table by its name
            if identifier_name(schema)[0] != "public" or not node.table:
                raise PgError(UNDEFINED_TABLE, f'missing FROM-clause entry for table "{node.table}"')
            candidates = [self._table_index(node.args["table"], by_name=True)]
        elif node.table:
            candidates = [self._table_index(node.args["table"])]
        else:
            candidates = list(range(len(self.tables)))
        found: list[tuple[int, Member | None, str | None]] = []
        for index in candidates:
            relation = self.tables[index].relation
            member = relation.lookup(name, quoted=quoted)
            if member is not None:
                found.append((index, member, None))
                continue
            virtual = self._virtual(name, quoted)
            if virtual is not None:
                found.append((index, None, virtual))
        if not found:
            where = f" of {self.tables[candidates[0]].relation.label}" if node.table else ""
            raise PgError(UNDEFINED_COLUMN, f'column "{name}"{where} does not exist')
        if len(found) > 1:
            if all(f[2] is not None for f in found):  # __user / __cubeJoinField of several cubes
                found = found[:1]
            else:
                raise PgError(AMBIGUOUS_COLUMN, f'column reference "{name}" is ambiguous')
        index, member, virtual = found[0]
        if virtual == USER_COLUMN:
            # Cube switches the security context with __user filters; Synmetrix disables that, and
            # sqlgate refuses the column wherever a query names it (SELECT * still lists it, NULL).
            raise PgError(
                INSUFFICIENT_PRIVILEGE,
                "switching the security context with __user is not allowed",
                hint="__user is always NULL; leave it out of the query",
            )
        elif virtual == JOIN_FIELD_COLUMN and self._clause in ("where", "having", "group", "order"):
            raise PgError(
                FEATURE_NOT_SUPPORTED, f"{JOIN_FIELD_COLUMN} can only be used in JOIN … ON conditions"
            )
        if member is not None:
            self._record(member, self._clause)
        return use_marker(self._use(index, member, virtual))

    @staticmethod
    def _virtual(name: str, quoted: bool) -> str | None:
        for virtual in (USER_COLUMN, JOIN_FIELD_COLUMN):
            if name == virtual or (not quoted and name.lower() == virtual.lower()):
                return virtual
        return None

    def _use(self, table: int, member: Member | None, virtual: str | None) -> int:
        key = (table, member.name if member is not None else f"\0{virtual}")
        index = self._use_index.get(key)
        if index is None:
            index = len(self.uses)
            self.uses.append(Use(table, member, virtual))
            self._use_index[key] = index
        return index

    def _record(self, member: Member, usage: str) -> None:
        usage = "select" if usage in ("select",) else usage
        self.recorder.add(member.full_name, usage)  # type: ignore[arg-type]
        if member.kind == "segment":
            self.recorder.add(member.full_name, "segment")
        if member.origin is not None and member.sql is None:
            self.recorder.add(member.origin.full_name, "view_source")
        elif member.origin is not None and member.sql is not None:
            for ref in member.sql.member_refs:
                self.recorder.add(f"{ref.cube}.{ref.member}", "view_source")

    def _measure_call(self, node: exp.Anonymous) -> exp.Expression:
        if self._in_aggregate:
            raise PgError(GROUPING_ERROR, "aggregate function calls cannot be nested")
        args = node.expressions
        if len(args) != 1 or not isinstance(args[0], exp.Column):
            raise PgError(FEATURE_NOT_SUPPORTED, "MEASURE() takes one measure column")
        marker = self._column(args[0])
        use = self.uses[int(marker.name[1:])]
        if use.member is None or use.member.kind != "measure":
            what = (
                f"'{use.member.name}' is a {use.member.kind}"
                if use.member
                else f"{use.virtual} is not a measure"
            )
            raise PgError(GROUPING_ERROR, f"MEASURE() expects a measure: {what}")
        return self._agg(Agg(use, None, member_type_oid(use.member)))

    def _agg(self, agg: Agg) -> exp.Column:
        self.aggs.append(agg)
        return agg_marker(len(self.aggs) - 1)

    def _aggregate(self, node: exp.AggFunc) -> exp.Expression:
        if self._in_aggregate:
            raise PgError(GROUPING_ERROR, "aggregate function calls cannot be nested")
        functions.check_function(node)
        argument = node.this
        distinct = isinstance(argument, exp.Distinct)
        if distinct:
            assert isinstance(argument, exp.Distinct)
            if len(argument.expressions) != 1:
                raise PgError(
                    FEATURE_NOT_SUPPORTED, "aggregates over several DISTINCT columns are not supported"
                )
            argument = argument.expressions[0]
        if isinstance(node, exp.Count) and (
            argument is None
            or isinstance(argument, exp.Star)
            or (not distinct and isinstance(argument, exp.Literal) and not argument.is_string)
        ):
            return self._count_star()
        if isinstance(argument, exp.Column) and not isinstance(argument.this, exp.Star):
            marker = self._column(argument)
            use = self.uses[int(marker.name[1:])]
            if use.member is not None and use.member.kind == "measure":
                self._check_aggregate_type(use.member, node, distinct)
                return self._agg(Agg(use, None, member_type_oid(use.member)))
            if use.virtual is not None:
                raise PgError(FEATURE_NOT_SUPPORTED, f"{use.virtual} cannot be aggregated")
            argument.replace(marker)
        # An ad-hoc aggregate over dimensions: computed over the cube's rows like a measure would be.
        self._in_aggregate = True
        try:
            for child in list(node.iter_expressions()):
                converted = self._convert(child)
                if converted is not child:
                    child.replace(converted)
        finally:
            self._in_aggregate = False
        for column in node.find_all(exp.Column):
            index = marker_index(column, USE_TABLE)
            if index is not None and self.uses[index].member is not None:
                member = self.uses[index].member
                assert member is not None
                if member.kind == "measure":
                    raise PgError(
                        FEATURE_NOT_SUPPORTED,
                        f"an aggregate over an expression of measure '{member.name}' is not supported",
                        hint=f"use MEASURE({member.name})",
                    )
        return self._agg(Agg(None, node, self._adhoc_type(node)))

    def _count_star(self) -> exp.Expression:
        relation = self.tables[0].relation
        measure = relation.count_measure
        if measure is not None:
            use = self._use(0, measure, None)
            self._record(measure, self._clause)
            return self._agg(Agg(self.uses[use], None, oids.INT8))
        if len(self.tables) > 1 or relation.is_view:
            raise PgError(
                FEATURE_NOT_SUPPORTED,
                f"COUNT(*) needs a measure of type count in {relation.label}",
            )
        return self._agg(Agg(None, exp.Count(this=exp.Star()), oids.INT8))

    def _check_aggregate_type(self, member: Member, node: exp.AggFunc, distinct: bool) -> None:
        given = self._aggregate_name(node, distinct)
        expected = _EXPECTED_AGGREGATES.get(member.type)
        if expected is None:  # number: any aggregate is accepted
            return
        if given in expected:
            return
        wanted = " or ".join(f"{e}()" if "(" not in e else e for e in expected) or "MEASURE()"
        shown = given if "(" in given else f"{given}()"
        raise PgError(
            GROUPING_ERROR,
            f"measure aggregation type doesn't match: the aggregation type for '{member.name}' is "
            f"{wanted} but {shown} was provided",
            hint=f"use MEASURE({member.name})",
        )

    @staticmethod
    def _aggregate_name(node: exp.AggFunc, distinct: bool) -> str:
        if isinstance(node, exp.Count):
            return "COUNT(DISTINCT)" if distinct else "COUNT"
        name = functions.function_name(node).upper()
        return name

    def _adhoc_type(self, node: exp.Expression) -> int:
        if isinstance(node, exp.Count):
            return oids.INT8
        if isinstance(node, exp.Sum | exp.Avg):
            return oids.NUMERIC
        return self._annotate_type(node.copy())

    # ----------------------------------------------------------------------------- grouping

    def _has_aggregate(self, tree: exp.Expression) -> bool:
        return any(marker_index(c, AGG_TABLE) is not None for c in tree.find_all(exp.Column))

    def _no_bare_measures(self, tree: exp.Expression, clause: str, hint: str | None = None) -> None:
        for column in tree.find_all(exp.Column):
            index = marker_index(column, USE_TABLE)
            if index is None:
                continue
            member = self.uses[index].member
            if member is not None and member.kind == "measure":
                raise PgError(
                    GROUPING_ERROR, f"measure '{member.name}' cannot be used in {clause}", hint=hint
                )

    def _record_bare_measures(self, tree: exp.Expression) -> None:
        """Nothing to check in ungrouped queries: bare measures are their per-row values."""

    def _group_key(self, entry: exp.Expression, items: list[Item]) -> exp.Expression:
        if isinstance(entry, exp.Literal) and not entry.is_string:
            position = select_position(entry, "GROUP BY", len(items))
            key = items[position - 1].expr.copy()
        elif isinstance(entry, exp.Column) and not entry.table and self._is_output_only(entry, items):
            name = identifier_name(entry.this)[0]
            key = next(i.expr for i in items if i.name == name).copy()
        else:
            key = self._convert(entry.copy())
        if self._has_aggregate(key):
            raise PgError(GROUPING_ERROR, "aggregate functions are not allowed in GROUP BY")
        for column in key.find_all(exp.Column):
            index = marker_index(column, USE_TABLE)
            if index is not None and self.uses[index].member is not None:
                member = self.uses[index].member
                assert member is not None
                if member.kind == "measure":
                    raise PgError(GROUPING_ERROR, f"measure '{member.name}' cannot be used in GROUP BY")
                self._record(member, "group")
        return key

    def _is_output_only(self, column: exp.Column, items: list[Item]) -> bool:
        """A bare name that is an output column but not a column of the tables (PostgreSQL's rule)."""
        name, quoted = identifier_name(column.this)
        if not any(i.name == name for i in items):
            return False
        return all(t.relation.lookup(column.name, quoted=quoted) is None for t in self.tables)

    def _check_grouped(self, tree: exp.Expression, keys: list[exp.Expression], clause: str) -> None:
        if any(tree == key for key in keys):
            return
        if isinstance(tree, exp.Column):
            index = marker_index(tree, USE_TABLE)
            if index is not None:
                use = self.uses[index]
                if use.member is None:  # __user / __cubeJoinField: constant NULL
                    return
                if use.member.kind == "measure":
                    raise PgError(
                        GROUPING_ERROR,
                        f"measure '{use.member.name}' must be used with MEASURE() or its aggregate"
                        f" in a grouped query ({clause})",
                        hint=f"use MEASURE({use.member.name})",
                    )
                raise PgError(
                    GROUPING_ERROR,
                    f'column "{use.member.name}" must appear in the GROUP BY clause or be used in an'
                    " aggregate function",
                )
            return
        if marker_index(tree, AGG_TABLE) is not None:
            return
        if isinstance(tree, exp.Query | exp.Subquery):
            return
        for child in tree.iter_expressions():
            self._check_grouped(child, keys, clause)

    def _order_item(self, ordered: exp.Expression, items: list[Item]) -> OrderItem:
        if not isinstance(ordered, exp.Ordered):
            ordered = exp.Ordered(this=ordered, nulls_first=False)
        desc = bool(ordered.args.get("desc"))
        nulls_first = bool(ordered.args.get("nulls_first"))
        target = ordered.this
        if isinstance(target, exp.Literal) and not target.is_string:
            position = select_position(target, "ORDER BY", len(items))
            self._record_order(items[position - 1].expr)
            return OrderItem(position - 1, None, desc, nulls_first)
        if isinstance(target, exp.Column) and not target.table:
            name = identifier_name(target.this)[0]
            matches = [n for n, item in enumerate(items) if item.name == name]
            if len(matches) == 1:
                self._record_order(items[matches[0]].expr)
                return OrderItem(matches[0], None, desc, nulls_first)
        converted = self._convert(target.copy())
        for index, item in enumerate(items):
            if item.expr == converted:
                return OrderItem(index, None, desc, nulls_first)
        return OrderItem(None, converted, desc, nulls_first)

    def _record_order(self, tree: exp.Expression) -> None:
        for column in tree.find_all(exp.Column):
            index = marker_index(column, USE_TABLE)
            if index is not None and self.uses[index].member is not None:
                member = self.uses[index].member
                assert member is not None
                self._record(member, "order")
            index = marker_index(column, AGG_TABLE)
            if index is not None and self.aggs[index].use is not None:
                member = self.aggs[index].use.member  # type: ignore[union-attr]
                if member is not None:
                    self._record(member, "order")

    def _limits(self) -> tuple[exp.Expression | None, exp.Expression | None]:
        limit_node = self.select.args.get("limit")
        limit: exp.Expression | None = None
        if isinstance(limit_node, exp.Limit):
            limit = limit_node.expression
        elif isinstance(limit_node, exp.Fetch):
            options = limit_node.args.get("limit_options")
            if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
                raise PgError(FEATURE_NOT_SUPPORTED, "FETCH … PERCENT / WITH TIES is not supported")
            limit = limit_node.args.get("count") or exp.Literal.number(1)
        offset_node = self.select.args.get("offset")
        offset = offset_node.expression if isinstance(offset_node, exp.Offset) else None
        return _count_expression(limit, "LIMIT"), _count_expression(offset, "OFFSET")

    # ------------------------------------------------------------------------------- typing

    def _schema(self) -> MappingSchema:
        uses = {f"m{i}": sqlglot_type_name(self._use_oid(u)) for i, u in enumerate(self.uses)}
        aggs = {f"a{i}": sqlglot_type_name(a.oid) for i, a in enumerate(self.aggs)}
        return MappingSchema(
            {USE_TABLE: uses or {"m": "TEXT"}, AGG_TABLE: aggs or {"a": "TEXT"}},
            dialect="postgres",
            normalize=False,
        )

    @staticmethod
    def _use_oid(use: Use) -> int:
        return member_type_oid(use.member) if use.member is not None else oids.TEXT

    def _annotate_type(self, tree: exp.Expression) -> int:
        stub = exp.select(tree).from_(exp.Table(this=exp.Identifier(this=USE_TABLE)))
        stub = stub.join(exp.Table(this=exp.Identifier(this=AGG_TABLE)), join_type="cross")
        annotate_types(stub, schema=self._schema(), dialect="postgres")
        return _oid_of(stub.expressions[0])

    def _type_items(self, analysis: _Analysis) -> None:
        """Result column types, and the types ``$n``/lifted values take from their context."""
        computed = [item for item in analysis.items if not _is_marker(item.expr)]
        for item in analysis.items:
            if _is_marker(item.expr):
                item.oid = self._marker_oid(item.expr)
        if computed:
            stub = exp.select(*[item.expr.copy() for item in computed])
            stub = stub.from_(exp.Table(this=exp.Identifier(this=USE_TABLE)))
            stub = stub.join(exp.Table(this=exp.Identifier(this=AGG_TABLE)), join_type="cross")
            annotate_types(stub, schema=self._schema(), dialect="postgres")
            for item, annotated in zip(computed, stub.expressions, strict=True):
                item.oid = _oid_of(annotated)
                dialects.mark_integer_divisions(annotated, item.expr)
        trees = [i.expr for i in analysis.items]
        trees += [t for t in (analysis.where, analysis.having) if t is not None]
        trees += [o.expr for o in analysis.order if o.expr is not None]
        trees += list(analysis.group_keys or [])
        type_parameters(trees, self._operand_oid, self.ctx.param_types)
        for limit in (analysis.limit, analysis.offset):
            source = param_source(limit) if limit is not None else None
            if source is not None:
                self.ctx.param_types.setdefault(source, oids.INT8)

    def _operand_oid(self, operand: exp.Expression) -> int:
        if _is_marker(operand):
            return self._marker_oid(operand)
        if isinstance(operand, exp.TimestampTrunc | exp.DateTrunc | exp.DatetimeTrunc):
            return oids.TIMESTAMP
        if isinstance(operand, exp.Literal):
            return oids.TEXT if operand.is_string else oids.NUMERIC
        return self._annotate_type(operand.copy())

    def _marker_oid(self, tree: exp.Expression) -> int:
        index = marker_index(tree, USE_TABLE)
        if index is not None:
            return self._use_oid(self.uses[index])
        index = marker_index(tree, AGG_TABLE)
        if index is not None:
            return self.aggs[index].oid
        return oids.TEXT


def nested_query(node: exp.Query, plan: Callable[[exp.Query], PlannedQuery]) -> exp.Expression:
    """A subquery inside an expression, planned on its own (a parenthesised one stays parenthesised)."""
    if isinstance(node, exp.Subquery):
        if node.args.get("alias") is not None:
            raise PgError(FEATURE_NOT_SUPPORTED, "aliased subqueries are not supported in expressions")
        return exp.Subquery(this=plan(node.this).tree)
    return plan(node).tree


def _is_marker(tree: exp.Expression) -> bool:
    return marker_index(tree, USE_TABLE) is not None or marker_index(tree, AGG_TABLE) is not None


def _oid_of(tree: exp.Expression) -> int:
    if isinstance(tree, exp.Alias):
        tree = tree.this
    if isinstance(tree, exp.TimestampTrunc | exp.DateTrunc | exp.DatetimeTrunc):
        return oids.TIMESTAMP
    return oid_of_sqlglot_type(tree.type)


def _params(tree: exp.Expression) -> Iterator[tuple[exp.Expression, ParamSource]]:
    for node in tree.find_all(exp.Parameter, exp.Placeholder):
        source = param_source(node)
        if source is not None:
            yield node, source


_ARITHMETIC_AND_COMPARISONS = (*COMPARISONS, exp.Add, exp.Sub, exp.Mul, exp.Div)


def type_parameters(
    trees: list[exp.Expression],
    operand_oid: Callable[[exp.Expression], int],
    types: dict[ParamSource, int],
) -> None:
    """Record in ``types`` the type of every ``$n``/lifted value in ``trees``: the type of what it is
    compared with.

    ``operand_oid`` types the other operand (a compared column, the left side of IN/BETWEEN); a value
    with nothing to take a type from (LIKE patterns, bare select items …) is text. Values typed
    already (a ``$n`` used twice, values inside nested queries planned on their own) keep their type.
    """
    known: dict[int, int] = {}

    def oid_of(operand: exp.Expression) -> int:
        key = id(operand)
        if key not in known:
            oid = operand_oid(operand)
            known[key] = oids.INT8 if oid in (oids.INT2, oids.INT4) else oid
        return known[key]

    for tree in trees:
        for node, source in _params(tree):
            if source not in types:
                types[source] = _context_oid(node, oid_of)


def _context_oid(node: exp.Expression, oid_of: Callable[[exp.Expression], int]) -> int:
    parent = node.parent
    child = node
    while isinstance(parent, exp.Neg | exp.Paren):
        child, parent = parent, parent.parent
    if isinstance(parent, exp.Like | exp.ILike):
        return oids.TEXT
    if isinstance(parent, exp.Cast | exp.TryCast):
        return oid_of_sqlglot_type(parent.args.get("to"))
    other: exp.Expression | None = None
    if isinstance(parent, _ARITHMETIC_AND_COMPARISONS):
        other = parent.expression if child is parent.this else parent.this
    elif isinstance(parent, exp.In | exp.Between):
        other = parent.this if child is not parent.this else None
    if other is None or param_source(other) is not None:
        return oids.TEXT
    oid = oid_of(other)
    return oids.TEXT if oid == oids.UNKNOWN else oid


def _count_expression(node: exp.Expression | None, clause: str) -> exp.Expression | None:
    if node is None or isinstance(node, exp.Null):
        return None
    if clause == "LIMIT" and isinstance(node, exp.Var | exp.Column) and node.name.upper() == "ALL":
        return None  # LIMIT ALL: no limit
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        raise PgError("2201W" if clause == "LIMIT" else "2201X", f"{clause} must not be negative")
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            value = int(node.this)
        except ValueError:
            raise PgError(FEATURE_NOT_SUPPORTED, f"{clause} must be an integer") from None
        if value < 0:
            raise PgError("2201W" if clause == "LIMIT" else "2201X", f"{clause} must not be negative")
        return exp.Literal.number(value)
    if param_source(node) is not None:
        return node.copy()
    raise PgError(FEATURE_NOT_SUPPORTED, f"{clause} must be a number or a $n parameter")


# =============================================================================== SQL generation


@dataclass
class _Leaf:
    """An aggregate computed in one layer: the expression and the column that carries it."""

    name: str
    expr: exp.Expression
    layer: tuple[str, ...] | None  # None: the base layer; else the multiplied node's path
    oid: int


class _Builder:
    """Turns an analysed cube query into a sqlglot tree in the datasource dialect."""

    def __init__(self, query: CubeQuery, analysis: _Analysis) -> None:
        self.q = query
        self.a = analysis
        self.ctx = query.ctx
        self.view: View | None = None
        relation = query.tables[0].relation
        if relation.is_view:
            assert isinstance(relation, View)
            self.view = relation
        self.tree = self._join_tree()
        self.r = Renderer(self.ctx.model, self.ctx.dialect, self.tree, query.recorder, self.view)
        self.use_nodes: dict[int, tuple[Node, Member | None]] = {}

    # ------------------------------------------------------------------------------ join tree

    def _join_tree(self) -> JoinTree:
        model = self.ctx.model
        q = self.q
        used_tables = sorted({u.table for u in q.uses if u.member is not None} | {0})
        if self.view is not None:
            view = self.view
            root = model.cube(view.root)
            tree = JoinTree(root)
            for use in q.uses:
                if use.member is None:
                    continue
                for cube, path in self._view_paths(use.member):
                    tree.add_path(model, path)
                    self._add_dependencies(tree, tree.nodes[path], use.member, cube)
            return tree
        needed_cubes: list[str] = []
        for index in used_tables:
            relation = q.tables[index].relation
            if relation.name not in needed_cubes and (
                index == 0 or any(u.table == index and u.member is not None for u in q.uses)
            ):
                needed_cubes.append(relation.name)
        found = model.join_graph.find_tree(needed_cubes)
        if found is None:
            raise PgError(
                FEATURE_NOT_SUPPORTED,
                "can't find a join path between " + ", ".join(f"'{c}'" for c in needed_cubes),
                hint="joins follow the direction they are declared in the model; put the cube that declares"
                " them first, or query a view",
            )
        root_name, joins = found
        tree = JoinTree(model.cube(root_name))
        for join in joins:
            parent = tree.by_cube(join.source)[0]
            tree.add_path(model, (*parent.path, join.target))
        for use in q.uses:
            if use.member is not None:
                node = tree.by_cube(use.member.owner)[0]
                self._add_dependencies(tree, node, use.member, use.member.owner)
        return tree

    def _view_paths(self, member: Member) -> list[tuple[str, tuple[str, ...]]]:
        assert self.view is not None
        if member.sql is None:
            assert member.origin is not None
            return [(member.origin.cube, member.origin.path)]
        view = self.view
        return [
            (ref.cube, path) for ref in member.sql.member_refs if (path := view.path_to(ref.cube)) is not None
        ]

    def _add_dependencies(self, tree: JoinTree, node: Node, member: Member, cube: str) -> None:
        """Join the cubes that ``member``'s SQL references (transitively) into ``tree``."""
        model = self.ctx.model
        for ref in _dependencies(model, cube, member):
            if ref.cube == node.cube.name or any(n.cube.name == ref.cube for n in tree.nodes.values()):
                continue
            path = self.view.path_to(ref.cube) if self.view is not None else None
            if path is not None:
                tree.add_path(model, path)
                continue
            joins = model.join_graph.path(tree.root.cube.name, ref.cube)
            if joins is None:
                raise PgError(
                    FEATURE_NOT_SUPPORTED,
                    f"can't find a join path from '{tree.root.cube.name}' to '{ref.cube}'"
                    f" (referenced by {member.full_name})",
                )
            tree.add_joins(model, tree.root, joins)

    def _node_of(self, use_index: int) -> tuple[Node, Member | None]:
        cached = self.use_nodes.get(use_index)
        if cached is not None:
            return cached
        use = self.q.uses[use_index]
        member = use.member
        if member is None:
            result = (self.tree.root, None)
        elif self.view is not None:
            if member.sql is None:
                assert member.origin is not None
                node = self.tree.nodes[member.origin.path]
                underlying = node.cube.get(member.origin.member)
                assert underlying is not None
                result = (node, underlying)
            else:
                result = (self.tree.root, member)
        else:
            result = (self.tree.by_cube(member.owner)[0], member)
        self.use_nodes[use_index] = result
        return result

    # ----------------------------------------------------------------------------- rendering

    def _row_expr(self, use_index: int, ungrouped_measures: bool) -> exp.Expression:
        use = self.q.uses[use_index]
        node, member = self._node_of(use_index)
        if member is None:
            return exp.Cast(this=exp.Null(), to=data_type(oids.TEXT))
        if member.owner != node.cube.name:  # a view-level calculated member
            assert member.sql is not None
            if member.kind == "measure":
                if not ungrouped_measures:
                    raise AssertionError("bare measure in a grouped query")
                return self.r.expand(member.sql, node, member, member_expr=self.r.measure_row, qualify=False)
            return self.r.expand(member.sql, node, member, qualify=False)
        if member.kind == "measure":
            return self.r.measure_row(node, member)
        del use
        return self.r.dimension(node, member)

    def _measure(self, agg: Agg, leaf: Callable[[Node, Member], exp.Expression]) -> exp.Expression:
        assert agg.use is not None
        node, member = self._node_of(self.q.uses.index(agg.use))
        assert member is not None
        if member.owner != node.cube.name:  # view-level calculated measure
            assert member.sql is not None
            return self.r.expand(
                member.sql, node, member, member_expr=lambda n, m: self.r.measure(n, m, leaf), qualify=False
            )
        return self.r.measure(node, member, leaf)

    def _substitute(
        self,
        tree: exp.Expression,
        *,
        ungrouped_measures: bool,
        agg: Callable[[int], exp.Expression],
    ) -> exp.Expression:
        """A copy of a semantic tree with markers replaced by SQL."""
        tree = tree.copy()
        if _is_marker(tree):
            return self._marker_sql(tree, ungrouped_measures, agg)
        for column in list(tree.find_all(exp.Column)):
            if _is_marker(column):
                column.replace(self._marker_sql(column, ungrouped_measures, agg))
        return tree

    def _marker_sql(
        self, column: exp.Expression, ungrouped_measures: bool, agg: Callable[[int], exp.Expression]
    ) -> exp.Expression:
        index = marker_index(column, USE_TABLE)
        if index is not None:
            return _wrap(self._row_expr(index, ungrouped_measures))
        index = marker_index(column, AGG_TABLE)
        assert index is not None
        return _wrap(agg(index))

    def _adhoc(self, agg: Agg) -> exp.Expression:
        assert agg.func is not None
        return self._substitute(agg.func, ungrouped_measures=False, agg=lambda i: exp.Null())

    # ------------------------------------------------------------------------------- building

    def build(self) -> PlannedQuery:
        a = self.a
        names = [item.name for item in a.items]
        if a.group_keys is None:
            try:
                select = self._single(ungrouped=True)
            except NeedsGrouping:
                select = self._single(ungrouped=True, group_by_rows=True)
        else:
            leaves = self._layered_leaves()
            select = self._layered(leaves) if leaves is not None else self._single(ungrouped=False)
        columns = [Column(name, item.oid) for name, item in zip(names, a.items, strict=True)]
        return PlannedQuery(select, columns)

    def _from(self, select: exp.Select) -> exp.Select:
        first, joins = self.r.from_items()
        select = select.from_(first, copy=False)
        for join in joins:
            select.append("joins", join)
        return select

    def _item_aliases(self) -> list[str]:
        names = [item.name for item in self.a.items]
        return names

    def _order(
        self, aliases: list[str], render: Callable[[exp.Expression], exp.Expression]
    ) -> list[exp.Ordered]:
        unique = {n for n in aliases if aliases.count(n) == 1}
        result: list[exp.Ordered] = []
        for entry in self.a.order:
            if entry.index is not None and aliases[entry.index] in unique:
                target: exp.Expression = exp.Column(this=ident(aliases[entry.index]))
            elif entry.index is not None:
                target = render(self.a.items[entry.index].expr)
            else:
                assert entry.expr is not None
                target = render(entry.expr)
            if _constant(target):
                # Ordering by a constant has no effect, and a rendered literal would read as a
                # position (ORDER BY 0) or be refused by the datasource (ORDER BY 'a').
                continue
            result.append(exp.Ordered(this=target, desc=entry.desc, nulls_first=entry.nulls_first))
        return result

    def _finish(
        self, select: exp.Select, aliases: list[str], render: Callable[[exp.Expression], exp.Expression]
    ) -> exp.Select:
        a = self.a
        order = self._order(aliases, render) if a.order else []
        if order:
            select.set("order", exp.Order(expressions=order))
        if a.limit is not None:
            select.set("limit", exp.Limit(expression=a.limit.copy()))
        if a.offset is not None:
            select.set("offset", exp.Offset(expression=a.offset.copy()))
        if a.distinct:
            select.set("distinct", exp.Distinct())
        return select

    def _group_ref(
        self, key: exp.Expression, render: Callable[[exp.Expression], exp.Expression]
    ) -> exp.Expression:
        """A group key as the position of the select item computing it (else its expression).

        Positions keep GROUP BY identical to the select list even when the key holds lifted literals
        (each rendering of an expression gets its own placeholders).
        """
        for position, item in enumerate(self.a.items, start=1):
            if item.expr == key:
                return exp.Literal.number(position)
        return render(key)

    def _single(self, *, ungrouped: bool, group_by_rows: bool = False) -> exp.Select:
        """One SELECT over the joined cubes."""
        a = self.a
        measure_leaf = self.r.leaf_aggregate

        def agg(index: int) -> exp.Expression:
            entry = self.q.aggs[index]
            return self._adhoc(entry) if entry.use is None else self._measure(entry, measure_leaf)

        def render(tree: exp.Expression) -> exp.Expression:
            if group_by_rows:
                return self._substitute(
                    _measures_as_aggregates(self.q, tree), ungrouped_measures=False, agg=agg_all
                )
            return self._substitute(tree, ungrouped_measures=ungrouped, agg=agg)

        agg_all = agg
        if group_by_rows:
            # Ungrouped query with a measure that only exists as an aggregate: group by every
            # cube's primary key, so each group is one row of the join.
            for node in self.tree.nodes.values():
                if not node.cube.primary_keys:
                    raise PgError(
                        FEATURE_NOT_SUPPORTED,
                        f"cube '{node.cube.name}' needs a primary_key to compute its measures per row",
                        hint="add GROUP BY to the query",
                    )
        aliases = self._item_aliases()
        select = exp.Select()
        for item, alias in zip(a.items, aliases, strict=True):
            select.append("expressions", exp.Alias(this=render(item.expr), alias=ident(alias)))
        select = self._from(select)
        if a.where is not None:
            select.set("where", exp.Where(this=render(a.where)))
        if group_by_rows:
            keys = [k for node in self.tree.ordered() for k in self.r.primary_key(node)]
            for position, item in enumerate(a.items, start=1):
                if not contains_aggregate(render(item.expr)):
                    keys.append(exp.Literal.number(position))
            for entry in a.order:
                if entry.expr is not None:
                    rendered = render(entry.expr)
                    if not contains_aggregate(rendered):
                        keys.append(rendered)
            select.set("group", exp.Group(expressions=keys))
        elif not ungrouped and a.group_keys:
            select.set("group", exp.Group(expressions=[self._group_ref(k, render) for k in a.group_keys]))
        if a.having is not None:
            select.set("having", exp.Having(this=render(a.having)))
        return self._finish(select, aliases, render)

    # ----------------------------------------------------------------- multiplied measures

    def _layered_leaves(self) -> list[_Leaf] | None:
        """The leaf aggregates with the layer each must be computed in; None when one query will do."""
        multiplied = self.tree.multiplied()
        if not multiplied:
            return None
        leaves: list[_Leaf] = []
        needs_layers = False
        self._leaf_index: dict[tuple[tuple[str, ...], str], _Leaf] = {}

        def register(node: Node, member: Member) -> exp.Expression:
            key = (node.path, member.name)
            leaf = self._leaf_index.get(key)
            if leaf is None:
                expr = self.r.leaf_aggregate(node, member)
                layer = None
                if node.path in multiplied and member.type not in DUPLICATE_INSENSITIVE_MEASURES:
                    layer = node.path
                leaf = _Leaf(f"l{len(leaves)}", expr, layer, member_type_oid(member))
                leaves.append(leaf)
                self._leaf_index[key] = leaf
            return _leaf_ref(leaf)

        self._agg_sql: dict[int, exp.Expression] = {}
        for index, agg in enumerate(self.q.aggs):
            if agg.use is not None:
                node, member = self._node_of(self.q.uses.index(agg.use))
                assert member is not None
                self._check_not_mixed(node, member, multiplied)
                self._agg_sql[index] = self._measure(agg, register)
            else:
                expr = self._adhoc(agg)
                layer = self._adhoc_layer(agg, expr, multiplied)
                leaf = _Leaf(f"l{len(leaves)}", expr, layer, agg.oid)
                leaves.append(leaf)
                self._agg_sql[index] = _leaf_ref(leaf)
        for leaf in leaves:
            needs_layers = needs_layers or leaf.layer is not None
        return leaves if needs_layers else None

    def _check_not_mixed(self, node: Node, member: Member, multiplied: set[tuple[str, ...]]) -> None:
        if member.type in CALCULATED_MEASURES and self.r.measure_kind(node, member) == "mixed":
            raise PgError(
                FEATURE_NOT_SUPPORTED,
                f"measure '{member.full_name}' mixes measures and row data; it can't be computed across a"
                " one-to-many join",
            )

    def _adhoc_layer(
        self, agg: Agg, expr: exp.Expression, multiplied: set[tuple[str, ...]]
    ) -> tuple[str, ...] | None:
        assert agg.func is not None
        nodes = {
            self._node_of(marker_index(c, USE_TABLE))[0].path  # type: ignore[arg-type]
            for c in agg.func.find_all(exp.Column)
            if marker_index(c, USE_TABLE) is not None
        }
        insensitive = isinstance(agg.func, functions.DUPLICATE_INSENSITIVE) or (
            isinstance(agg.func, exp.Count) and isinstance(agg.func.this, exp.Distinct)
        )
        hit = [p for p in nodes if p in multiplied]
        if not hit or insensitive:
            return None
        if len(nodes) > 1:
            raise PgError(
                FEATURE_NOT_SUPPORTED,
                f"{functions.function_name(agg.func).upper()}() over columns of several cubes can't be"
                " computed across a one-to-many join",
            )
        return hit[0]

    def _layered(self, leaves: list[_Leaf]) -> exp.Select:
        """Per-cube aggregation for multiplied measures, combined on the group keys."""
        a = self.a
        keys = a.group_keys or []
        key_names = [f"g{i}" for i in range(len(keys))]
        rendered_keys = [
            self._substitute(k, ungrouped_measures=False, agg=lambda i: exp.Null()) for k in keys
        ]
        where = (
            self._substitute(a.where, ungrouped_measures=False, agg=lambda i: exp.Null())
            if a.where is not None
            else None
        )
        layers: dict[tuple[str, ...] | None, list[_Leaf]] = {None: []}
        for leaf in leaves:
            layers.setdefault(leaf.layer, []).append(leaf)
        branches: list[exp.Select] = []
        for layer, own in layers.items():
            branch = (
                self._base_layer(rendered_keys, key_names, where, own)
                if layer is None
                else self._cube_layer(layer, rendered_keys, key_names, where, own)
            )
            # Every branch lists all leaf columns (NULL for the other layers' leaves).
            owned = {leaf.name for leaf in own}
            values = {e.alias: e for e in branch.expressions}
            branch.set(
                "expressions",
                [values[n] for n in key_names]
                + [
                    values[leaf.name]
                    if leaf.name in owned
                    else exp.Alias(this=self._null(leaf), alias=ident(leaf.name))
                    for leaf in leaves
                ],
            )
            branches.append(branch)
        union: exp.Expression = branches[0]
        for branch in branches[1:]:
            union = exp.Union(this=union, expression=branch, distinct=False)
        source = exp.Subquery(this=union, alias=exp.TableAlias(this=ident(UNION_ALIAS)))

        key_refs = [exp.Column(this=ident(n), table=ident(UNION_ALIAS)) for n in key_names]

        def combined(leaf: _Leaf) -> exp.Expression:
            column = exp.Column(this=ident(leaf.name), table=ident(UNION_ALIAS))
            if leaf.oid == oids.BOOL:
                # Parenthesised: the measure may itself be compared (HAVING m = FALSE), and
                # "MAX(x) = 1 = FALSE" is a syntax error on PostgreSQL and DuckDB.
                return exp.Paren(this=exp.EQ(this=exp.Max(this=column), expression=exp.Literal.number(1)))
            value: exp.Expression = exp.Max(this=column)
            if leaf.oid == oids.INT8 and leaf.layer is not None:
                value = exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])
            return value

        by_name = {leaf.name: leaf for leaf in leaves}

        def render(tree: exp.Expression) -> exp.Expression:
            lifted = _replace_keys(tree, keys, key_refs)
            result = self._substitute(lifted, ungrouped_measures=False, agg=lambda i: self._agg_sql[i].copy())
            for column in list(result.find_all(exp.Column)):
                if column.table == "__sgleaf":
                    replacement = combined(by_name[column.name])
                    if column is result:
                        return replacement
                    column.replace(replacement)
            return result

        aliases = self._item_aliases()
        select = exp.Select()
        for item, alias in zip(a.items, aliases, strict=True):
            select.append("expressions", exp.Alias(this=render(item.expr), alias=ident(alias)))
        select = select.from_(source, copy=False)
        if key_refs:
            select.set("group", exp.Group(expressions=[k.copy() for k in key_refs]))
        if a.having is not None:
            select.set("having", exp.Having(this=render(a.having)))
        return self._finish(select, aliases, render)

    def _null(self, leaf: _Leaf) -> exp.Expression:
        """A NULL standing for another layer's leaf. PostgreSQL types a UNION column pairwise from
        the left, so two untyped NULLs would make it text: there the NULL carries the leaf's type."""
        if self.ctx.dialect != "postgres":
            return exp.Null()
        oid = oids.INT8 if leaf.oid == oids.BOOL else leaf.oid
        return exp.Cast(this=exp.Null(), to=data_type(oid))

    def _base_layer(
        self,
        keys: list[exp.Expression],
        key_names: list[str],
        where: exp.Expression | None,
        leaves: list[_Leaf],
    ) -> exp.Select:
        select = exp.Select()
        for key, name in zip(keys, key_names, strict=True):
            select.append("expressions", exp.Alias(this=key.copy(), alias=ident(name)))
        for leaf in leaves:
            select.append("expressions", exp.Alias(this=_bool_as_int(leaf), alias=ident(leaf.name)))
        select = self._from(select)
        if where is not None:
            select.set("where", exp.Where(this=where.copy()))
        if keys:
            select.set("group", exp.Group(expressions=[exp.Literal.number(i + 1) for i in range(len(keys))]))
        return select

    def _cube_layer(
        self,
        path: tuple[str, ...],
        keys: list[exp.Expression],
        key_names: list[str],
        where: exp.Expression | None,
        leaves: list[_Leaf],
    ) -> exp.Select:
        """Aggregates of one multiplied cube over its rows de-duplicated on its primary key."""
        node = self.tree.nodes[path]
        pks = self.r.primary_key(node)
        if not pks:
            raise PgError(
                FEATURE_NOT_SUPPORTED,
                f"cube '{node.cube.name}' needs a primary_key: its measures are multiplied by a"
                " one-to-many join in this query",
            )
        columns: dict[str, str] = {}

        def remap(tree: exp.Expression) -> exp.Expression:
            tree = tree.copy()
            for column in list(tree.find_all(exp.Column)):
                if column.find_ancestor(exp.Query) is not None:
                    continue
                if column.table != node.alias:
                    raise PgError(
                        FEATURE_NOT_SUPPORTED,
                        f"a measure of cube '{node.cube.name}' uses columns of another cube; it can't be"
                        " computed across a one-to-many join",
                    )
                name = columns.setdefault(column.name, f"c{len(columns)}")
                column.replace(exp.Column(this=ident(name), table=ident(DEDUP_ALIAS)))
            return tree

        leaf_exprs = [remap(_bool_as_int(leaf)) for leaf in leaves]
        pk_names = [f"k{i}" for i in range(len(pks))]
        inner = exp.Select()
        for key, name in zip(keys, key_names, strict=True):
            inner.append("expressions", exp.Alias(this=key.copy(), alias=ident(name)))
        for pk, name in zip(pks, pk_names, strict=True):
            inner.append("expressions", exp.Alias(this=pk, alias=ident(name)))
        for column, name in columns.items():
            inner.append(
                "expressions",
                exp.Alias(this=exp.Column(this=ident(column), table=ident(node.alias)), alias=ident(name)),
            )
        inner.set("distinct", exp.Distinct())
        inner = self._from(inner)
        if where is not None:
            inner.set("where", exp.Where(this=where.copy()))
        outer = exp.Select()
        for name in key_names:
            outer.append(
                "expressions",
                exp.Alias(this=exp.Column(this=ident(name), table=ident(DEDUP_ALIAS)), alias=ident(name)),
            )
        for leaf, expr in zip(leaves, leaf_exprs, strict=True):
            outer.append("expressions", exp.Alias(this=expr, alias=ident(leaf.name)))
        outer = outer.from_(
            exp.Subquery(this=inner, alias=exp.TableAlias(this=ident(DEDUP_ALIAS))), copy=False
        )
        present = [
            exp.Not(
                this=exp.Is(this=exp.Column(this=ident(n), table=ident(DEDUP_ALIAS)), expression=exp.Null())
            )
            for n in pk_names
        ]
        outer.set("where", exp.Where(this=exp.and_(*present)))
        if key_names:
            outer.set(
                "group",
                exp.Group(
                    expressions=[exp.Column(this=ident(n), table=ident(DEDUP_ALIAS)) for n in key_names]
                ),
            )
        return outer


def _leaf_ref(leaf: _Leaf) -> exp.Column:
    return exp.Column(this=exp.Identifier(this=leaf.name), table=exp.Identifier(this="__sgleaf"))


def _bool_as_int(leaf: _Leaf) -> exp.Expression:
    """Boolean aggregates travel as 1/0 through the UNION (MAX(boolean) is not portable)."""
    expr = leaf.expr.copy()
    if leaf.oid != oids.BOOL:
        return expr
    return exp.Case(
        ifs=[
            exp.If(this=expr, true=exp.Literal.number(1)),
            exp.If(this=exp.Not(this=expr.copy()), true=exp.Literal.number(0)),
        ]
    )


def _replace_keys(tree: exp.Expression, keys: list[exp.Expression], refs: list[exp.Column]) -> exp.Expression:
    """``tree`` with every sub-tree equal to a group key replaced by the key's column."""
    for key, ref in zip(keys, refs, strict=True):
        if tree == key:
            return ref.copy()
    tree = tree.copy()

    def visit(node: exp.Expression) -> None:
        for child in list(node.iter_expressions()):
            for key, ref in zip(keys, refs, strict=True):
                if child == key:
                    child.replace(ref.copy())
                    break
            else:
                visit(child)

    visit(tree)
    return tree


def _measures_as_aggregates(query: CubeQuery, tree: exp.Expression) -> exp.Expression:
    """Bare measure markers turned into aggregate markers (for per-row grouping)."""
    tree = tree.copy()
    for column in list(tree.find_all(exp.Column)):
        index = marker_index(column, USE_TABLE)
        if index is None:
            continue
        use = query.uses[index]
        if use.member is not None and use.member.kind == "measure":
            query.aggs.append(Agg(use, None, member_type_oid(use.member)))
            replacement = agg_marker(len(query.aggs) - 1)
            if column is tree:
                return replacement
            column.replace(replacement)
    return tree


def _wrap(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Column | exp.Literal | exp.Paren | exp.Null | exp.Boolean | exp.Func | exp.Cast):
        return node
    return exp.Paren(this=node)


_dependency_cache: WeakKeyDictionary[Any, dict[tuple[str, str], tuple[MemberRef, ...]]] = WeakKeyDictionary()


def _dependencies(model: Any, cube: str, member: Member) -> tuple[MemberRef, ...]:
    """Members ``member`` references, transitively (for view-level members: their cube members).

    A reference to a whole cube (``{Users}.id``) is returned as ``MemberRef(cube, "")``.
    """
    per_model = _dependency_cache.setdefault(model, {})
    key = (cube, f"{member.owner}.{member.name}")
    cached = per_model.get(key)
    if cached is not None:
        return cached
    seen: dict[tuple[str, str], MemberRef] = {}
    stack: list[Member] = [member]
    while stack:
        current = stack.pop()
        for template in current.templates():
            for ref in template.refs:
                ref_cube = ref.cube
                if isinstance(ref, MemberRef):
                    if (ref.cube, ref.member) in seen:
                        continue
                    seen[(ref.cube, ref.member)] = ref
                    target = model.cube(ref.cube).get(ref.member)
                    if target is not None:
                        stack.append(target)
                else:
                    seen.setdefault((ref_cube, ""), MemberRef(ref_cube, ""))
    result = tuple(seen.values())
    per_model[key] = result
    return result


def is_cube(relation: Relation) -> bool:
    return isinstance(relation, Cube)


def _constant(node: exp.Expression) -> bool:
    """True when ``node`` reads no column and computes no aggregate or window (a constant per row)."""
    return node.find(exp.Column, exp.AggFunc, exp.Window) is None
