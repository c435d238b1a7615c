"""A whole semantic statement: cube queries and the SQL around them (subqueries, CTEs, UNION).

Each SELECT whose FROM names only cubes (or one view) is a *cube query* (:mod:`.cube_query`). A
SELECT over a subquery or CTE that merely projects a cube's members is merged into the query around
it ("top-down": the outer GROUP BY decides the grain, as in Cube). Anything else around cube queries —
expressions, CASE, window functions, joins of subqueries, UNION — is regenerated as SQL over the
generated cube queries, after every column is resolved and every function checked against the
allowlist. Tables other than cubes, views and CTEs are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.schema import MappingSchema

from sqlgate.errors import (
    AMBIGUOUS_COLUMN,
    FEATURE_NOT_SUPPORTED,
    INSUFFICIENT_PRIVILEGE,
    SYNTAX_ERROR,
    UNDEFINED_COLUMN,
    UNDEFINED_TABLE,
    PgError,
)
from sqlgate.pgproto import oids
from sqlgate.planner.semantic import dialects, functions
from sqlgate.planner.semantic.context import Column, PlanContext, PlannedQuery
from sqlgate.planner.semantic.cube_query import (
    MEASURE_FUNCTION,
    SUPPORTED_SELECT_CLAUSES,
    CubeQuery,
    TableInstance,
    _count_expression,
    _oid_of,
    default_column_name,
    identifier_name,
    nested_query,
    type_parameters,
)
from sqlgate.planner.semantic.params import param_source
from sqlgate.planner.semantic.positions import select_position
from sqlgate.planner.semantic.render import ident
from sqlgate.planner.semantic.semijoin import semi_joins_as_filters
from sqlgate.planner.semantic.types import data_type, sqlglot_type_name
from sqlgate.semantic.definitions import JOIN_FIELD_COLUMN, USER_COLUMN, Relation

CATALOG_SCHEMAS = frozenset({"pg_catalog", "information_schema"})


@dataclass
class _Cte:
    name: str
    body: exp.Expression
    planned: PlannedQuery | None = None
    planning: bool = False


@dataclass
class Scope:
    """CTEs visible at a point of the statement (inner scopes see outer ones)."""

    ctes: dict[str, _Cte] = field(default_factory=dict)
    parent: Scope | None = None
    emitted: list[_Cte] = field(default_factory=list)  # CTEs of this level that were used

    def find(self, name: str, quoted: bool) -> tuple[Scope, _Cte] | None:
        scope: Scope | None = self
        while scope is not None:
            for key, cte in scope.ctes.items():
                if key == name or (not quoted and key.lower() == name.lower()):
                    return scope, cte
            scope = scope.parent
        return None


@dataclass
class _Source:
    """A FROM item of an outer query: its alias, columns and the generated SQL that replaces it."""

    alias: str
    columns: list[Column]
    sql: exp.Expression


class StatementPlanner:
    """Plans one client statement into a :class:`PlannedQuery` for the context's dialect."""

    def __init__(self, ctx: PlanContext) -> None:
        self.ctx = ctx
        self._scope = Scope()

    def plan(self, tree: exp.Expression) -> PlannedQuery:
        if not isinstance(tree, exp.Query):
            raise PgError(FEATURE_NOT_SUPPORTED, f"{tree.key.upper()} statements are not supported on cubes")
        return self.query(tree, self._scope)

    # ---------------------------------------------------------------------------- dispatch

    def query(self, node: exp.Expression, scope: Scope) -> PlannedQuery:
        if isinstance(node, exp.Subquery):
            return self.query(node.this, scope)
        if isinstance(node, exp.SetOperation):
            return self._set_operation(node, scope)
        if isinstance(node, exp.Select):
            return self._select(node, scope)
        raise PgError(FEATURE_NOT_SUPPORTED, f"{node.key.upper()} is not supported in semantic queries")

    def _nested(self, scope: Scope) -> Callable[[exp.Query], PlannedQuery]:
        def plan(node: exp.Query) -> PlannedQuery:
            return self.query(node, Scope(parent=scope))

        return plan

    def _with_scope(self, node: exp.Expression, scope: Scope) -> tuple[exp.Expression, Scope]:
        with_ = node.args.get("with_")
        if with_ is None:
            return node, scope
        if with_.args.get("recursive"):
            raise PgError(FEATURE_NOT_SUPPORTED, "WITH RECURSIVE is not supported in semantic queries")
        inner = Scope(parent=scope)
        for cte in with_.expressions:
            name, _ = identifier_name(cte.args["alias"].this)
            if cte.args["alias"].columns:
                raise PgError(FEATURE_NOT_SUPPORTED, "column lists on CTEs are not supported")
            body = cte.this
            if not isinstance(body, exp.Query):
                raise PgError(FEATURE_NOT_SUPPORTED, "a CTE must be a SELECT")
            if cte.args.get("materialized") is not None:
                raise PgError(FEATURE_NOT_SUPPORTED, "[NOT] MATERIALIZED is not supported")
            inner.ctes[name] = _Cte(name, body)
        node = node.copy()
        node.set("with_", None)
        return node, inner

    def _attach_ctes(self, planned: PlannedQuery, scope: Scope, outer: Scope) -> PlannedQuery:
        """Put the CTEs this statement level defined (``scope`` is not ``outer``) and used on top."""
        if scope is outer or not scope.emitted:
            return planned
        ctes = [
            exp.CTE(this=cte.planned.tree, alias=exp.TableAlias(this=ident(cte.name)))  # type: ignore[union-attr]
            for cte in scope.emitted
        ]
        tree = planned.tree
        tree.set("with_", exp.With(expressions=ctes))
        return planned

    def _cte(self, owner: Scope, cte: _Cte) -> PlannedQuery:
        if cte.planned is None:
            if cte.planning:
                raise PgError(FEATURE_NOT_SUPPORTED, f'CTE "{cte.name}" refers to itself')
            cte.planning = True
            # A copy: planning changes the tree, and the body may still be merged elsewhere.
            cte.planned = self.query(cte.body.copy(), owner)
            owner.emitted.append(cte)
        return cte.planned

    # -------------------------------------------------------------------------- set operations

    def _set_operation(self, node: exp.SetOperation, scope: Scope) -> PlannedQuery:
        outer = scope
        node, scope = self._with_scope(node, scope)
        assert isinstance(node, exp.SetOperation)
        for operand in (node.this, node.expression):
            # sqlglot accepts "SELECT … LIMIT 1 UNION SELECT …"; PostgreSQL needs parentheses there.
            if isinstance(operand, exp.Query) and any(
                operand.args.get(k) for k in ("order", "limit", "offset")
            ):
                raise PgError(SYNTAX_ERROR, f'syntax error at or near "{node.key.upper()}"')
        left = self.query(node.this, scope)
        right = self.query(node.expression, scope)
        if len(left.columns) != len(right.columns):
            raise PgError(SYNTAX_ERROR, f"each {node.key.upper()} query must have the same number of columns")
        columns = [
            Column(lc.name, _unify(lc.oid, rc.oid))
            for lc, rc in zip(left.columns, right.columns, strict=True)
        ]
        result = node.__class__(
            this=_as_operand(left.tree),
            expression=_as_operand(right.tree),
            distinct=node.args.get("distinct"),
        )
        order = node.args.get("order")
        if order is not None:
            names = [c.name for c in columns]
            ordered = []
            for entry in order.expressions:
                target = entry.this
                if isinstance(target, exp.Literal) and not target.is_string:
                    position = select_position(target, "ORDER BY", len(names))
                    ref: exp.Expression = exp.Column(this=ident(names[position - 1]))
                elif isinstance(target, exp.Column) and not target.table:
                    name, _ = identifier_name(target.this)
                    if name not in names:
                        raise PgError(UNDEFINED_COLUMN, f'column "{name}" does not exist')
                    ref = exp.Column(this=ident(name))
                else:
                    raise PgError(FEATURE_NOT_SUPPORTED, "ORDER BY of a UNION must name output columns")
                ordered.append(
                    exp.Ordered(
                        this=ref, desc=entry.args.get("desc"), nulls_first=entry.args.get("nulls_first")
                    )
                )
            result.set("order", exp.Order(expressions=ordered))
        self._copy_limits(node, result)
        return self._attach_ctes(PlannedQuery(result, columns), scope, outer)

    def _type_count(self, value: exp.Expression) -> None:
        source = param_source(value)
        if source is not None:
            self.ctx.param_types.setdefault(source, oids.INT8)

    def _copy_limits(self, node: exp.Expression, result: exp.Expression) -> None:
        limit = node.args.get("limit")
        if limit is not None:
            value = limit.expression if isinstance(limit, exp.Limit) else limit.args.get("count")
            value = _count_expression(value, "LIMIT")
            if value is not None:
                self._type_count(value)
                result.set("limit", exp.Limit(expression=value))
        offset = node.args.get("offset")
        if offset is not None:
            value = _count_expression(offset.expression, "OFFSET")
            if value is not None:
                self._type_count(value)
                result.set("offset", exp.Offset(expression=value))

    # ------------------------------------------------------------------------------ selects

    def _select(self, node: exp.Select, scope: Scope) -> PlannedQuery:
        outer = scope
        node, scope = self._with_scope(node, scope)
        assert isinstance(node, exp.Select)
        if not node.expressions:
            # PostgreSQL answers a bare SELECT with a row of no columns; datasources reject it.
            raise PgError(FEATURE_NOT_SUPPORTED, "a SELECT without a select list is not supported")
        if node.args.get("from_") is None and any(
            isinstance(item.unalias(), exp.Star) for item in node.expressions
        ):
            raise PgError(SYNTAX_ERROR, "SELECT * with no tables specified is not valid")
        filtered = semi_joins_as_filters(node, lambda item: self._is_cube_table(item, scope))
        if filtered is not None:
            node = filtered
        items = self._from_items(node)
        tables = self._cube_tables(items, scope)
        if tables is not None:
            self._check_cube_joins(node, tables)
            previous = self.ctx.plan_nested
            self.ctx.plan_nested = self._nested(scope)
            try:
                planned = CubeQuery(self.ctx, node, tables).plan()
            finally:
                self.ctx.plan_nested = previous
            return self._attach_ctes(planned, scope, outer)
        merged = self._flatten(node, items, scope)
        if merged is not None:
            return self._attach_ctes(self._select(merged, scope), scope, outer)
        return self._attach_ctes(self._outer(node, items, scope), scope, outer)

    @staticmethod
    def _from_items(node: exp.Select) -> list[exp.Expression]:
        from_ = node.args.get("from_")
        items = [from_.this] if from_ is not None else []
        items += [join.this for join in node.args.get("joins") or []]
        for key in ("laterals", "pivots"):
            if node.args.get(key):
                raise PgError(FEATURE_NOT_SUPPORTED, f"{key.upper()} is not supported in semantic queries")
        return items

    def _relation(self, table: exp.Table) -> Relation | None:
        """The cube or view a table name means, None for names that are not in the model."""
        extra = [
            k for k, v in table.args.items() if v and k not in ("this", "db", "catalog", "alias", "only")
        ]
        if extra:
            raise PgError(FEATURE_NOT_SUPPORTED, f"{extra[0].upper()} is not supported on a cube")
        schema = table.args.get("db")
        if schema is not None:
            schema_name, _ = identifier_name(schema)
            if schema_name in CATALOG_SCHEMAS:
                raise PgError(
                    FEATURE_NOT_SUPPORTED,
                    "catalog tables cannot be combined with cubes in one statement",
                )
            if schema_name != "public":
                raise PgError(UNDEFINED_TABLE, f'relation "{table.sql("postgres")}" does not exist')
        identifier = table.this
        if not isinstance(identifier, exp.Identifier):
            raise PgError(FEATURE_NOT_SUPPORTED, f"{table.sql('postgres')} is not supported in FROM")
        return self.ctx.model.relation(identifier.name, quoted=bool(identifier.args.get("quoted")))

    def _cube_tables(self, items: list[exp.Expression], scope: Scope) -> list[TableInstance] | None:
        """The cubes/view of a cube query; None when the FROM list has anything else."""
        if not items:
            return None
        tables: list[TableInstance] = []
        for item in items:
            if not isinstance(item, exp.Table) or (item.args.get("db") is None and self._is_cte(item, scope)):
                return None
            relation = self._relation(item)
            if relation is None:
                return None
            alias = item.args.get("alias")
            if alias is not None and alias.columns:
                raise PgError(FEATURE_NOT_SUPPORTED, "column aliases on cubes are not supported")
            if alias is not None and alias.this is not None:
                name, quoted = identifier_name(alias.this)
            else:
                name, quoted = relation.name, False
            if any(t.relation is relation for t in tables):
                raise PgError(
                    FEATURE_NOT_SUPPORTED, f"{relation.label} is used twice; self-joins are not supported"
                )
            tables.append(TableInstance(relation, name, quoted))
        if len(tables) > 1 and any(t.relation.is_view for t in tables):
            raise PgError(
                FEATURE_NOT_SUPPORTED, "a view cannot be joined with other cubes or views; query it alone"
            )
        return tables

    def _is_cube_table(self, item: exp.Expression, scope: Scope) -> bool:
        if not isinstance(item, exp.Table) or not isinstance(item.this, exp.Identifier):
            return False
        if item.args.get("db") is None and self._is_cte(item, scope):
            return False
        try:
            return self._relation(item) is not None
        except PgError:
            return False

    @staticmethod
    def _is_cte(table: exp.Table, scope: Scope) -> bool:
        identifier = table.this
        if not isinstance(identifier, exp.Identifier):
            return False
        return scope.find(identifier.name, bool(identifier.args.get("quoted"))) is not None

    def _check_cube_joins(self, node: exp.Select, tables: list[TableInstance]) -> None:
        for join in node.args.get("joins") or []:
            if join.args.get("using"):
                raise PgError(FEATURE_NOT_SUPPORTED, "JOIN … USING between cubes is not supported")
            if join.args.get("method"):
                raise PgError(FEATURE_NOT_SUPPORTED, f"{join.args['method']} JOIN is not supported")
            kind = (join.args.get("kind") or "").upper()
            on = join.args.get("on")
            if kind == "CROSS" or on is None:
                if kind not in ("", "CROSS", "INNER"):
                    raise PgError(FEATURE_NOT_SUPPORTED, f"{kind} JOIN between cubes is not supported")
                continue
            if not _is_join_field_condition(on):
                raise PgError(
                    FEATURE_NOT_SUPPORTED,
                    "cubes can only be joined with CROSS JOIN or ON a.__cubeJoinField = b.__cubeJoinField",
                    hint="the join itself follows the joins declared in the model",
                )

    # ------------------------------------------------------------------------- flattening

    def _flatten(self, node: exp.Select, items: list[exp.Expression], scope: Scope) -> exp.Select | None:
        """Merge ``SELECT … FROM (SELECT members FROM cube WHERE …) q`` into one cube query."""
        if len(items) != 1 or node.args.get("joins"):
            return None
        item = items[0]
        alias_node = item.args.get("alias")
        if isinstance(item, exp.Subquery):
            inner = item.this
        elif isinstance(item, exp.Table) and item.args.get("db") is None and self._is_cte(item, scope):
            found = scope.find(item.this.name, bool(item.this.args.get("quoted")))
            assert found is not None
            inner = found[1].body
        else:
            return None
        if alias_node is not None and alias_node.columns:
            return None
        if not isinstance(inner, exp.Select) or not self._simple_projection(inner, scope):
            return None
        self._record_inner(inner, scope)
        outputs: dict[str, exp.Expression] = {}
        star = False
        for expression in inner.expressions:
            if isinstance(expression, exp.Star) or (
                isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star)
            ):
                star = True
                continue
            if isinstance(expression, exp.Alias):
                outputs[identifier_name(expression.args["alias"])[0]] = expression.this
            elif isinstance(expression, exp.Column):
                outputs[expression.name] = expression
        alias = identifier_name(alias_node.this)[0] if alias_node is not None and alias_node.this else None

        def resolve(column: exp.Column) -> exp.Expression | None:
            if column.table and (alias is None or identifier_name(column.args["table"])[0] != alias):
                return None
            name, quoted = identifier_name(column.this)
            for key, value in outputs.items():
                if key == name or (not quoted and key.lower() == column.name.lower()):
                    return value.copy()
            if star:
                return exp.Column(this=column.this.copy())
            return None

        merged = node.copy()
        # Keep the outer names: ``SELECT s FROM (SELECT status AS s …)`` still returns a column "s".
        merged.set(
            "expressions",
            [
                exp.Alias(this=e, alias=exp.Identifier(this=identifier_name(e.this)[0], quoted=True))
                if isinstance(e, exp.Column) and not isinstance(e.this, exp.Star)
                else e
                for e in merged.expressions
            ],
        )
        for column in list(merged.find_all(exp.Column)):
            if (
                column.find_ancestor(exp.Subquery, exp.Select) is not merged
                and column.find_ancestor(exp.Select) is not merged
            ):
                continue
            if isinstance(column.this, exp.Star):
                continue
            if _is_output_alias(column, merged):
                continue
            replacement = resolve(column)
            if replacement is None:
                raise PgError(UNDEFINED_COLUMN, f'column "{column.sql("postgres")}" does not exist')
            column.replace(replacement)
        expressions: list[exp.Expression] = []
        for expression in merged.expressions:
            if isinstance(expression, exp.Star) or (
                isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star)
            ):
                expressions.extend(e.copy() for e in inner.expressions)
            else:
                expressions.append(expression)
        merged.set("expressions", expressions)
        merged.set("from_", inner.args["from_"].copy())
        merged.set("joins", [j.copy() for j in inner.args.get("joins") or []])
        inner_where = inner.args.get("where")
        if inner_where is not None:
            outer_where = merged.args.get("where")
            condition = inner_where.this.copy()
            if outer_where is not None:
                condition = exp.and_(exp.Paren(this=condition), exp.Paren(this=outer_where.this))
            merged.set("where", exp.Where(this=condition))
        return merged

    def _record_inner(self, inner: exp.Select, scope: Scope) -> None:
        """Every member the merged subquery names is touched, even those the outer query drops."""
        tables = self._cube_tables(self._from_items(inner), scope)
        assert tables is not None
        previous = self.ctx.plan_nested
        self.ctx.plan_nested = self._nested(scope)
        try:
            CubeQuery(self.ctx, inner.copy(), tables).record_members()
        finally:
            self.ctx.plan_nested = previous

    def _simple_projection(self, inner: exp.Select, scope: Scope) -> bool:
        if inner.args.get("with_") or inner.args.get("distinct") or inner.args.get("group"):
            return False
        if inner.args.get("having") or inner.args.get("limit") or inner.args.get("offset"):
            return False
        if self._cube_tables(self._from_items(inner), scope) is None:
            return False
        for expression in inner.expressions:
            target = expression.this if isinstance(expression, exp.Alias) else expression
            if not isinstance(target, exp.Column | exp.Star):
                return False
        return not any(
            isinstance(n, exp.AggFunc | exp.Window)
            or (isinstance(n, exp.Anonymous) and str(n.name).lower() == MEASURE_FUNCTION)
            for n in inner.walk()
        )

    # --------------------------------------------------------------------------- outer SQL

    def _outer(self, node: exp.Select, items: list[exp.Expression], scope: Scope) -> PlannedQuery:
        """SQL around planned subqueries/CTEs, regenerated after checking every part of it."""
        unsupported = [k for k, v in node.args.items() if v and k not in SUPPORTED_SELECT_CLAUSES]
        if unsupported:
            raise PgError(
                FEATURE_NOT_SUPPORTED, f"{unsupported[0].upper()} is not supported in semantic queries"
            )
        sources: list[_Source] = []
        for index, item in enumerate(items):
            sources.append(self._source(item, scope, index))
        result = node.copy()
        for key in ("from_", "joins"):
            result.set(key, None)
        if sources:
            result.set("from_", exp.From(this=sources[0].sql))
            joins = []
            for join, source in zip(node.args.get("joins") or [], sources[1:], strict=True):
                new_join = join.copy()
                new_join.set("this", source.sql)
                if join.args.get("using"):
                    raise PgError(FEATURE_NOT_SUPPORTED, "JOIN … USING is not supported; use ON")
                on = new_join.args.get("on")
                if on is not None:
                    if any(c.name.lower() == JOIN_FIELD_COLUMN.lower() for c in on.find_all(exp.Column)):
                        raise PgError(
                            FEATURE_NOT_SUPPORTED,
                            "__cubeJoinField joins of subqueries are not supported; join the cubes directly",
                        )
                    new_join.set("on", self._expression(on, sources, scope, outputs=None))
                joins.append(new_join)
            result.set("joins", joins)

        # select list (stars expanded, every item aliased with its output name)
        expressions: list[exp.Expression] = []
        names: list[str] = []
        for expression in node.expressions:
            if isinstance(expression, exp.Star) or (
                isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star)
            ):
                qualifier = expression.table if isinstance(expression, exp.Column) else ""
                chosen = [
                    s for s in sources if not qualifier or _alias_matches(s.alias, expression.args["table"])
                ]
                if qualifier and not chosen:
                    raise PgError(UNDEFINED_TABLE, f'missing FROM-clause entry for table "{qualifier}"')
                if not sources:
                    raise PgError(SYNTAX_ERROR, "SELECT * with no tables specified is not valid")
                for source in chosen:
                    for column in source.columns:
                        names.append(column.name)
                        expressions.append(
                            exp.Alias(
                                this=exp.Column(this=ident(column.name), table=ident(source.alias)),
                                alias=ident(column.name),
                            )
                        )
                continue
            if isinstance(expression, exp.Alias):
                name = identifier_name(expression.args["alias"])[0]
                target = expression.this
            else:
                target = expression
                name = target.name if isinstance(target, exp.Column) else default_column_name(target)
            names.append(name)
            expressions.append(
                exp.Alias(this=self._expression(target, sources, scope, outputs=None), alias=ident(name))
            )
        result.set("expressions", expressions)
        outputs = {n: i for i, n in enumerate(names)}
        where = node.args.get("where")
        if where is not None:
            result.set("where", exp.Where(this=self._expression(where.this, sources, scope, outputs=None)))
        group = node.args.get("group")
        if group is not None:
            result.set(
                "group",
                exp.Group(
                    expressions=[
                        self._group_item(g, sources, scope, names, expressions) for g in group.expressions
                    ]
                ),
            )
        having = node.args.get("having")
        if having is not None:
            result.set("having", exp.Having(this=self._expression(having.this, sources, scope, outputs=None)))
        order = node.args.get("order")
        if order is not None:
            result.set(
                "order",
                exp.Order(
                    expressions=[
                        self._order_item(o, sources, scope, names, outputs) for o in order.expressions
                    ]
                ),
            )
        result.set("limit", None)
        result.set("offset", None)
        self._copy_limits(node, result)
        distinct = node.args.get("distinct")
        if distinct is not None and distinct.args.get("on") is not None:
            raise PgError(FEATURE_NOT_SUPPORTED, "DISTINCT ON is not supported")
        columns = self._type_outer(result, sources, names)
        return PlannedQuery(result, columns)

    def _source(self, item: exp.Expression, scope: Scope, index: int) -> _Source:
        alias_node = item.args.get("alias")
        if alias_node is not None and alias_node.columns:
            raise PgError(FEATURE_NOT_SUPPORTED, "column aliases in FROM are not supported")
        alias = identifier_name(alias_node.this)[0] if alias_node is not None and alias_node.this else None
        if isinstance(item, exp.Table):
            identifier = item.this
            quoted = isinstance(identifier, exp.Identifier) and bool(identifier.args.get("quoted"))
            found = scope.find(item.name, quoted) if item.args.get("db") is None else None
            if found is not None:
                owner, cte = found
                planned = self._cte(owner, cte)
                name = alias or cte.name
                table = exp.Table(this=ident(cte.name), alias=exp.TableAlias(this=ident(name)))
                return _Source(name, planned.columns, table)
            relation = self._relation(item)
            if relation is not None:
                raise PgError(
                    FEATURE_NOT_SUPPORTED,
                    f"{relation.label} cannot be joined with subqueries or CTEs; query it in its own SELECT",
                    hint=f"(SELECT … FROM {relation.name} …) AS q",
                )
            raise PgError(UNDEFINED_TABLE, f'relation "{item.sql("postgres")}" does not exist')
        if isinstance(item, exp.Subquery):
            planned = self.query(item.this, Scope(parent=scope))
            name = alias or f"subquery_{index}"
            return _Source(
                name, planned.columns, exp.Subquery(this=planned.tree, alias=exp.TableAlias(this=ident(name)))
            )
        raise PgError(
            FEATURE_NOT_SUPPORTED, f"{item.key.upper()} is not supported in FROM of a semantic query"
        )

    def _resolve(self, column: exp.Column, sources: list[_Source]) -> exp.Expression:
        name, quoted = identifier_name(column.this)
        raw = column.name
        if name == USER_COLUMN or (not quoted and name == USER_COLUMN.lower()):
            # The column of a subquery's SELECT *: refused here too, as on the cube itself.
            raise PgError(
                INSUFFICIENT_PRIVILEGE,
                "switching the security context with __user is not allowed",
                hint="__user is always NULL; leave it out of the query",
            )
        if column.args.get("db") is not None:
            raise PgError(
                FEATURE_NOT_SUPPORTED, f"column reference {column.sql('postgres')} is not supported"
            )
        candidates = sources
        if column.table:
            candidates = [s for s in sources if _alias_matches(s.alias, column.args["table"])]
            if not candidates:
                raise PgError(UNDEFINED_TABLE, f'missing FROM-clause entry for table "{column.table}"')
        matches: list[tuple[_Source, Column]] = []
        for source in candidates:
            exact = [c for c in source.columns if c.name == (raw if quoted else name)]
            folded = [c for c in source.columns if not quoted and c.name.lower() == raw.lower()]
            chosen = exact or (folded if len(folded) == 1 else [])
            if len(exact) > 1:
                raise PgError(AMBIGUOUS_COLUMN, f'column reference "{raw}" is ambiguous')
            if chosen:
                matches.append((source, chosen[0]))
        if not matches:
            raise PgError(UNDEFINED_COLUMN, f'column "{column.sql("postgres")}" does not exist')
        if len(matches) > 1:
            raise PgError(AMBIGUOUS_COLUMN, f'column reference "{raw}" is ambiguous')
        source, found = matches[0]
        return exp.Column(this=ident(found.name), table=ident(source.alias))

    def _expression(
        self,
        node: exp.Expression,
        sources: list[_Source],
        scope: Scope,
        outputs: dict[str, int] | None,
    ) -> exp.Expression:
        """A checked copy of an outer expression with columns resolved and subqueries planned."""
        node = node.copy()
        return self._rewrite(node, sources, scope)

    def _rewrite(self, node: exp.Expression, sources: list[_Source], scope: Scope) -> exp.Expression:
        if isinstance(node, exp.Column):
            if isinstance(node.this, exp.Star):
                raise PgError(FEATURE_NOT_SUPPORTED, "* can only be used as SELECT * or COUNT(*)")
            return self._resolve(node, sources)
        if isinstance(node, exp.Query):
            return nested_query(node, lambda q: self.query(q, Scope(parent=scope)))
        if isinstance(node, exp.Anonymous) and str(node.name).lower() == MEASURE_FUNCTION:
            raise PgError(
                FEATURE_NOT_SUPPORTED,
                "MEASURE() can only be used in a SELECT whose FROM is a cube or view",
            )
        functions.check_node(node)
        if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
            return node
        for child in list(node.iter_expressions()):
            rewritten = self._rewrite(child, sources, scope)
            if rewritten is not child:
                child.replace(rewritten)
        return node

    def _group_item(
        self,
        entry: exp.Expression,
        sources: list[_Source],
        scope: Scope,
        names: list[str],
        expressions: list[exp.Expression],
    ) -> exp.Expression:
        # Output columns are grouped by position: the same expression written twice would carry two
        # different placeholders for its lifted literals, which the datasource sees as different.
        if isinstance(entry, exp.Literal) and not entry.is_string:
            position = select_position(entry, "GROUP BY", len(expressions))
            return exp.Literal.number(position)
        if isinstance(entry, exp.Column) and not entry.table:
            try:
                return self._resolve(entry, sources)
            except PgError:
                name = identifier_name(entry.this)[0]
                if name in names:
                    return exp.Literal.number(names.index(name) + 1)
                raise
        return self._expression(entry, sources, scope, outputs=None)

    def _order_item(
        self,
        entry: exp.Expression,
        sources: list[_Source],
        scope: Scope,
        names: list[str],
        outputs: dict[str, int],
    ) -> exp.Ordered:
        if not isinstance(entry, exp.Ordered):
            entry = exp.Ordered(this=entry, nulls_first=False)
        target = entry.this
        unique = {n for n in names if names.count(n) == 1}
        ref: exp.Expression
        if isinstance(target, exp.Literal) and not target.is_string:
            position = select_position(target, "ORDER BY", len(names))
            name = names[position - 1]
            ref = exp.Column(this=ident(name)) if name in unique else exp.Literal.number(position)
        elif (
            isinstance(target, exp.Column) and not target.table and identifier_name(target.this)[0] in unique
        ):
            ref = exp.Column(this=ident(identifier_name(target.this)[0]))
        else:
            ref = self._expression(target, sources, scope, outputs=outputs)
        return exp.Ordered(this=ref, desc=entry.args.get("desc"), nulls_first=entry.args.get("nulls_first"))

    def _type_outer(self, result: exp.Select, sources: list[_Source], names: list[str]) -> list[Column]:
        """Output types (and parameter types) of an outer select, from sqlglot's type annotation."""
        schema: dict[str, dict[str, str]] = {}
        tables: list[exp.Table] = []
        for index, source in enumerate(sources):
            table_name = f"__sgs{index}"
            schema[table_name] = {c.name: sqlglot_type_name(c.oid) for c in source.columns} or {"x": "TEXT"}
            tables.append(
                exp.Table(
                    this=exp.Identifier(this=table_name), alias=exp.TableAlias(this=ident(source.alias))
                )
            )
        mapping = MappingSchema(schema, dialect="postgres", normalize=False)

        def annotate(expressions: list[exp.Expression]) -> list[exp.Expression]:
            stub = exp.select(*expressions)
            if tables:
                stub = stub.from_(tables[0].copy())
                for table in tables[1:]:
                    stub = stub.join(table.copy(), join_type="cross")
            for query in list(_nested_queries(stub)):
                query.replace(exp.Cast(this=exp.Null(), to=data_type(oids.TEXT)))
            annotate_types(stub, schema=mapping, dialect="postgres")
            return list(stub.expressions)

        typed = annotate([e.copy() for e in result.expressions])
        for annotated, original in zip(typed, result.expressions, strict=True):
            dialects.mark_integer_divisions(annotated, original)
        type_parameters(
            [result], lambda operand: _oid_of(annotate([operand.copy()])[0]), self.ctx.param_types
        )
        return [Column(name, _oid_of(t)) for name, t in zip(names, typed, strict=True)]


