"""What differs between datasource dialects beyond what sqlglot's generators already handle.

sqlglot transpiles most of the generated tree; the few places where its output would change a result
(MySQL has no DATE_TRUNC, BigQuery weeks start on Sunday, PostgreSQL and MySQL have no approximate
distinct count, MySQL needs a LIMIT before OFFSET …) are rewritten here, on the tree, per dialect.
"""

from __future__ import annotations

from sqlglot import exp

from sqlgate.errors import FEATURE_NOT_SUPPORTED, PgError
from sqlgate.pgproto import oids

TIME_UNITS = ("second", "minute", "hour", "day", "week", "month", "quarter", "year")

# Dialects whose drivers bind parameters with strict types (asyncpg): placeholders get a CAST so the
# server infers exactly the type the value is converted to.
_STRICT_PARAMS = frozenset({"postgres", "trino", "snowflake", "bigquery", "clickhouse"})
_APPROX_DISTINCT = frozenset({"duckdb", "clickhouse", "bigquery", "snowflake", "trino"})


def casts_param(dialect: str, oid: int) -> bool:
    """Whether a placeholder bound as ``oid`` is wrapped in a CAST in ``dialect``."""
    if oid in (oids.TIMESTAMP, oids.TIMESTAMPTZ, oids.DATE):
        return True
    if oid == oids.NUMERIC:
        # Only PostgreSQL's NUMERIC keeps every digit without a declared scale; elsewhere a bare
        # DECIMAL rounds (MySQL to DECIMAL(10,0)), so numbers are bound as they are.
        return dialect == "postgres"
    if dialect in _STRICT_PARAMS:
        return True
    return oid in (oids.TEXT, oids.UNKNOWN) and dialect != "mysql"


def approx_distinct(dialect: str, argument: exp.Expression) -> exp.Expression:
    """An approximate distinct count where the dialect has one, else the exact count."""
    if dialect in _APPROX_DISTINCT:
        return exp.ApproxDistinct(this=argument)
    return exp.Count(this=exp.Distinct(expressions=[argument]))


def time_unit(node: exp.Expression) -> str | None:
    """The lower-case unit of a DATE_TRUNC node (None when it is not a constant)."""
    unit = node.args.get("unit")
    if unit is None:
        return None
    name = unit.name if isinstance(unit, exp.Expression) else str(unit)
    return name.lower() or None


def check_time_unit(unit: str | None) -> str:
    if unit not in TIME_UNITS:
        raise PgError(
            FEATURE_NOT_SUPPORTED,
            f"DATE_TRUNC unit {unit!r} is not supported",
            hint="use one of: " + ", ".join(TIME_UNITS),
        )
    return unit


def _mysql_trunc(value: exp.Expression, unit: str) -> exp.Expression:
    """MySQL/MariaDB truncation to ``unit``, as a DATETIME (weeks start on Monday, as in PostgreSQL)."""

    def fn(name: str, *args: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this=name, expressions=list(args))

    def as_datetime(expression: exp.Expression) -> exp.Expression:
        return exp.Cast(this=expression, to=exp.DataType.build("DATETIME"))

    formats = {
        "second": "%Y-%m-%d %H:%i:%s",
        "minute": "%Y-%m-%d %H:%i:00",
        "hour": "%Y-%m-%d %H:00:00",
        "day": "%Y-%m-%d 00:00:00",
        "month": "%Y-%m-01 00:00:00",
        "year": "%Y-01-01 00:00:00",
    }
    if unit in formats:
        return as_datetime(fn("DATE_FORMAT", value, exp.Literal.string(formats[unit])))
    if unit == "week":
        day = fn("DATE", value)
        return as_datetime(fn("DATE_SUB", day, exp.Interval(this=fn("WEEKDAY", value), unit=exp.var("DAY"))))
    # quarter: first day of the year plus (quarter - 1) quarters
    first_day = fn("MAKEDATE", fn("YEAR", value), exp.Literal.number(1))
    months = exp.Mul(
        this=exp.Paren(this=exp.Sub(this=fn("QUARTER", value), expression=exp.Literal.number(1))),
        expression=exp.Literal.number(3),
    )
    return as_datetime(fn("DATE_ADD", first_day, exp.Interval(this=months, unit=exp.var("MONTH"))))


def truncate_time(value: exp.Expression, unit: str, dialect: str) -> exp.Expression:
    """``DATE_TRUNC(unit, value)`` for ``dialect`` (result: a timestamp without time zone)."""
    if dialect == "mysql":
        return _mysql_trunc(value, unit)
    if dialect == "bigquery" and unit == "week":
        return exp.TimestampTrunc(this=value, unit=exp.WeekStart(this=exp.var("MONDAY")))
    return exp.TimestampTrunc(this=value, unit=exp.var(unit.upper()))


