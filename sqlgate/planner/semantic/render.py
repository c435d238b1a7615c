"""Member SQL expanded for one query: the join tree of cubes and the SQL of every member in it.

A :class:`JoinTree` places each cube the query reads at a node (its path from the root cube) with a
generated table alias. The :class:`Renderer` turns members into sqlglot expressions over those
aliases — dimensions and segments as row-level expressions, measures as aggregates (or, in ungrouped
queries, as their value for one row) — expanding ``{CUBE}``/``{member}``/``{Cube.member}`` references
recursively and recording every member it expands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from sqlgate.errors import FEATURE_NOT_SUPPORTED, PgError
from sqlgate.planner.semantic import dialects
from sqlgate.planner.semantic.members import MemberRecorder
from sqlgate.semantic.definitions import CALCULATED_MEASURES, Cube, Join, Member, Relation, View
from sqlgate.semantic.model import CompiledModel
from sqlgate.semantic.sqlparse import ParsedTemplate, parse_template, substitute
from sqlgate.semantic.template import MemberRef, SqlTemplate, TableRef, TemplateError

MODEL_ERROR = "F0000"  # config_file_error: the model cannot be turned into SQL for this datasource


def model_error(member: Member | Relation | Join | None, message: str) -> PgError:
    """A PgError about a model problem found while planning, naming the file and member."""
    where: list[str] = []
    if isinstance(member, Member):
        where = [member.file, f"{'view' if member.origin else 'cube'} '{member.owner}'", member.label]
    elif isinstance(member, Relation):
        where = [member.file, member.label]
    elif isinstance(member, Join):
        where = [member.file, f"cube '{member.source}'", f"join '{member.target}'"]
    prefix = ": ".join(w for w in where if w)
    return PgError(MODEL_ERROR, f"model error: {prefix}: {message}" if prefix else f"model error: {message}")


def ident(name: str) -> exp.Identifier:
    """A quoted identifier (generated names are always quoted)."""
    return exp.Identifier(this=name, quoted=True)


@dataclass(eq=False)
class Node:
    """One cube in the join tree."""

    cube: Cube
    path: tuple[str, ...]
    alias: str
    parent: Node | None = None
    join: Join | None = None  # the join from ``parent`` (declared on the parent's cube)
    children: list[Node] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<node {'.'.join(self.path)} as {self.alias}>"


class JoinTree:
    """The cubes a query reads, as a tree rooted at the first cube of the query (or of the view)."""

    def __init__(self, root: Cube) -> None:
        self.root = Node(root, (root.name,), root.name)
        self.nodes: dict[tuple[str, ...], Node] = {self.root.path: self.root}
        self._aliases = {root.name.lower()}

    def add_path(self, model: CompiledModel, path: Sequence[str]) -> Node:
        """Make sure the nodes along ``path`` (cube names from the root) exist; the last one."""
        if tuple(path[:1]) != self.root.path:
            raise ValueError(f"path {path} does not start at {self.root.path}")
        node = self.root
        for depth in range(1, len(path)):
            key = tuple(path[: depth + 1])
            child = self.nodes.get(key)
            if child is None:
                join = node.cube.joins.get(path[depth])
                if join is None:
                    raise PgError(
                        FEATURE_NOT_SUPPORTED,
                        f"cube '{node.cube.name}' has no join to '{path[depth]}'",
                    )
                child = Node(model.cube(path[depth]), key, self._alias_for(path[depth]), node, join)
                node.children.append(child)
                self.nodes[key] = child
            node = child
        return node

    def add_joins(self, model: CompiledModel, start: Node, joins: Iterable[Join]) -> None:
        """Add a chain of joins starting at ``start``'s cube."""
        node = start
        for join in joins:
            node = self.add_path(model, (*node.path, join.target))

    def _alias_for(self, cube: str) -> str:
        alias = cube
        counter = 1
        while alias.lower() in self._aliases:
            counter += 1
            alias = f"{cube}_{counter}"
        self._aliases.add(alias.lower())
        return alias

    def by_cube(self, cube: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.cube.name == cube]

    def ordered(self) -> list[Node]:
        """Nodes parents-first (the order of the FROM/JOIN list)."""
        result: list[Node] = []
        stack = [self.root]
        while stack:
            node = stack.pop(0)
            result.append(node)
            stack[0:0] = node.children
        return result

    def multiplied(self) -> set[tuple[str, ...]]:
        """Paths of the nodes whose rows the joins repeat (one-to-many fan-out from their side)."""
        result: set[tuple[str, ...]] = set()
        all_paths = set(self.nodes)
        for node in self.nodes.values():
            if node.join is None:
                continue
            subtree = {p for p in all_paths if p[: len(node.path)] == node.path}
            if node.join.multiplies_source:  # parent has many of node: the parent side repeats
                result |= all_paths - subtree
            elif node.join.multiplies_target:  # many parents per node: the node side repeats
                result |= subtree
        return result