def _nested_queries(tree: exp.Expression) -> Iterator[exp.Expression]:
    for node in tree.find_all(exp.Subquery, exp.Select):
        if node is tree:
            continue
        parent = node.parent
        if isinstance(node, exp.Select) and isinstance(parent, exp.Subquery):
            continue
        if isinstance(node, exp.Subquery) and isinstance(parent, exp.From | exp.Join):
            continue
        yield node


def _alias_matches(alias: str, identifier: exp.Identifier | str) -> bool:
    if isinstance(identifier, str):
        return alias.lower() == identifier.lower()
    _, quoted = identifier_name(identifier)
    return alias == identifier.name if quoted else alias.lower() == identifier.name.lower()


def _is_output_alias(column: exp.Column, select: exp.Select) -> bool:
    """A bare name in ORDER BY/GROUP BY that names an output column (kept as is when flattening)."""
    if column.table:
        return False
    clause = column.find_ancestor(exp.Order, exp.Group)
    if clause is None or clause.parent is not select:
        return False
    name = identifier_name(column.this)[0]
    return any(
        isinstance(e, exp.Alias) and identifier_name(e.args["alias"])[0] == name for e in select.expressions
    )


def _is_join_field_condition(on: exp.Expression) -> bool:
    if isinstance(on, exp.Paren):
        return _is_join_field_condition(on.this)
    if isinstance(on, exp.And):
        return _is_join_field_condition(on.this) and _is_join_field_condition(on.expression)
    if isinstance(on, exp.EQ):
        sides = (on.this, on.expression)
        return all(isinstance(s, exp.Column) and s.name.lower() == JOIN_FIELD_COLUMN.lower() for s in sides)
    return False


def _as_operand(tree: exp.Expression) -> exp.Expression:
    if isinstance(tree, exp.Select) and (
        tree.args.get("order") or tree.args.get("limit") or tree.args.get("with_")
    ):
        return exp.Subquery(this=tree)
    return tree


def _unify(left: int, right: int) -> int:
    if left == right:
        return left
    numeric = {oids.INT2, oids.INT4, oids.INT8, oids.NUMERIC, oids.FLOAT4, oids.FLOAT8}
    if left in numeric and right in numeric:
        if oids.FLOAT8 in (left, right) or oids.FLOAT4 in (left, right):
            return oids.FLOAT8
        if oids.NUMERIC in (left, right):
            return oids.NUMERIC
        return oids.INT8
    if {left, right} <= {oids.TIMESTAMP, oids.DATE}:
        return oids.TIMESTAMP
    return oids.TEXT