_INTEGER_TYPES = frozenset(
    {
        exp.DataType.Type.BIGINT,
        exp.DataType.Type.INT,
        exp.DataType.Type.SMALLINT,
        exp.DataType.Type.TINYINT,
    }
)
# Dialects where "/" between integers is already an integer division, as in PostgreSQL.
_INTEGER_DIVISION = frozenset({"postgres", "trino"})


def mark_integer_divisions(annotated: exp.Expression, original: exp.Expression) -> None:
    """Flag the divisions of ``original`` whose operands are integers in ``annotated`` (its typed copy).

    PostgreSQL divides integers as integers; the generated SQL must do the same in dialects where
    ``/`` would give a fraction (see :func:`finish_tree`).
    """
    for typed, node in zip(annotated.walk(), original.walk(), strict=False):
        if isinstance(typed, exp.Div) and isinstance(node, exp.Div) and typed.args.get("typed"):
            left, right = typed.this.type, typed.expression.type
            if (
                left is not None
                and right is not None
                and left.this in _INTEGER_TYPES
                and right.this in _INTEGER_TYPES
            ):
                node.meta["int_div"] = True


# A client's CAST(x AS numeric) keeps every digit in PostgreSQL; other dialects round a DECIMAL
# without precision (MySQL to DECIMAL(10,0), DuckDB to DECIMAL(18,3)), so it gets a wide one.
_WIDE_DECIMAL = {"mysql": (65, 30), "bigquery": (76, 38)}
CLIENT_NUMERIC = "sg_client_numeric"


def mark_client_cast(cast: exp.Cast | exp.TryCast) -> None:
    """Remember that a cast was written by the client (see :func:`finish_tree`)."""
    to = cast.args.get("to")
    if isinstance(to, exp.DataType) and to.this == exp.DataType.Type.DECIMAL and not to.expressions:
        to.meta[CLIENT_NUMERIC] = True


def _widen_decimal(node: exp.DataType, dialect: str) -> None:
    precision, scale = _WIDE_DECIMAL.get(dialect, (38, 10))
    node.set(
        "expressions",
        [
            exp.DataTypeParam(this=exp.Literal.number(precision)),
            exp.DataTypeParam(this=exp.Literal.number(scale)),
        ],
    )
    if dialect == "bigquery":
        node.set("this", exp.DataType.Type.BIGDECIMAL)


def _as_double(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DOUBLE:
        return node
    return exp.Cast(this=node, to=exp.DataType(this=exp.DataType.Type.DOUBLE))


def _mysql_precision(tree: exp.Expression) -> None:
    """MySQL keeps only 4 more decimal places in AVG and in divisions (div_precision_increment):
    averages and the client's (PostgreSQL-typed) divisions are computed in double precision."""
    for node in list(tree.find_all(exp.Avg)):
        argument = node.this
        if isinstance(argument, exp.Distinct):
            argument.set("expressions", [_as_double(e) for e in argument.expressions])
        elif argument is not None:
            node.set("this", _as_double(argument))
    for node in list(tree.find_all(exp.Div)):
        if node.args.get("typed") and not node.meta.get("int_div"):
            node.set("this", _as_double(node.this))


def finish_tree(tree: exp.Expression, dialect: str) -> exp.Expression:
    """Last per-dialect rewrites of a generated tree before it becomes text."""
    if dialect == "mysql":
        _mysql_precision(tree)
    if dialect != "postgres":
        for data_type in tree.find_all(exp.DataType):
            if data_type.meta.get(CLIENT_NUMERIC):
                _widen_decimal(data_type, dialect)
    if dialect not in _INTEGER_DIVISION:
        for node in list(tree.find_all(exp.Div)):
            if node.meta.get("int_div"):
                node.replace(exp.IntDiv(this=node.this, expression=node.expression))
    if dialect in ("mysql", "bigquery"):
        for node in list(tree.find_all(exp.TimestampTrunc, exp.DateTrunc, exp.DatetimeTrunc)):
            unit = time_unit(node)
            if unit not in TIME_UNITS or isinstance(node.args.get("unit"), exp.WeekStart):
                continue
            replacement = truncate_time(node.this, unit, dialect)
            if node is tree:
                return replacement
            node.replace(replacement)
    if dialect == "mysql":
        for select in tree.find_all(exp.Select):
            if select.args.get("offset") is not None and select.args.get("limit") is None:
                select.set("limit", exp.Limit(expression=exp.Literal.number("18446744073709551615")))
    return tree
