"""Joins with a grouped subquery that only filter: rewritten as ``IN (SELECT …)``.

BI tools express "top N" and "series limit" filters as an inner join of the cube with a grouped
subquery over the same data::

    SELECT status, SUM(amount) FROM orders
      JOIN (SELECT status AS s, SUM(amount) AS m FROM orders GROUP BY status ORDER BY m DESC LIMIT 5) t
        ON status = t.s                         -- Superset (series limit)
    GROUP BY status

    … INNER JOIN (SELECT … GROUP BY 1 ORDER BY 2 DESC LIMIT 1) "t0"
        ON ("orders"."status" IS NOT DISTINCT FROM "t0"."status")   -- Tableau (Top N filter)

When the subquery yields each join key at most once (it groups by it, or is DISTINCT) and the outer
query reads nothing else of it, the join keeps or drops outer rows and never multiplies them: it is
exactly the filter ``key IN (SELECT t.s FROM (…) t)`` (for ``IS NOT DISTINCT FROM`` also matching a
NULL key when the subquery yields one). Cube queries take such filters, so the statement becomes one
sqlgate can answer, with the same result.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _outputs(sub: exp.Select) -> dict[str, str]:
    """Output names of ``sub``: lower-case -> as spelled."""
    return {p.alias_or_name.lower(): p.alias_or_name for p in sub.expressions if p.alias_or_name}


def _unique_key(sub: exp.Select, key: str) -> bool:
    """Whether output ``key`` of ``sub`` holds each value at most once: the subquery is DISTINCT, or
    groups by exactly that output (by position, output name or the same expression)."""
    distinct = sub.args.get("distinct")
    if distinct is not None and distinct.args.get("on") is None:
        return True
    group = sub.args.get("group")
    names = [p.alias_or_name.lower() for p in sub.expressions]
    if group is None or key not in names or len(group.expressions) != 1:
        return False  # grouped by more than the key: a key may come back several times
    position = names.index(key) + 1
    projection = sub.expressions[position - 1]
    value = projection.this if isinstance(projection, exp.Alias) else projection
    only = group.expressions[0]
    if isinstance(only, exp.Literal) and not only.is_string:
        return only.this == str(position)
    return only == value or (isinstance(only, exp.Column) and not only.table and only.name.lower() == key)


def _split(
    on: exp.Expression, alias: str, outputs: dict[str, str]
) -> tuple[exp.Expression, str, bool] | None:
    """(outer key expression, subquery output name, null-safe) for ``outer = sub.key``, else None."""
    on = _unparen(on)
    if not isinstance(on, exp.EQ | exp.NullSafeEQ):
        return None
    left, right = _unparen(on.this), _unparen(on.expression)

    def sub_key(side: exp.Expression) -> str | None:
        if not isinstance(side, exp.Column):
            return None
        if side.table:
            return side.name.lower() if side.table.lower() == alias.lower() else None
        return side.name.lower() if side.name.lower() in outputs else None

    for outer, inner in ((left, right), (right, left)):
        key = sub_key(inner)
        if key is not None and key in outputs and isinstance(outer, exp.Column) and sub_key(outer) is None:
            return outer, key, isinstance(on, exp.NullSafeEQ)
    return None


def _reads_subquery(node: exp.Select, join: exp.Join, alias: str, outputs: dict[str, str]) -> bool:
    """Whether anything but ``join``'s condition refers to the subquery's alias or outputs."""
    for column in node.find_all(exp.Column):
        if column.find_ancestor(exp.Join) is join:
            continue
        if isinstance(column.this, exp.Star):
            return True
        if column.table and column.table.lower() == alias.lower():
            return True
        if not column.table and column.name.lower() in outputs:
            return True
    return any(isinstance(p, exp.Star) for p in node.expressions)


def semi_joins_as_filters(node: exp.Select, is_cube: Callable[[exp.Expression], bool]) -> exp.Select | None:
    """``node`` with its filtering joins on grouped subqueries turned into ``IN`` filters, or None
    when it has none (see the module docstring for when a join qualifies)."""
    from_ = node.args.get("from_")
    joins = node.args.get("joins") or []
    if from_ is None or not joins or not is_cube(from_.this):
        return None
    filters: list[exp.Expression] = []
    kept: list[exp.Join] = []
    for join in joins:
        condition = _as_filter(node, join)
        if condition is None:
            kept.append(join)
        else:
            filters.append(condition)
    if not filters:
        return None
    result = node.copy()
    result.set("joins", [j.copy() for j in kept] or None)
    where = result.args.get("where")
    combined = exp.and_(*filters, *([where.this] if where is not None else []))
    result.set("where", exp.Where(this=combined))
    return result


def _as_filter(node: exp.Select, join: exp.Join) -> exp.Expression | None:
    target = join.this
    if not isinstance(target, exp.Subquery) or not isinstance(target.this, exp.Select):
        return None
    if join.args.get("side") or join.args.get("method") or join.args.get("using"):
        return None
    if (join.args.get("kind") or "").upper() not in ("", "INNER"):
        return None
    alias_node = target.args.get("alias")
    on = join.args.get("on")
    if alias_node is None or alias_node.columns or on is None:
        return None
    alias = alias_node.name
    sub = target.this
    outputs = _outputs(sub)
    split = _split(on, alias, outputs)
    if split is None:
        return None
    outer, key, null_safe = split
    if not _unique_key(sub, key) or _reads_subquery(node, join, alias, outputs):
        return None
    column = exp.column(outputs[key], table=alias, quoted=True)

    def source() -> exp.Subquery:
        return exp.Subquery(this=sub.copy(), alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))

    values = exp.select(column.copy()).from_(source())
    condition: exp.Expression = exp.In(this=outer.copy(), query=exp.Subquery(this=values))
    if null_safe:
        null_key = (
            exp.select(exp.Literal.number(1))
            .from_(source())
            .where(exp.Is(this=column.copy(), expression=exp.Null()))
        )
        condition = exp.or_(
            condition,
            exp.and_(exp.Is(this=outer.copy(), expression=exp.Null()), exp.Exists(this=null_key)),
        )
    return exp.Paren(this=condition)