def is_aggregate(node: exp.Expression) -> bool:
    return isinstance(node, exp.AggFunc)


def contains_aggregate(tree: exp.Expression) -> bool:
    """Whether ``tree`` has an aggregate call outside nested queries."""
    for node in tree.walk(prune=lambda n: isinstance(n, exp.Query) and n is not tree):
        if isinstance(node, exp.AggFunc):
            return True
    return False


class Renderer:
    """Expands members into SQL expressions for one join tree and dialect."""

    def __init__(
        self,
        model: CompiledModel,
        dialect: str,
        tree: JoinTree,
        recorder: MemberRecorder,
        view: View | None = None,
    ) -> None:
        self.model = model
        self.dialect = dialect
        self.tree = tree
        self.recorder = recorder
        self.view = view
        self._dims: dict[tuple[tuple[str, ...], str], exp.Expression] = {}
        self._stack: list[str] = []

    # ------------------------------------------------------------------ templates and references

    def parse(
        self, template: SqlTemplate, member: Member | Relation | Join, statement: bool = False
    ) -> ParsedTemplate:
        try:
            return parse_template(template, self.dialect, statement)
        except TemplateError as exc:
            raise model_error(member, str(exc)) from None

    def node_for(self, cube: str, near: Node | None) -> Node:
        """The node of ``cube`` a reference from ``near`` means (a child first, then the only one)."""
        if near is not None:
            if near.cube.name == cube:
                return near
            for child in near.children:
                if child.cube.name == cube:
                    return child
            if near.parent is not None and near.parent.cube.name == cube:
                return near.parent
        nodes = self.tree.by_cube(cube)
        if len(nodes) == 1:
            return nodes[0]
        if not nodes:
            raise PgError(FEATURE_NOT_SUPPORTED, f"cube '{cube}' is not part of this query's joins")
        raise PgError(
            FEATURE_NOT_SUPPORTED, f"cube '{cube}' is joined more than once; the reference is ambiguous"
        )

    def expand(
        self,
        template: SqlTemplate,
        node: Node,
        owner: Member | Relation | Join,
        member_expr: Callable[[Node, Member], exp.Expression] | None = None,
        qualify: bool = True,
    ) -> exp.Expression:
        """``template`` with references replaced, seen from ``node``."""
        parsed = self.parse(template, owner)

        def table(ref: TableRef) -> exp.Identifier:
            return ident(self.node_for(ref.cube, node).alias)

        def member(ref: MemberRef) -> exp.Expression:
            target_node = self.node_for(ref.cube, node)
            target = target_node.cube.get(ref.member)
            if target is None:  # the compiler checked references; keep a clear error anyway
                raise model_error(
                    owner if isinstance(owner, Member) else None, f"unknown member {ref.cube}.{ref.member}"
                )
            self.recorder.add(f"{target.owner}.{target.name}", "dependency")
            if member_expr is not None and target.kind == "measure":
                return member_expr(target_node, target)
            if target.kind == "measure":
                raise model_error(
                    owner if isinstance(owner, Member) else None,
                    f"measure {{{ref.cube}.{ref.member}}} cannot be used here",
                )
            return self.dimension(target_node, target)

        try:
            return substitute(
                parsed, table=table, member=member, default_table=ident(node.alias) if qualify else None
            )
        except TemplateError as exc:
            raise model_error(owner if isinstance(owner, Member | Join) else None, str(exc)) from None

    # --------------------------------------------------------------------------- row-level members

    def dimension(self, node: Node, member: Member) -> exp.Expression:
        """A dimension's (or segment's) row-level expression at ``node`` (a fresh copy)."""
        key = (node.path, member.name)
        cached = self._dims.get(key)
        if cached is None:
            label = f"{member.owner}.{member.name}"
            if label in self._stack:
                raise model_error(member, "circular reference")
            self._stack.append(label)
            try:
                if member.case is not None:
                    cached = self._case(node, member)
                else:
                    assert member.sql is not None
                    cached = self.expand(member.sql, node, member)
            finally:
                self._stack.pop()
            self._dims[key] = cached
        return cached.copy()

    def _case(self, node: Node, member: Member) -> exp.Expression:
        assert member.case is not None
        case = exp.Case()
        for when in member.case.whens:
            label = (
                self.expand(when.label, node, member)
                if isinstance(when.label, SqlTemplate)
                else exp.Literal.string(when.label)
            )
            case = case.when(self.expand(when.sql, node, member), label)
        otherwise = member.case.else_label
        if otherwise is not None:
            case = case.else_(
                self.expand(otherwise, node, member)
                if isinstance(otherwise, SqlTemplate)
                else exp.Literal.string(otherwise)
            )
        return case

    def primary_key(self, node: Node) -> list[exp.Expression]:
        return [self.dimension(node, pk) for pk in node.cube.primary_keys]

    def join_condition(self, node: Node) -> exp.Expression:
        """The ON condition joining ``node`` to its parent."""
        assert node.join is not None and node.parent is not None
        join = node.join
        for ref in join.sql.member_refs:
            self.recorder.add(f"{ref.cube}.{ref.member}", "join")
        return self.expand(join.sql, node.parent, join)

    def from_items(self) -> tuple[exp.Expression, list[exp.Join]]:
        """The FROM item (root) and LEFT JOINs of the other nodes, parents first."""
        nodes = self.tree.ordered()
        first = self.relation_source(nodes[0])
        joins = [
            exp.Join(this=self.relation_source(node), on=self.join_condition(node), side="LEFT")
            for node in nodes[1:]
        ]
        return first, joins

    def relation_source(self, node: Node) -> exp.Expression:
        cube = node.cube
        self.recorder.cubes.add(cube.name)
        alias = exp.TableAlias(this=ident(node.alias))
        if cube.sql_table is not None:
            try:
                table = exp.to_table(cube.sql_table, dialect=self.dialect)
            except Exception as exc:  # sqlglot raises several error types for bad names
                raise model_error(cube, f"invalid sql_table {cube.sql_table!r}: {exc}") from None
            table.set("alias", alias)
            return table
        assert cube.sql is not None
        parsed = self.parse(cube.sql, cube, statement=True)
        query = substitute(
            parsed,
            table=lambda ref: ident(self.node_for(ref.cube, node).alias),
            member=lambda ref: exp.Null(),
            default_table=None,
        )
        return exp.Subquery(this=query, alias=alias)

    # ------------------------------------------------------------------------------------ measures

    def measure_kind(self, node: Node, member: Member) -> str:
        """``"leaf"`` (one aggregate over the cube's rows), ``"composite"`` (over other measures only)
        or ``"mixed"`` (measures and row data: computable only in one query over the joined rows)."""
        if member.type not in CALCULATED_MEASURES:
            return "leaf"
        assert member.sql is not None
        refs = [r for r in member.sql.member_refs if self._is_measure(r)]
        if not refs:
            return "leaf"
        parsed = self.parse(member.sql, member)
        columns = [
            c for c in parsed.tree.find_all(exp.Column) if not (c.name.startswith("__sgref_") and not c.table)
        ]
        if contains_aggregate(parsed.tree) or columns:
            return "mixed"
        return "composite"

    def _is_measure(self, ref: MemberRef) -> bool:
        target = self.model.cube(ref.cube).get(ref.member)
        return target is not None and target.kind == "measure"

    def measure(
        self, node: Node, member: Member, leaf: Callable[[Node, Member], exp.Expression]
    ) -> exp.Expression:
        """A measure's aggregated expression; ``leaf`` renders the aggregates it is built from."""
        kind = self.measure_kind(node, member)
        if kind == "leaf":
            return leaf(node, member)
        label = f"{member.owner}.{member.name}"
        if label in self._stack:
            raise model_error(member, "circular reference")
        self._stack.append(label)
        try:
            assert member.sql is not None
            return self.expand(member.sql, node, member, member_expr=lambda n, m: self.measure(n, m, leaf))
        finally:
            self._stack.pop()

    def leaf_aggregate(self, node: Node, member: Member) -> exp.Expression:
        """The aggregate a leaf measure computes over the rows of its cube."""
        kind = member.type
        condition = self._filter_condition(node, member)
        if kind == "count":
            if member.sql is not None:
                argument: exp.Expression | None = self.expand(member.sql, node, member)
            else:
                keys = self.primary_key(node)
                argument = keys[0] if keys else None
            if condition is not None:
                inner = argument if argument is not None else exp.Literal.number(1)
                return exp.Count(this=exp.Case().when(condition, inner))
            if argument is None:
                if node.parent is not None:
                    raise model_error(
                        member, f"cube '{node.cube.name}' needs a primary_key to be counted when joined"
                    )
                return exp.Count(this=exp.Star())
            return exp.Count(this=argument)
        if kind in CALCULATED_MEASURES:
            assert member.sql is not None
            rendered = self.expand(
                member.sql, node, member, member_expr=lambda n, m: self.measure(n, m, self.leaf_aggregate)
            )
            if not contains_aggregate(rendered):
                raise model_error(
                    member,
                    f"a measure of type '{kind}' must aggregate (e.g. SUM(…)) or reference other measures",
                )
            return rendered
        assert member.sql is not None
        argument = self.expand(member.sql, node, member)
        if condition is not None:
            argument = exp.Case().when(condition, argument)
        if kind == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[argument]))
        if kind == "count_distinct_approx":
            return dialects.approx_distinct(self.dialect, argument)
        function = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[kind]
        return function(this=argument)

    def _filter_condition(self, node: Node, member: Member) -> exp.Expression | None:
        conditions = [self.expand(f, node, member) for f in member.filters]
        if not conditions:
            return None
        return exp.and_(*[exp.Paren(this=c) for c in conditions]) if len(conditions) > 1 else conditions[0]

    def measure_row(self, node: Node, member: Member) -> exp.Expression:
        """A measure's value for one row of an ungrouped query (the aggregate over that row alone).

        Raises :class:`NeedsGrouping` when the measure's SQL is itself an aggregate.
        """
        kind = member.type
        if kind in CALCULATED_MEASURES:
            if self.measure_kind(node, member) != "composite":
                raise NeedsGrouping(member)
            assert member.sql is not None
            return self.expand(member.sql, node, member, member_expr=self.measure_row)
        condition = self._filter_condition(node, member)
        if kind in ("count", "count_distinct", "count_distinct_approx"):
            if member.sql is not None:
                argument: exp.Expression | None = self.expand(member.sql, node, member)
            else:
                keys = self.primary_key(node)
                argument = keys[0] if keys else None
            checks: list[exp.Expression] = []
            if condition is not None:
                checks.append(exp.Paren(this=condition))
            if argument is not None:
                checks.append(exp.Not(this=exp.Is(this=argument, expression=exp.Null())))
            if not checks:
                if node.parent is not None:
                    raise model_error(
                        member, f"cube '{node.cube.name}' needs a primary_key to be counted when joined"
                    )
                return exp.Literal.number(1)
            return exp.Case(
                ifs=[exp.If(this=exp.and_(*checks), true=exp.Literal.number(1))],
                default=exp.Literal.number(0),
            )
        assert member.sql is not None
        argument = self.expand(member.sql, node, member)
        if condition is not None:
            argument = exp.Case().when(condition, argument)
        return argument


class NeedsGrouping(Exception):
    """An ungrouped query uses a measure that only exists as an aggregate (``SUM(x) / COUNT(*)``)."""

    def __init__(self, member: Member) -> None:
        super().__init__(member.full_name)
        self.member = member
